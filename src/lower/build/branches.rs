//! `if`, `&&` and `||`: each branch lowered into a cell of its own, whose
//! captured inputs are the values of the enclosing cell it reads. A
//! branch whose ops cannot fail or draw, choosing a value without reals,
//! is spliced back into the enclosing cell (a plain `if`, `&&`, `||` that
//! runs everywhere); any other is one of the two cells of a switch module,
//! which the runtime runs only on the examples taking it.

use std::rc::Rc;

use super::exprs::{locals, prim_name};
use super::{internal, literal, Builder, Env, Open, Subst, Sym};
use crate::diagnostic::Diagnostic;
use crate::ir::ty::Type;
use crate::ir::{ArithOp, Builtin, Expr, ExprKind, PrimOp};
use crate::lower::{Cell, Exec, Module, ModuleKind, Node, Op, Operand};
use crate::source::Span;

impl Builder<'_> {
    /// `if c then a else b`.
    pub(super) fn lower_if(
        &mut self,
        [cond, yes, no]: [&Expr; 3],
        env: &Env,
        subst: &Subst,
        ty: Type,
        span: Span,
    ) -> Result<Sym, Diagnostic> {
        let c = self.eval(cond, env, subst)?;
        let c = self.operand(&c);
        let yes = self.branch(Branch::Expr(yes, env, subst), span)?;
        let no = self.branch(Branch::Expr(no, env, subst), span)?;
        self.switch(c, [yes, no], ty, span)
    }

    /// `a && b` is `if a then b else false`, `a || b` is `if a then true
    /// else b`: `b` runs only where `a` does not decide.
    pub(super) fn lower_and_or(
        &mut self,
        op: PrimOp,
        [a, b]: [&Expr; 2],
        env: &Env,
        subst: &Subst,
        span: Span,
    ) -> Result<Sym, Diagnostic> {
        let c = self.eval(a, env, subst)?;
        let c = self.operand(&c);
        let rest = self.branch(Branch::Expr(b, env, subst), span)?;
        if rest.nodes.iter().all(total) {
            // Nothing on the right can fail or draw, and a Bool carries no
            // gradient: it runs on every example.
            let right = self.splice(rest);
            let exec = ExprKind::Prim {
                op,
                args: locals(&[Type::Bool, Type::Bool], span),
            };
            let node = Node::new(Op::Prim(prim_name(op)), vec![c, right], Type::Bool, span);
            return self.node(node.exec(exec));
        }
        let decided = self.branch(Branch::Bool(op == PrimOp::Or), span)?;
        let cells = match op {
            PrimOp::And => [rest, decided],
            _ => [decided, rest],
        };
        self.switch(c, cells, Type::Bool, span)
    }

    /// The cell of an `if` branch: the values of this cell it reads are its
    /// captured inputs.
    fn branch(&mut self, b: Branch, span: Span) -> Result<Cell, Diagnostic> {
        self.open.push(Open {
            cell: Cell::default(),
            captured: Vec::new(),
        });
        let value = match b {
            Branch::Expr(e, env, subst) => self.eval(e, env, subst),
            Branch::Bool(x) => Ok(literal(ExprKind::Bool(x), x.to_string(), Type::Bool, span)),
        };
        self.close(value, span)
    }

    /// The ops of a branch cell moved into the current cell (its captured
    /// inputs read as what they capture); the operand of its value.
    fn splice(&mut self, branch: Cell) -> Operand {
        let base = self.cell().nodes.len();
        let moved = |o: &Operand| shift(&branch, o, base);
        let nodes: Vec<Node> = branch
            .nodes
            .iter()
            .map(|n| Node {
                args: n.args.iter().map(moved).collect(),
                ..n.clone()
            })
            .collect();
        self.cell().nodes.extend(nodes);
        moved(&branch.output)
    }

    /// `if c then .. else ..` over its two branch cells: a plain `if` op of
    /// their values when neither has an op (or their ops are total and the
    /// value discrete), else a switch module running each cell only on the
    /// examples taking it.
    fn switch(
        &mut self,
        c: Operand,
        cells: [Cell; 2],
        ty: Type,
        span: Span,
    ) -> Result<Sym, Diagnostic> {
        let plain = cells.iter().all(|cell| cell.nodes.is_empty())
            || (discrete(&ty) && cells.iter().all(|cell| cell.nodes.iter().all(total)));
        if plain {
            // Both branches run on every example, one value is selected:
            // nothing in them can fail or draw, and no gradient flows
            // through a value without reals.
            let [yes, no] = cells.map(|cell| self.splice(cell));
            let [c_, t, f]: [Expr; 3] = locals(&[Type::Bool, ty.clone(), ty.clone()], span)
                .try_into()
                .map_err(|_| internal(span, "an `if` of three parts"))?;
            let exec = ExprKind::If {
                cond: Box::new(c_),
                then_branch: Box::new(t),
                else_branch: Box::new(f),
            };
            let node = Node::new(Op::Prim("if".into()), vec![c, yes, no], ty, span);
            return self.node(node.exec(exec));
        }
        let [yes, no] = cells;
        let module = Module {
            kind: ModuleKind::Switch,
            combinator: None,
            function: "if".into(),
            cells: vec![("then".into(), Rc::new(yes)), ("else".into(), Rc::new(no))],
            cell_args: Vec::new(),
        };
        let mut node = Node::new(Op::Module(Box::new(module)), vec![c], ty, span);
        node.exec = Exec::Switch;
        self.node(node)
    }
}

/// What a branch cell computes: an expression, or a Bool literal (the
/// side of `&&` or `||` that the left operand decides).
pub(super) enum Branch<'a> {
    Expr(&'a Expr, &'a Env, &'a Subst),
    Bool(bool),
}

/// A type whose values hold no reals (no gradient flows through them).
pub(super) fn discrete(t: &Type) -> bool {
    match t {
        Type::Int | Type::Bool | Type::Vocab(_) => true,
        Type::Tuple(ts) => ts.iter().all(discrete),
        _ => false,
    }
}

/// An operand of a branch cell as an operand of the enclosing cell, the
/// branch's ops placed from node `base` on.
pub(super) fn shift(cell: &Cell, o: &Operand, base: usize) -> Operand {
    match o {
        Operand::Input(i) => cell
            .captured
            .iter()
            .find(|(_, j)| j == i)
            .map_or(Operand::Unit, |(from, _)| from.clone()),
        Operand::Node(j) => Operand::Node(base + j),
        Operand::Tuple(ps) => Operand::Tuple(ps.iter().map(|p| shift(cell, p, base)).collect()),
        other => other.clone(),
    }
}

/// Can an op run on examples whose value is then not used: it neither
/// fails nor draws (comparisons, `&&`, `||`, arithmetic but division,
/// tuple components, `length`, `argmax`, a plain `if`)?
pub(super) fn total(node: &Node) -> bool {
    match &node.exec {
        Exec::Part(_) => true,
        Exec::Expr(e) => match &e.kind {
            ExprKind::Prim { op, .. } => matches!(
                op,
                PrimOp::Compare(..)
                    | PrimOp::And
                    | PrimOp::Or
                    | PrimOp::IntNeg
                    | PrimOp::RealNeg
                    | PrimOp::IntArith(ArithOp::Add | ArithOp::Sub | ArithOp::Mul)
                    | PrimOp::RealArith(ArithOp::Add | ArithOp::Sub | ArithOp::Mul, _)
            ),
            ExprKind::App { func, .. } => matches!(
                func.kind,
                ExprKind::Builtin(Builtin::Length | Builtin::Argmax | Builtin::Fst | Builtin::Snd)
            ),
            // A plain `if`: one of two values already computed.
            ExprKind::If { .. } => true,
            _ => false,
        },
        _ => false,
    }
}
