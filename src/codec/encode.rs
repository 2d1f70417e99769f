//! Values to JSON, by type (spec section 8: `dp run` prints values in the
//! encoding data is read in; `Scores v` prints as an object from symbol to
//! score).

use super::printed::Printed;
use crate::backend::Graph;
use crate::ir::pretty::pretty;
use crate::ir::ty::{Type, TypeTable};
use crate::runtime::value::{RoseValue, TreeNode, TreeValue, Value};
use crate::runtime::vocab::Vocabularies;

/// One JSON value per example of the batched `value` of type `ty`.
/// Errors name what cannot be printed (a function).
pub fn encode(
    graph: &Graph,
    value: &Value,
    ty: &Type,
    types: &TypeTable,
    vocabs: &Vocabularies,
) -> Result<Vec<Printed>, String> {
    Encoder {
        graph,
        types,
        vocabs,
    }
    .value(value, ty)
}

/// Compact JSON text, with floats printed in their shortest f32 form and
/// non-finite ones as `Infinity`, `-Infinity`, `NaN` (section 11.6).
pub fn format_json(json: &Printed) -> String {
    json.to_json_text()
}

struct Encoder<'a> {
    graph: &'a Graph,
    types: &'a TypeTable,
    vocabs: &'a Vocabularies,
}

fn nest(data: &[f32], shape: &[usize]) -> Printed {
    match shape.split_first() {
        None => data.first().map_or(Printed::Null, |&x| Printed::Real(x)),
        Some((_, rest)) => {
            let inner: usize = rest.iter().product();
            if inner == 0 {
                return Printed::List(Vec::new());
            }
            Printed::List(data.chunks(inner).map(|c| nest(c, rest)).collect())
        }
    }
}

impl Encoder<'_> {
    fn value(&self, value: &Value, ty: &Type) -> Result<Vec<Printed>, String> {
        match (value, ty) {
            (Value::Real(r), _) => self.reals(&self.graph.to_vec(r), r.cols(), ty),
            (Value::Int(v), _) => Ok(v.iter().map(|&i| Printed::Int(i)).collect()),
            (Value::Bool(v), _) => Ok(v.iter().map(|&b| Printed::Bool(b)).collect()),
            (Value::Sym(v), Type::Vocab(name)) => {
                let vocab = self.vocabs.get(name);
                Ok(v.iter()
                    .map(|&s| Printed::Str(vocab.map_or("<unk>", |v| v.symbol(s)).to_string()))
                    .collect())
            }
            (Value::Unit(b), _) => Ok(vec![Printed::List(Vec::new()); *b]),
            (Value::Tuple(parts), Type::Tuple(ts)) => {
                let columns = parts
                    .iter()
                    .zip(ts)
                    .map(|(p, t)| self.value(p, t))
                    .collect::<Result<Vec<_>, _>>()?;
                let batch = columns.first().map_or(0, |c| c.len());
                Ok((0..batch)
                    .map(|b| {
                        Printed::List(columns.iter().filter_map(|c| c.get(b).cloned()).collect())
                    })
                    .collect())
            }
            (Value::List(l), Type::List(t) | Type::Window(_, t)) => {
                let elems = self.value(&l.elems, t)?;
                Ok(l.offsets
                    .windows(2)
                    .map(|w| Printed::List(elems.get(w[0]..w[1]).unwrap_or(&[]).to_vec()))
                    .collect())
            }
            (Value::Grid(g), Type::Grid(t)) => {
                let cells = self.value(&g.cells, t)?;
                Ok(g.dims
                    .iter()
                    .zip(g.offsets.windows(2))
                    .map(|(&(h, w), o)| {
                        let mine = cells.get(o[0]..o[1]).unwrap_or(&[]);
                        if w == 0 {
                            // Rows without cells are still rows: `[[], []]`
                            // reads back as this grid, `[]` would not.
                            return Printed::List(vec![Printed::List(Vec::new()); h]);
                        }
                        Printed::List(
                            mine.chunks(w)
                                .map(|row| Printed::List(row.to_vec()))
                                .collect(),
                        )
                    })
                    .collect())
            }
            (Value::Tree(tree), Type::Tree(t)) => self.trees(tree, t),
            (Value::Rose(rose), Type::Rose(t)) => self.roses(rose, t),
            (Value::Func(_), _) => Err(format!(
                "a function (of type `{}`) cannot be printed",
                pretty(ty)
            )),
            _ => Err(format!(
                "internal: a value does not match its type `{}`",
                pretty(ty)
            )),
        }
    }

    fn reals(&self, data: &[f32], cols: usize, ty: &Type) -> Result<Vec<Printed>, String> {
        if cols == 0 {
            return Ok(Vec::new());
        }
        let rows = data.chunks(cols);
        match ty {
            Type::Scores(v) => {
                let vocab = match &**v {
                    Type::Vocab(name) => self.vocabs.get(name),
                    _ => None,
                };
                Ok(rows
                    .map(|row| {
                        let fields = row.iter().enumerate().map(|(i, &x)| {
                            let key = vocab
                                .map_or_else(|| i.to_string(), |v| v.symbol(i as u32).to_string());
                            (key, Printed::Real(x))
                        });
                        Printed::Object(fields.collect())
                    })
                    .collect())
            }
            Type::Tuple(ts) => {
                // A tuple of reps packed in one tensor: split by part sizes.
                let sizes: Vec<usize> = ts
                    .iter()
                    .map(|t| self.types.flat_size(t).unwrap_or(0))
                    .collect();
                Ok(rows
                    .map(|row| {
                        let mut start = 0;
                        let parts = ts.iter().zip(&sizes).map(|(t, &n)| {
                            let part = row.get(start..start + n).unwrap_or(&[]);
                            start += n;
                            self.reals(part, n, t)
                                .ok()
                                .and_then(|v| v.into_iter().next())
                                .unwrap_or(Printed::Null)
                        });
                        Printed::List(parts.collect())
                    })
                    .collect())
            }
            Type::Window(dims, t) => {
                let k: usize = dims.iter().product();
                let n = cols / k.max(1);
                Ok(rows
                    .map(|row| {
                        let elems = row.chunks(n.max(1)).map(|c| {
                            self.reals(c, n, t)
                                .ok()
                                .and_then(|v| v.into_iter().next())
                                .unwrap_or(Printed::Null)
                        });
                        Printed::List(elems.collect())
                    })
                    .collect())
            }
            _ => {
                let shape = self.types.shape(ty).unwrap_or_else(|| vec![cols]);
                Ok(rows.map(|row| nest(row, &shape)).collect())
            }
        }
    }

    fn trees(&self, tree: &TreeValue, t: &Type) -> Result<Vec<Printed>, String> {
        let leaves = self.value(&tree.leaves, t)?;
        let wrap = matches!(
            t,
            Type::Tuple(_)
                | Type::List(_)
                | Type::Grid(_)
                | Type::Tree(_)
                | Type::Rose(_)
                | Type::Tensor(_)
        ) || (matches!(t, Type::Rep(_))
            && self.types.shape(t).is_some_and(|s| !s.is_empty()));
        // Children have smaller ids than parents: build bottom-up, no recursion.
        let mut built: Vec<Printed> = Vec::with_capacity(tree.nodes.len());
        for node in &tree.nodes {
            let json = match *node {
                TreeNode::Leaf(i) => {
                    let v = leaves.get(i).cloned().unwrap_or(Printed::Null);
                    if wrap {
                        Printed::Object(vec![("leaf".into(), v)])
                    } else {
                        v
                    }
                }
                TreeNode::Node(l, r) => Printed::List(vec![
                    built.get(l).cloned().unwrap_or(Printed::Null),
                    built.get(r).cloned().unwrap_or(Printed::Null),
                ]),
            };
            built.push(json);
        }
        Ok(tree
            .roots
            .iter()
            .map(|&r| built.get(r).cloned().unwrap_or(Printed::Null))
            .collect())
    }

    /// Each rose tree as `[label, [child, ...]]`, built bottom-up (children
    /// have smaller ids); a subtree is moved into its last user, copied only
    /// for the others (a subtree shared within a tree).
    fn roses(&self, rose: &RoseValue, t: &Type) -> Result<Vec<Printed>, String> {
        let labels = self.value(&rose.labels, t)?;
        let n = rose.node_count();
        let mut uses = vec![0usize; n];
        for &c in rose.children.iter().chain(&rose.roots) {
            uses[c] += 1;
        }
        let mut built: Vec<Printed> = Vec::with_capacity(n);
        let mut take = |built: &mut Vec<Printed>, id: usize| {
            uses[id] -= 1;
            match built.get_mut(id) {
                Some(p) if uses[id] == 0 => std::mem::replace(p, Printed::Null),
                Some(p) => p.clone(),
                None => Printed::Null,
            }
        };
        for (id, label) in labels.into_iter().enumerate().take(n) {
            let kids = rose.children_of(id).iter().map(|&c| take(&mut built, c));
            let kids = Printed::List(kids.collect());
            built.push(Printed::List(vec![label, kids]));
        }
        Ok(rose.roots.iter().map(|&r| take(&mut built, r)).collect())
    }
}
