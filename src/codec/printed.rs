//! A printed value: JSON whose reals may be non-finite (spec section 11.6:
//! `Infinity`, `-Infinity` and `NaN`, as Python's `json` writes them), and
//! the reading side of the same three tokens.
//!
//! `serde_json::Value` cannot hold a non-finite number, so the encoder
//! builds [`Printed`] and [`Printed::to_json_text`] writes it, using
//! serde_json for every finite number and string. For input, [`prepare`]
//! turns the three bare tokens of a data line into marker strings that
//! serde_json parses and [`nonfinite`] recognises where a real is expected.

use std::borrow::Cow;

/// One example's value as printed.
#[derive(Clone, Debug, PartialEq)]
pub enum Printed {
    Bool(bool),
    Int(i64),
    /// Any f32, printed in its shortest round-tripping form.
    Real(f32),
    Str(String),
    List(Vec<Printed>),
    /// Keys in order (scores by symbol, `{"leaf": ...}`).
    Object(Vec<(String, Printed)>),
    /// A value that is missing (never printed by a well-typed program).
    Null,
}

/// The printed names of the non-finite reals.
const NAMES: [(&str, f32); 3] = [
    ("NaN", f32::NAN),
    ("Infinity", f32::INFINITY),
    ("-Infinity", f32::NEG_INFINITY),
];

/// The marker a token becomes in [`prepare`]; a NUL cannot appear in a
/// data line's strings unless written `\u0000`, which [`prepare`] refuses.
const MARK: char = '\0';

impl Printed {
    /// Compact JSON text (section 8), non-finite reals as section 11.6 says.
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Printed::Null => out.push_str("null"),
            Printed::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Printed::Int(i) => out.push_str(&i.to_string()),
            Printed::Real(x) => out.push_str(&real_text(*x)),
            Printed::Str(s) => out.push_str(&string_text(s)),
            Printed::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Printed::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&string_text(key));
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn string_text(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The shortest decimal that reads back as the same f32 (so 0.1f32 prints
/// as 0.1), written as serde_json writes that f64; `-0.0` prints as `0.0`
/// (a sum over nothing may come out as -0.0).
fn real_text(x: f32) -> String {
    if let Some((name, _)) = NAMES.iter().find(|(_, v)| same(*v, x)) {
        return name.to_string();
    }
    let x = if x == 0.0 { 0.0 } else { x };
    let shortest: f64 = format!("{x}").parse().unwrap_or(x as f64);
    serde_json::to_string(&shortest).unwrap_or_else(|_| "null".into())
}

/// Equal, with NaN equal to NaN.
fn same(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// A data line with its bare `NaN`, `Infinity` and `-Infinity` tokens
/// (outside strings) turned into marker strings, and whether any were. A
/// line that holds an escaped NUL is left as it is (its markers could not
/// be told from its strings): a non-finite token in it stays invalid JSON.
pub fn prepare(line: &str) -> (Cow<'_, str>, bool) {
    if line.contains("\\u0000") || !NAMES.iter().any(|(n, _)| line.contains(n)) {
        return (Cow::Borrowed(line), false);
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut in_string = false;
    let mut escaped = false;
    let mut changed = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if let Some((name, _)) = NAMES.iter().rev().find(|(n, _)| token_at(rest, n, &out)) {
            out.push_str(&format!("\"{}{name}\"", "\\u0000"));
            rest = &rest[name.len()..];
            changed = true;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    (Cow::Owned(out), changed)
}

/// `rest` starts with the token `name`, standing alone (not part of a
/// longer word such as `NaNa`).
fn token_at(rest: &str, name: &str, before: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
    rest.starts_with(name) && !rest[name.len()..].starts_with(word) && !before.ends_with(word)
}

/// The non-finite real a marker string (made by [`prepare`]) stands for.
pub fn nonfinite(s: &str) -> Option<f32> {
    let name = s.strip_prefix(MARK)?;
    NAMES.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expect: &str) {
        let (prepared, changed) = prepare(line);
        assert_eq!(prepared, expect, "{line}");
        assert_eq!(changed, line != expect, "{line}");
    }

    #[test]
    fn tokens_outside_strings_become_markers() {
        check("[NaN, 1]", r#"["\u0000NaN", 1]"#);
        check(
            "[Infinity,-Infinity]",
            r#"["\u0000Infinity","\u0000-Infinity"]"#,
        );
        check(r#"{"a": NaN}"#, r#"{"a": "\u0000NaN"}"#);
        check(
            r#"["NaN", "x Infinity", "\"NaN"]"#,
            r#"["NaN", "x Infinity", "\"NaN"]"#,
        );
        check("[NaNa, xNaN, Infinityx]", "[NaNa, xNaN, Infinityx]");
        check(r#"["\u0000", NaN]"#, r#"["\u0000", NaN]"#);
        check("[1, 2]", "[1, 2]");
    }

    #[test]
    fn markers_read_back_and_reals_print() {
        for (name, v) in NAMES {
            let json: serde_json::Value =
                serde_json::from_str(&prepare(name).0).expect("a marker string");
            let back = nonfinite(json.as_str().expect("a string")).expect("a marker");
            assert!(same(back, v));
            assert_eq!(real_text(v), name);
        }
        assert_eq!(nonfinite("NaN"), None);
        let printed = Printed::List(vec![
            Printed::Real(0.1),
            Printed::Real(-0.0),
            Printed::Real(1e20),
            Printed::Object(vec![("a\"b".into(), Printed::Real(f32::NAN))]),
            Printed::Str("é".into()),
            Printed::Int(-3),
            Printed::Bool(true),
            Printed::Null,
        ]);
        assert_eq!(
            printed.to_json_text(),
            r#"[0.1,0.0,1e+20,{"a\"b":NaN},"é",-3,true,null]"#
        );
    }
}
