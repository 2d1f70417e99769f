//! The REPL's `:` commands: the table, parsing a command line (unique
//! prefixes as in GHCi, `:t` for `:type`), the nearest command for a typo,
//! and `:train`'s arguments (the flags of `dp train`).
//!
//! This module only parses; `mod.rs` carries the commands out.

use clap::{ArgMatches, Args, FromArgMatches};

use crate::app::args::TrainArgs;

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Type(String),
    Load(String),
    Reload,
    Browse,
    Params,
    Train(String),
    Plot(String),
    Weights(String),
    Save(String),
    Help,
    Quit,
}

/// Name, argument, description; in the order a prefix is resolved.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("type", "EXPR", "show the type of an expression (also :t)"),
    ("load", "FILE", "start afresh with FILE and its imports"),
    (
        "reload",
        "",
        "read the loaded file again, keeping this session's definitions",
    ),
    ("browse", "", "list the names in scope with their types"),
    (
        "params",
        "",
        "list learned pieces and params: shapes and parameter counts",
    ),
    (
        "train",
        "ARGS",
        "train with the flags of `dp train` (e.g. --data FILE --epochs N)",
    ),
    (
        "plot",
        "FILE",
        "draw the training curves of this session's `:train` runs into an SVG file",
    ),
    ("weights", "W", "load weights from a safetensors file"),
    (
        "save",
        "W",
        "save the session's weights to a safetensors file",
    ),
    ("help", "", "show this list"),
    ("quit", "", "leave the REPL (also Ctrl-D)"),
];

/// Parse a line starting with `:`. The error is the message to show.
pub fn parse(line: &str) -> Result<Command, String> {
    let body = line.trim().trim_start_matches(':');
    let (word, rest) = match body.find(char::is_whitespace) {
        Some(i) => (&body[..i], body[i..].trim()),
        None => (body, ""),
    };
    let Some(name) = resolve(word) else {
        return Err(unknown(word));
    };
    let need = |what: &str| -> Result<String, String> {
        if rest.is_empty() {
            Err(format!("`:{name}` needs {what}: `:{name} {what}`"))
        } else {
            Ok(rest.to_string())
        }
    };
    Ok(match name {
        "type" => Command::Type(need("EXPR")?),
        "load" => Command::Load(unquote(&need("FILE")?)),
        "reload" => Command::Reload,
        "browse" => Command::Browse,
        "params" => Command::Params,
        "train" => Command::Train(rest.to_string()),
        "plot" => Command::Plot(unquote(&need("FILE")?)),
        "weights" => Command::Weights(unquote(&need("W")?)),
        "save" => Command::Save(unquote(&need("W")?)),
        "help" => Command::Help,
        _ => Command::Quit,
    })
}

/// The command a word names: exact, an alias, or the first with that prefix.
fn resolve(word: &str) -> Option<&'static str> {
    match word {
        "t" => return Some("type"),
        "q" => return Some("quit"),
        "?" | "h" => return Some("help"),
        "" => return None,
        _ => {}
    }
    COMMANDS
        .iter()
        .map(|(n, _, _)| *n)
        .find(|n| n.starts_with(word))
}

fn unknown(word: &str) -> String {
    let best = COMMANDS
        .iter()
        .map(|(n, _, _)| (edit_distance(word, n), *n))
        .min();
    match best {
        Some((d, n)) if d <= 3 && !word.is_empty() => {
            format!("unknown command `:{word}`; did you mean `:{n}`?")
        }
        _ => format!("unknown command `:{word}`; `:help` lists the commands"),
    }
}

/// Levenshtein distance (characters).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The `:help` text.
pub fn help() -> String {
    let mut s = String::from(
        "Type an expression to evaluate it (`value : Type`), or a declaration\n\
         (def, rep, type, vocab, learn, param, import) to add it to the session;\n\
         a name defined again replaces the old one. Commands:\n",
    );
    for (name, arg, what) in COMMANDS {
        let head = format!(":{name} {arg}");
        s.push_str(&format!("  {head:<16} {what}\n"));
    }
    s.push_str("An input goes on over several lines while brackets are open or a line ends in\n");
    s.push_str("=, ->, in, then or else; an empty line ends it.\n");
    s.push_str("Commands may be shortened to a prefix (:t, :b, :r). Ctrl-C cancels a line or a\n");
    s.push_str("running :train (after the current epoch); Ctrl-D quits.\n");
    s
}

/// Split arguments as a shell would (white space, '…' and "…" quotes, `\`).
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\\') if c == '"' => cur.extend(chars.next()),
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed {c} quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn unquote(text: &str) -> String {
    match split_words(text) {
        Ok(words) if words.len() == 1 => words.into_iter().next().unwrap_or_default(),
        _ => text.to_string(),
    }
}

/// Parse `:train`'s arguments with `dp train`'s clap definition. The FILE
/// positional of `dp train` is the session itself: it is hidden, filled in,
/// and giving one is an error. `--help` comes back as the error text.
pub fn train_args(text: &str) -> Result<TrainArgs, String> {
    let words = split_words(text)?;
    let cmd = TrainArgs::augment_args(clap::Command::new(":train"))
        .no_binary_name(true)
        .disable_version_flag(true)
        .mut_arg("file", |a| {
            a.required(false).hide(true).default_value(SESSION_FILE)
        });
    let matches: ArgMatches = cmd
        .try_get_matches_from(words)
        .map_err(|e| e.render().to_string().trim_end().to_string())?;
    let args = TrainArgs::from_arg_matches(&matches).map_err(|e| e.to_string())?;
    if args.file.as_os_str() != SESSION_FILE {
        return Err(format!(
            "`:train` trains the session; it takes no file (found `{}`)",
            args.file.display()
        ));
    }
    Ok(args)
}

const SESSION_FILE: &str = "<session>";

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn commands_and_prefixes() {
        assert_eq!(parse(":t 1 + 2"), Ok(Command::Type("1 + 2".into())));
        assert_eq!(parse(":type x"), Ok(Command::Type("x".into())));
        assert_eq!(parse(":tr --data d"), Ok(Command::Train("--data d".into())));
        assert_eq!(parse(":r"), Ok(Command::Reload));
        assert_eq!(parse(":b"), Ok(Command::Browse));
        assert_eq!(parse(":q"), Ok(Command::Quit));
        assert_eq!(parse(":save 'a b.st'"), Ok(Command::Save("a b.st".into())));
        assert!(parse(":brose")
            .unwrap_err()
            .contains("did you mean `:browse`"));
        assert!(parse(":weights").unwrap_err().contains("needs W"));
        assert!(parse(":").is_err());
        assert!(parse(":zzzzzzzzzz").unwrap_err().contains(":help"));
    }

    #[test]
    fn train_flags() {
        let a = train_args("--data d.jsonl --epochs 3 --lr 0.1").unwrap();
        assert_eq!(a.epochs, 3);
        assert_eq!(a.data, PathBuf::from("d.jsonl"));
        assert!(train_args("").is_err());
        assert!(train_args("--data d.jsonl x.dp").is_err());
        assert!(train_args("--data d.jsonl --epochs many").is_err());
        assert!(train_args("--data 'a b'").is_ok());
    }

    #[test]
    fn words() {
        assert_eq!(split_words(r#"a "b c" d\ e"#).unwrap(), ["a", "b c", "d e"]);
        assert!(split_words("'x").is_err());
    }
}
