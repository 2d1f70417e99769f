//! `dp lower`'s text: a network as numbered ops, each module with its
//! cells indented below it, shapes beside types, and parameter counts of
//! the learned pieces (each counted once however often it is used).

use std::collections::BTreeMap;

use super::gather::Packing;
use super::{Cell, Hoisted, Network, Op, Operand};
use crate::ir::pretty::pretty;
use crate::ir::ty::{Type, TypeTable};
use crate::ir::{Builtin, Program};

/// Where the notes on learned pieces start.
const NOTE_COLUMN: usize = 60;

/// The network as `dp lower` prints it.
pub fn print_network(program: &Program, net: &Network) -> String {
    let mut p = Printer::new(program);
    let own: Vec<String> = net
        .body
        .inputs
        .iter()
        .map(|i| format!("{} : {}", i.name, pretty(&i.ty)))
        .collect();
    let result = &net.result;
    let header = if own.is_empty() {
        format!("{} : {}", net.name, p.ty(result))
    } else {
        format!("{} ({}) : {}", net.name, own.join(", "), p.ty(result))
    };
    p.out.push_str(&header);
    p.out.push('\n');
    p.cell(&net.body, 1, None);
    p.parameters();
    if !net.body.executable() {
        let why = "runs on the evaluator: it applies a function the lowering could not follow";
        p.line(1, why, None);
    }
    p.out
}

pub(super) struct Printer<'t> {
    program: &'t Program,
    types: &'t TypeTable,
    learned: &'t [crate::ir::LearnedPiece],
    out: String,
    /// Learned pieces and params used: name -> (fixed count, per-symbol
    /// count and its vocabulary).
    pieces: BTreeMap<String, (usize, Option<(usize, String)>)>,
}

impl<'t> Printer<'t> {
    pub(super) fn new(program: &'t Program) -> Printer<'t> {
        Printer {
            program,
            types: &program.types,
            learned: &program.learned,
            out: String::new(),
            pieces: BTreeMap::new(),
        }
    }

    /// A type with its tensor shape where the name hides it.
    pub(super) fn ty(&self, ty: &Type) -> String {
        let shown = pretty(ty);
        match ty {
            Type::Rep(_) | Type::Scores(_) | Type::Window(..) => match self.types.shape(ty) {
                Some(dims) => format!("{shown} [{}]", join(&dims)),
                None => format!("{shown} [|{}|]", vocab_of(ty)),
            },
            _ => shown,
        }
    }

    fn line(&mut self, depth: usize, text: &str, note: Option<String>) {
        let indent = "  ".repeat(depth);
        let mut line = format!("{indent}{text}");
        if let Some(n) = note {
            let pad = NOTE_COLUMN.saturating_sub(line.chars().count()).max(2);
            line.push_str(&" ".repeat(pad));
            line.push_str(&n);
        }
        self.out.push_str(line.trim_end());
        self.out.push('\n');
    }

    /// The ops of `cell`; `packing`: of a TreeNet's node cell, the affine
    /// map its children's states are gathered into (`lower::gather`).
    fn cell(&mut self, cell: &Cell, depth: usize, packing: Option<&Packing>) {
        for (i, node) in cell.nodes.iter().enumerate() {
            node.args.iter().for_each(|a| self.pieces_passed(a));
            let args: Vec<String> = node.args.iter().map(|a| operand(cell, a)).collect();
            let args = if args.is_empty() {
                String::new()
            } else {
                format!(" {}", args.join(" "))
            };
            let ty = self.ty(&node.ty);
            match &node.op {
                Op::Module(m) => {
                    let head = match m.combinator {
                        Some(b) => format!(
                            "%{i} = {} ({} {}){args} : {ty}",
                            m.kind.name(),
                            b.name(),
                            m.function
                        ),
                        None => format!("%{i} = {}{args} : {ty}", m.kind.name()),
                    };
                    // An unrolled module's invariant work moves whatever
                    // the batch; an RNN's only up to the bound.
                    let hoists = m.kind == super::ModuleKind::Rnn
                        && (m.cells.iter())
                            .any(|(_, c)| c.nodes.iter().any(|n| n.hoisted != Hoisted::No));
                    // A fold whose hoisted loop is one affine map and
                    // activation of the state runs as one op, whatever
                    // the batch.
                    let whole = m.combinator == Some(Builtin::Fold)
                        && (m.cells.iter()).all(|(_, c)| {
                            let plan = super::hoist::cell_plan(self.program, c);
                            super::hoist::whole_recurrence(c, &plan)
                        });
                    let note = match (hoists, whole) {
                        (_, true) => Some("hoisted; the loop one recurrence op".to_string()),
                        (true, false) => Some(format!(
                            "hoisted over minibatches of at most {} examples",
                            super::hoist::MAX_HOIST_BATCH
                        )),
                        _ => None,
                    };
                    // A module inside a recurrent cell that reads only the
                    // element runs once on all elements before the loop.
                    let note = match node.hoisted {
                        Hoisted::Whole => Some(with_note(note, "before the loop")),
                        _ => note,
                    };
                    self.line(depth, &head, note);
                    for (name, c) in &m.cells {
                        let inputs: Vec<String> = c
                            .inputs
                            .iter()
                            .enumerate()
                            .map(|(k, i)| {
                                let mark = if c.is_captured(k) { "captured " } else { "" };
                                format!("{mark}{} : {}", i.name, pretty(&i.ty))
                            })
                            .collect();
                        self.line(depth + 2, &format!("{name} ({})", inputs.join(", ")), None);
                        let packing = (m.combinator == Some(Builtin::Cata) && name == "node")
                            .then(|| super::gather::packed_children(c))
                            .flatten();
                        self.cell(c, depth + 3, packing.as_ref());
                    }
                }
                op => {
                    let (what, note) = self.op(op);
                    let note = match (node.hoisted, note) {
                        (Hoisted::No, n) => n,
                        (Hoisted::Whole, n) => Some(with_note(n, "before the loop")),
                        (Hoisted::Split, n) => Some(with_note(n, "element half before the loop")),
                        (Hoisted::Fused, n) => Some(with_note(n, "fused with the product")),
                    };
                    let note = match packing {
                        Some(p) if p.node == i => {
                            Some(with_note(note, "children gathered into its input"))
                        }
                        _ => note,
                    };
                    let note = match node.exec {
                        super::Exec::Absorbed(j) => {
                            Some(with_note(note, &format!("fused into %{j}")))
                        }
                        _ => note,
                    };
                    self.line(depth, &format!("%{i} = {what}{args} : {ty}"), note);
                }
            }
        }
        let out = operand(cell, &cell.output);
        self.line(depth, &format!("= {out}"), None);
    }

    /// An op's name and its note (parameters), recording the piece.
    pub(super) fn op(&mut self, op: &Op) -> (String, Option<String>) {
        match op {
            Op::Embedding { piece, vocab, dim } => {
                let symbols = self
                    .types
                    .vocabs
                    .get(vocab)
                    .and_then(|v| v.symbols.as_ref())
                    .map(|s| s.len());
                let note = match symbols {
                    Some(n) => {
                        self.pieces.insert(piece.clone(), (n * dim, None));
                        format!("embedding {n} x {dim}, {} parameters", count(n * dim))
                    }
                    None => {
                        self.pieces
                            .insert(piece.clone(), (0, Some((*dim, vocab.to_string()))));
                        format!("embedding |{vocab}| x {dim}, {dim} per symbol")
                    }
                };
                (format!("embedding {piece}"), Some(note))
            }
            Op::Affine {
                piece,
                input,
                outputs,
            } => {
                let known: usize = outputs.iter().flatten().sum();
                let open = outputs.iter().any(Option::is_none);
                let fixed = (input + 1) * known;
                let outs: Vec<String> = outputs
                    .iter()
                    .map(|o| o.map_or("|V|".to_string(), |n| n.to_string()))
                    .collect();
                let mut note = format!(
                    "affine {input} -> {}, {} parameters",
                    outs.join(" + "),
                    count(fixed)
                );
                let per = open.then(|| (input + 1, "the scored vocabulary".to_string()));
                if open {
                    note.push_str(&format!(" + {} per symbol", input + 1));
                }
                self.pieces.insert(piece.clone(), (fixed, per));
                (format!("affine {piece}"), Some(note))
            }
            Op::Param { name, size } => {
                let n = size.unwrap_or(0);
                self.pieces.insert(name.clone(), (n, None));
                (
                    format!("param {name}"),
                    Some(format!("{} parameter{}", count(n), plural(n))),
                )
            }
            Op::Prim(name) => (name.clone(), None),
            Op::Module(_) => (String::new(), None),
        }
    }

    /// Records the learned pieces an operand passes as functions (`f` or a
    /// list `[f.0, f.1]` that no module took), so the parameter count
    /// holds them.
    pub(super) fn pieces_passed(&mut self, o: &Operand) {
        let Operand::Function(text) = o else {
            return;
        };
        let learned = self.learned;
        for name in text.trim_matches(['[', ']']).split(", ") {
            if let Some(piece) = learned.iter().find(|l| l.name == name) {
                self.op(&Op::of_piece(piece));
            }
        }
    }

    fn parameters(&mut self) {
        let line = self.parameter_count();
        self.line(1, &line, None);
    }

    /// `parameters: 25,898 (4 learned pieces)`, for the pieces seen so far.
    pub(super) fn parameter_count(&self) -> String {
        let fixed: usize = self.pieces.values().map(|(n, _)| n).sum();
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for (_, p) in self.pieces.values() {
            if let Some((n, v)) = p {
                *per.entry(v.clone()).or_default() += n;
            }
        }
        let n = self.pieces.len();
        if n == 0 {
            return "parameters: none".to_string();
        }
        let mut line = format!(
            "parameters: {} ({n} learned piece{})",
            count(fixed),
            if n == 1 { "" } else { "s" }
        );
        for (v, n) in per {
            line.push_str(&format!(", + {n} per symbol of {v}"));
        }
        line
    }
}

/// A note with `what` added (`; `-separated).
fn with_note(note: Option<String>, what: &str) -> String {
    match note {
        Some(n) => format!("{n}; {what}"),
        None => what.to_string(),
    }
}

pub(super) fn operand(cell: &Cell, o: &Operand) -> String {
    match o {
        Operand::Input(i) => cell.inputs.get(*i).map_or("?".into(), |x| x.name.clone()),
        Operand::Node(i) => format!("%{i}"),
        Operand::Literal(t) => t.text.clone(),
        Operand::Tuple(parts) => {
            let ps: Vec<String> = parts.iter().map(|p| operand(cell, p)).collect();
            format!("({})", ps.join(", "))
        }
        Operand::Function(name) => format!("<function {name}>"),
        Operand::Unit => "()".into(),
    }
}

fn vocab_of(ty: &Type) -> String {
    match ty {
        Type::Scores(v) => pretty(v),
        Type::Window(_, t) => vocab_of(t),
        _ => "?".into(),
    }
}

fn join(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// 6208 as "6,208".
fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
