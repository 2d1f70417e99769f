//! Diagnostics as data, and the one place that renders them (with ariadne).
//!
//! Every stage reports problems as [`Diagnostic`] values with a stable
//! [`Code`]; nothing outside this module formats an error for a user.
//! Spans are byte offsets (`ariadne::IndexType::Byte`). Colour is decided by
//! the caller (on only for a terminal).

use crate::source::{SourceMap, Span};

/// Stable diagnostic codes. The numbering is documented in
/// `docs/diagnostics.md`; codes are never reused for another meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    // E00xx: lexical and syntax
    /// A character that starts no token.
    UnknownCharacter,
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A bad escape in a string literal.
    BadEscape,
    /// A number literal that does not fit or is malformed.
    BadNumber,
    /// The parser met a token it did not expect.
    UnexpectedToken,
    /// The input ended in the middle of a construct.
    UnexpectedEnd,
    /// Nesting deeper than the implementation limit.
    TooDeep,
    // E01xx: names and modules
    /// A name used but never defined.
    UnknownName,
    /// A type, rep or vocabulary name used but never defined.
    UnknownType,
    /// A name defined twice in one scope.
    DuplicateName,
    /// Definitions that refer to each other in a cycle.
    RecursiveDefinition,
    /// `import` of a module or file that cannot be found or read.
    ImportNotFound,
    /// Imports that import each other.
    ImportCycle,
    /// A duplicate symbol in a closed vocabulary, or an empty one.
    BadVocabulary,
    /// The same variable bound twice in one pattern.
    DuplicateBinding,
    // E02xx: types
    /// Two types that must be equal are not.
    TypeMismatch,
    /// Two reps with possibly the same shape mixed up (nominal reps).
    RepMismatch,
    /// A type that would have to contain itself.
    InfiniteType,
    /// Arithmetic on a type that is not a representation type.
    NotRepresentation,
    /// A function applied to too many arguments / a non-function applied.
    NotAFunction,
    /// A tensor shape that does not fit (`@`, literals, concat).
    ShapeMismatch,
    /// A `Window[..]` used wrongly (e.g. windowMap with an unknown size).
    BadWindow,
    /// A `learn` or `param` declaration that section 7 does not allow.
    BadLearnedPiece,
    /// A malformed type expression (wrong arity, bad dimension).
    BadTypeExpr,
    /// A type that cannot be determined (e.g. a string whose vocabulary is unknown).
    AmbiguousType,
    /// A symbol that is not in a closed vocabulary.
    UnknownSymbol,
    /// A comparison on values that cannot be compared.
    NotComparable,
    /// A type annotation that is more general than the definition.
    AnnotationTooGeneral,
    /// A program has no `main` (for `dp run` without `--eval`).
    NoMain,
    /// A data structure holding functions, which the runtime cannot batch.
    UnsupportedType,
    /// An `objective` declaration naming a def that is not an objective or
    /// a piece that is not learned (spec 11.2).
    BadObjective,
    /// A warning: a learned piece no objective of a `dp train` run updates.
    PieceNotUpdated,
    // E03xx: run time
    /// A run-time error at a source position (empty `last`, ragged grid, ...).
    RuntimeError,
    // E04xx: data and weights
    /// A data line that does not match the expected type.
    BadData,
    /// A weights file that does not match the program.
    BadWeights,
    /// A file that cannot be read or written.
    Io,
}

impl Code {
    /// The stable code printed in brackets, e.g. `E0201`.
    /// A warning, not an error: reported, and the command goes on.
    pub fn is_warning(self) -> bool {
        self.as_str().starts_with('W')
    }

    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            UnknownCharacter => "E0001",
            UnterminatedString => "E0002",
            BadEscape => "E0003",
            BadNumber => "E0004",
            UnexpectedToken => "E0005",
            UnexpectedEnd => "E0006",
            TooDeep => "E0007",
            UnknownName => "E0101",
            UnknownType => "E0102",
            DuplicateName => "E0103",
            RecursiveDefinition => "E0104",
            ImportNotFound => "E0105",
            ImportCycle => "E0106",
            BadVocabulary => "E0107",
            DuplicateBinding => "E0108",
            TypeMismatch => "E0201",
            RepMismatch => "E0202",
            InfiniteType => "E0203",
            NotRepresentation => "E0204",
            NotAFunction => "E0205",
            ShapeMismatch => "E0206",
            BadWindow => "E0207",
            BadLearnedPiece => "E0208",
            BadTypeExpr => "E0209",
            AmbiguousType => "E0210",
            UnknownSymbol => "E0211",
            NotComparable => "E0212",
            AnnotationTooGeneral => "E0213",
            NoMain => "E0214",
            UnsupportedType => "E0215",
            BadObjective => "E0216",
            PieceNotUpdated => "W0301",
            RuntimeError => "E0301",
            BadData => "E0401",
            BadWeights => "E0402",
            Io => "E0403",
        }
    }
}

/// A secondary or primary label: a span and what to say at it.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem, with everything needed to render it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    /// The headline: one sentence, no trailing period.
    pub message: String,
    /// Where the problem is. `None` only for errors with no source position
    /// (a missing file given on the command line, a data error, which carries
    /// its location in the message).
    pub primary: Option<Label>,
    /// Other places worth showing.
    pub secondary: Vec<Label>,
    /// `note:` lines.
    pub notes: Vec<String>,
    /// A `help:` line.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// The main label.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Diagnostics with the sources they point into: what a stage that reads
/// programs, data or weights returns when it fails, rendered by [`render`].
#[derive(Clone, Debug)]
pub struct Failure {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl Failure {
    /// One diagnostic without sources (it points at none).
    pub fn plain(d: Diagnostic) -> Failure {
        Failure {
            sources: SourceMap::new(),
            diagnostics: vec![d],
        }
    }

    /// One diagnostic pointing into `sources`.
    pub fn with(sources: &SourceMap, d: Diagnostic) -> Failure {
        Failure {
            sources: sources.clone(),
            diagnostics: vec![d],
        }
    }
}

/// The closest candidate by edit distance, if close enough to be a typo.
pub fn suggest(name: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    let limit = match name.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let len = name.chars().count();
    let mut best: Option<(usize, String)> = None;
    for c in candidates {
        // The distance is at least the difference of the lengths: most
        // candidates need no table.
        if c == name || c.chars().count().abs_diff(len) > limit {
            continue;
        }
        let d = edit_distance(name, &c);
        let better = best
            .as_ref()
            .is_none_or(|(bd, bc)| d < *bd || (d == *bd && c < *bc));
        if d <= limit && better {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance with adjacent transpositions (optimal string alignment):
/// `tahn` is one edit from `tanh`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Render diagnostics for a user. `color` should be true only on a terminal.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let mut out = Vec::new();
    for d in diagnostics.iter().take(MAX_RENDERED) {
        render_one(&clipped(d), sources, color, &mut out);
    }
    if let Some(rest) = diagnostics
        .len()
        .checked_sub(MAX_RENDERED)
        .filter(|&n| n > 0)
    {
        let line = format!(
            "... and {rest} more diagnostic{} (the first {MAX_RENDERED} are shown; fix these first)\n",
            if rest == 1 { "" } else { "s" }
        );
        out.extend_from_slice(line.as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The longest message, label, note or help shown whole, in characters.
const MAX_MESSAGE: usize = 400;

/// `d` with every text longer than [`MAX_MESSAGE`] cut in the middle, its
/// first and last parts kept around a count of what is left out: a name
/// or symbol of a megabyte is quoted in its messages, which printed it
/// whole (twice), and a data error's JSON path may be millions of
/// characters before the reason at its end.
fn clipped(d: &Diagnostic) -> Diagnostic {
    fn clip(s: &str) -> String {
        let n = s.chars().count();
        if n <= MAX_MESSAGE {
            return s.to_string();
        }
        let half = MAX_MESSAGE / 2;
        let byte = |k: usize| s.char_indices().nth(k).map_or(s.len(), |(i, _)| i);
        let (head, tail) = (byte(half), byte(n - half));
        let cut = n - 2 * half;
        format!("{}… ({cut} more characters) …{}", &s[..head], &s[tail..])
    }
    let mut d = d.clone();
    d.message = clip(&d.message);
    for l in d.primary.iter_mut().chain(d.secondary.iter_mut()) {
        l.message = clip(&l.message);
    }
    d.notes = d.notes.iter().map(|n| clip(n)).collect();
    d.help = d.help.as_deref().map(clip);
    d
}

/// Diagnostics shown at once: a program with thousands of errors shows
/// the first ones and a count of the rest, as bad data lines do.
pub const MAX_RENDERED: usize = 20;

fn render_one(d: &Diagnostic, sources: &SourceMap, color: bool, out: &mut Vec<u8>) {
    use ariadne::{Config, IndexType, Label as ALabel, Report, ReportKind};
    let Some(primary) = d
        .primary
        .as_ref()
        .filter(|l| sources.get(l.span.source).is_some())
    else {
        render_plain(d, out);
        return;
    };
    let labels = std::iter::once(primary).chain(&d.secondary);
    if labels
        .clone()
        .any(|l| line_len(sources, l.span) > MAX_SHOWN_LINE)
    {
        render_long_lines(d, sources, out);
        return;
    }
    let name = |span: Span| {
        sources
            .get(span.source)
            .map_or(String::new(), |f| f.name.clone())
    };
    let clamp = |span: Span| {
        let len = sources.get(span.source).map_or(0, |f| f.text.len());
        let s = (span.start as usize).min(len);
        let e = (span.end as usize).min(len).max(s);
        (name(span), s..e)
    };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte);
    let kind = if d.code.is_warning() {
        ReportKind::Warning
    } else {
        ReportKind::Error
    };
    let mut report = Report::build(kind, clamp(primary.span))
        .with_config(config)
        .with_code(d.code.as_str())
        .with_message(&d.message)
        .with_label(
            ALabel::new(clamp(primary.span))
                .with_message(&primary.message)
                .with_order(0),
        );
    for (i, l) in d.secondary.iter().enumerate() {
        if sources.get(l.span.source).is_some() {
            report = report.with_label(
                ALabel::new(clamp(l.span))
                    .with_message(&l.message)
                    .with_order(i as i32 + 1),
            );
        }
    }
    for n in &d.notes {
        report = report.with_note(n);
    }
    if let Some(h) = &d.help {
        report = report.with_help(h);
    }
    // Only the files the labels point into: ariadne indexes the lines of
    // every file it is given (a REPL session holds the stdlib and every
    // line entered so far; this was most of the time of a diagnostic).
    let mut ids: Vec<_> = std::iter::once(primary)
        .chain(&d.secondary)
        .map(|l| l.span.source)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let cache = ariadne::sources(
        ids.iter()
            .filter_map(|&id| sources.get(id))
            .map(|f| (f.name.clone(), f.text.clone())),
    );
    if report.finish().write(cache, &mut *out).is_err() {
        render_plain(d, out);
    }
}

/// Source lines longer than this are not printed whole (a generated
/// program of one line of megabytes): the diagnostic gives the position and
/// an excerpt around each label instead.
const MAX_SHOWN_LINE: usize = 400;

/// The length of the source line holding `span`'s start.
fn line_len(sources: &SourceMap, span: Span) -> usize {
    let Some(f) = sources.get(span.source) else {
        return 0;
    };
    let at = char_start(&f.text, span.start as usize);
    let start = f.text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = f.text[at..].find('\n').map_or(f.text.len(), |i| at + i);
    end - start
}

/// A diagnostic whose lines are too long to print: each label as
/// `file:line:col: message`, with an excerpt of at most 60 characters each
/// side of its start.
fn render_long_lines(d: &Diagnostic, sources: &SourceMap, out: &mut Vec<u8>) {
    use std::io::Write;
    let kind = if d.code.is_warning() {
        "Warning"
    } else {
        "Error"
    };
    let _ = writeln!(out, "{kind}[{}]: {}", d.code.as_str(), d.message);
    for l in d.primary.iter().chain(&d.secondary) {
        let Some(f) = sources.get(l.span.source) else {
            continue;
        };
        let at = char_start(&f.text, l.span.start as usize);
        let before = &f.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = f.text[line_start..at].chars().count() + 1;
        let from = before
            .char_indices()
            .rev()
            .take(60)
            .last()
            .map_or(at, |(i, _)| i)
            .max(line_start);
        let rest = &f.text[at..];
        let upto = rest
            .char_indices()
            .take(60)
            .last()
            .map_or(at, |(i, c)| at + i + c.len_utf8());
        let upto = rest.find('\n').map_or(upto, |n| upto.min(at + n));
        let excerpt = format!(
            "{}{}{}",
            if from > line_start { "…" } else { "" },
            &f.text[from..upto],
            if upto < f.text.len() && !f.text[upto..].starts_with('\n') {
                "…"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "  --> {}:{line}:{col}: {}", f.name, l.message);
        let _ = writeln!(out, "      {excerpt}");
    }
    for n in &d.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "  help: {h}");
    }
}

/// `at` clamped into `text` and moved back to a character boundary (a span
/// is never expected to split a character; slicing there would panic).
fn char_start(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn render_plain(d: &Diagnostic, out: &mut Vec<u8>) {
    use std::io::Write;
    let kind = if d.code.is_warning() {
        "Warning"
    } else {
        "Error"
    };
    let _ = writeln!(out, "{kind}[{}]: {}", d.code.as_str(), d.message);
    for n in &d.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "  help: {h}");
    }
}
