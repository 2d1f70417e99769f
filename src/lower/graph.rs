//! `dp graph`: the network a def lowers to as a picture. [`network_dot`]
//! writes Graphviz DOT: inputs as ellipses, ops as boxes (learned pieces
//! with their parameter counts), each module as a cluster holding its
//! cells, edges labelled with the representation (and shape) flowing along
//! them, and a recurrence's loop as a dashed edge from its cell's result
//! back to its state. [`network_svg`] lays the same graph out and draws it
//! in pure Rust (layout-rs), so no external program is needed.

use std::fmt::Write;

use layout::backends::svg::SVGWriter;
use layout::gv;

use super::print::{operand, Printer};
use super::{Cell, ModuleKind, Network, Op, Operand};
use crate::ir::pretty::pretty;
use crate::ir::Program;

/// The network as a DOT digraph.
pub fn network_dot(program: &Program, net: &Network) -> String {
    let mut g = Dot {
        printer: Printer::new(program),
        out: String::new(),
        next: 0,
        clusters: 0,
    };
    let inputs = g.inputs(&net.body, "", 1);
    let result = g.cell(&net.body, &inputs, 1);
    let out = g.id();
    let result_label = format!("{} : {}", net.name, g.printer.ty(&net.result));
    g.node(1, &out, &result_label, "ellipse");
    g.edges(1, &result, &out);
    let title = format!("{}\n{}", net.name, g.printer.parameter_count());
    format!(
        "digraph \"{}\" {{\n  label=\"{}\";\n  labelloc=t;\n  node [shape=box, fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n{}}}\n",
        escape(&net.name),
        escape(&title),
        g.out
    )
}

/// The network laid out and drawn as SVG.
pub fn network_svg(program: &Program, net: &Network) -> Result<String, String> {
    let dot = network_dot(program, net);
    let mut parser = gv::DotParser::new(&dot);
    let graph = parser.process()?;
    let mut builder = gv::GraphBuilder::new();
    builder.visit_graph(&graph);
    let mut visual = builder.get();
    let mut svg = SVGWriter::new();
    visual.do_it(false, false, false, &mut svg);
    Ok(svg.finalize())
}

/// Where a value comes from: DOT node ids and the label of each edge.
type Sources = Vec<(String, String)>;

struct Dot<'p> {
    printer: Printer<'p>,
    out: String,
    next: usize,
    clusters: usize,
}

impl Dot<'_> {
    fn id(&mut self) -> String {
        self.next += 1;
        format!("n{}", self.next)
    }

    fn node(&mut self, depth: usize, id: &str, label: &str, shape: &str) {
        let indent = "  ".repeat(depth);
        let _ = writeln!(
            self.out,
            "{indent}{id} [label=\"{}\", shape={shape}];",
            escape(label)
        );
    }

    fn edges(&mut self, depth: usize, from: &Sources, to: &str) {
        let indent = "  ".repeat(depth);
        for (id, label) in from {
            let _ = writeln!(
                self.out,
                "{indent}{id} -> {to} [label=\"{}\"];",
                escape(label)
            );
        }
    }

    /// An ellipse per input of `cell` (`role` before a step function's
    /// state, e.g. "state"); the sources they give.
    fn inputs(&mut self, cell: &Cell, role: &str, depth: usize) -> Vec<Sources> {
        let mut out = Vec::new();
        for (i, input) in cell.inputs.iter().enumerate() {
            let id = self.id();
            let ty = self.printer.ty(&input.ty);
            let mark = match (cell.is_captured(i), i, role) {
                (true, _, _) => "captured ".to_string(),
                (false, 0, r) if !r.is_empty() => format!("{r}: "),
                _ => String::new(),
            };
            self.node(
                depth,
                &id,
                &format!("{mark}{} : {}", input.name, pretty(&input.ty)),
                "ellipse",
            );
            out.push(vec![(id, ty)]);
        }
        out
    }

    /// The ops of `cell`, reading `inputs`; where its result comes from.
    fn cell(&mut self, cell: &Cell, inputs: &[Sources], depth: usize) -> Sources {
        let mut produced: Vec<Sources> = Vec::with_capacity(cell.nodes.len());
        for node in &cell.nodes {
            node.args.iter().for_each(|a| self.printer.pieces_passed(a));
            let sources: Sources = node
                .args
                .iter()
                .flat_map(|a| self.sources(a, inputs, &produced))
                .collect();
            let ty = self.printer.ty(&node.ty);
            let id = self.id();
            match &node.op {
                Op::Module(m) => self.module(m, &id, &sources, depth),
                op => {
                    let (what, note) = self.printer.op(op);
                    let literals: Vec<String> = node
                        .args
                        .iter()
                        .filter(|a| matches!(a, Operand::Literal(_) | Operand::Function(_)))
                        .map(|a| operand(cell, a))
                        .collect();
                    let mut label = what;
                    if !literals.is_empty() {
                        label = format!("{label} {}", literals.join(" "));
                    }
                    if let Some(n) = note {
                        label = format!("{label}\n{n}");
                    }
                    self.node(depth, &id, &label, "box");
                    self.edges(depth, &sources, &id);
                }
            }
            produced.push(vec![(id, ty)]);
        }
        self.sources(&cell.output, inputs, &produced)
    }

    /// A module: its node, then a cluster per cell, fed by the module
    /// (dotted) and looping back to its state (dashed) when it recurs.
    fn module(&mut self, m: &super::Module, id: &str, sources: &Sources, depth: usize) {
        let title = match m.combinator {
            Some(b) => format!("{} ({} {})", m.kind.name(), b.name(), m.function),
            None => m.kind.name().to_string(),
        };
        self.node(depth, id, &title, "box");
        self.edges(depth, sources, id);
        let (role, back) = match m.kind {
            ModuleKind::Rnn | ModuleKind::GenerativeRnn | ModuleKind::Unrolled => {
                ("state", "next step")
            }
            ModuleKind::TreeNet => ("", "to the parent"),
            ModuleKind::Conv(_) | ModuleKind::Layer | ModuleKind::Switch => ("", ""),
        };
        for (name, cell) in &m.cells {
            self.clusters += 1;
            let indent = "  ".repeat(depth);
            let _ = writeln!(
                self.out,
                "{indent}subgraph cluster_{} {{\n{indent}  label=\"{}\";\n{indent}  style=rounded;",
                self.clusters,
                escape(&format!("{name} of {title}"))
            );
            let inputs = self.inputs(cell, role, depth + 1);
            let result = self.cell(cell, &inputs, depth + 1);
            let _ = writeln!(self.out, "{indent}}}");
            for input in &inputs {
                for (to, _) in input {
                    let _ = writeln!(self.out, "{indent}{id} -> {to} [style=dotted];");
                }
            }
            // Where the cell's result goes at the next step: the state;
            // in a TreeNet, the children's results of the node cell (both
            // inputs of `cata`'s, the last of `cataRose`'s: its label may
            // be taken apart into several inputs before it).
            let own = (0..cell.inputs.len())
                .filter(|&k| !cell.is_captured(k))
                .count();
            let target: Vec<&Sources> = match (m.kind, m.combinator) {
                (ModuleKind::TreeNet, _) if name != "node" => Vec::new(),
                (ModuleKind::TreeNet, Some(crate::ir::Builtin::Cata)) => {
                    inputs.iter().take(own).collect()
                }
                (ModuleKind::TreeNet, _) => inputs.get(own.saturating_sub(1)).into_iter().collect(),
                _ => inputs.first().into_iter().collect(),
            };
            if !back.is_empty() {
                for (from, ty) in &result {
                    for (to, _) in target.iter().copied().flatten() {
                        let label = format!("{back}: {ty}");
                        let _ = writeln!(
                            self.out,
                            "{indent}{from} -> {to} [label=\"{}\", style=dashed];",
                            escape(&label)
                        );
                    }
                }
            }
        }
    }

    /// The DOT nodes an operand reads.
    fn sources(&self, o: &Operand, inputs: &[Sources], produced: &[Sources]) -> Sources {
        match o {
            Operand::Input(i) => inputs.get(*i).cloned().unwrap_or_default(),
            Operand::Node(i) => produced.get(*i).cloned().unwrap_or_default(),
            Operand::Tuple(parts) => parts
                .iter()
                .flat_map(|p| self.sources(p, inputs, produced))
                .collect(),
            Operand::Literal(_) | Operand::Function(_) | Operand::Unit => Vec::new(),
        }
    }
}

/// Text inside a DOT string: quotes and backslashes escaped, line breaks
/// as `\n`.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
