//! A TreeNet's child gathers folded into its node cell: the cell of
//! `cata f g` reads its children's states, gathered height by height from
//! the node-state parts (`runtime/trees.rs`). When children's states (or
//! components of them) are read only as the tuple an affine map packs
//! (`g (cl, hl) (cr, hr) = ... W (hl, hr) ...`), the runtime gathers them
//! straight into the map's input `[h_l; h_r]` with one op
//! (`Graph::gather_cols`), instead of a gather per component and a concat:
//! the states are copied once forward and their gradients added back
//! once. Exact: the same values are copied, and the same sums formed.

use super::{Cell, Exec, Op, Operand};

/// Node `node`'s affine map reads the tuple of cell inputs `inputs`, and
/// nothing else reads them: the runtime may bind them to nothing and hand
/// the map their packed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packing {
    pub node: usize,
    pub inputs: Vec<usize>,
}

impl Packing {
    /// Is `parts` the tuple this packing stands for?
    pub fn is(&self, parts: &[Operand]) -> bool {
        parts.len() == self.inputs.len()
            && parts
                .iter()
                .zip(&self.inputs)
                .all(|(p, &i)| *p == Operand::Input(i))
    }
}

/// The packing of a TreeNet node cell (the `g` of `cata f g`): its first
/// affine map over a tuple of two or more distinct parameter inputs that
/// no other op and not the output reads. `None` if there is none.
pub fn packed_children(cell: &Cell) -> Option<Packing> {
    let reads = input_reads(cell);
    cell.nodes.iter().enumerate().find_map(|(j, node)| {
        let runs = matches!(node.exec, Exec::Expr(_) | Exec::Absorbed(_));
        let (Op::Affine { .. }, [Operand::Tuple(parts)], true) =
            (&node.op, node.args.as_slice(), runs)
        else {
            return None;
        };
        let mut inputs = Vec::with_capacity(parts.len());
        for p in parts {
            let Operand::Input(i) = p else { return None };
            let own = reads.get(*i) == Some(&1) && !cell.is_captured(*i);
            if !own || inputs.contains(i) {
                return None;
            }
            inputs.push(*i);
        }
        (inputs.len() >= 2).then_some(Packing { node: j, inputs })
    })
}

/// How many times each input is read: by ops (and the cells of their
/// modules, which capture it), and by the output.
fn input_reads(cell: &Cell) -> Vec<usize> {
    let mut count = vec![0usize; cell.inputs.len()];
    cell.each_read(|o| {
        if let Operand::Input(i) = o {
            if let Some(c) = count.get_mut(*i) {
                *c += 1;
            }
        }
    });
    count
}
