//! The weights of a program's learned pieces and params, as backend tensors.
//!
//! Layout (also the safetensors layout): an affine piece has `weight`
//! `[out, in]` and `bias` `[1, out]` where `out` is the sum of its output
//! parts; an embedding has `table` `[V, dim]`; a param is `[1, size]`.
//! This module holds and initialises weights; it does not train them.

use crate::backend::Real;

#[derive(Clone, Debug)]
pub enum LearnedWeights {
    Affine {
        weight: Real,
        bias: Real,
        /// Sizes of the output parts (a tuple codomain is split).
        outputs: Vec<usize>,
    },
    Embedding {
        table: Real,
    },
}

/// Indexed like `Program::learned` and `Program::params`.
#[derive(Clone, Debug, Default)]
pub struct Weights {
    pub learned: Vec<LearnedWeights>,
    pub params: Vec<Real>,
}

/// Fresh weights for every learned piece and param of `program`:
/// affine weights Glorot-uniform, biases zero, embeddings N(0, 1), params
/// zeros (their `= init` expressions are applied by the caller, which can
/// evaluate). Deterministic for a seed. Sizes of `Scores` over open
/// vocabularies come from `vocabs`.
pub fn initialise(
    program: &crate::ir::Program,
    vocabs: &crate::runtime::vocab::Vocabularies,
    graph: &crate::backend::Graph,
    seed: u64,
) -> Weights {
    use crate::ir::LearnedKind;
    let mut learned = Vec::with_capacity(program.learned.len());
    for (i, piece) in program.learned.iter().enumerate() {
        let piece_seed = seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(i as u64 + 1);
        learned.push(match &piece.kind {
            LearnedKind::Affine { input, outputs } => {
                let outputs = resolve_outputs(outputs, &piece.codomain, vocabs);
                let out: usize = outputs.iter().sum();
                let limit = (6.0 / (*input + out).max(1) as f32).sqrt();
                LearnedWeights::Affine {
                    weight: graph.uniform(out, *input, -limit, limit, piece_seed),
                    bias: graph.fill(1, out, 0.0),
                    outputs,
                }
            }
            LearnedKind::Embedding { vocab, dim } => {
                let rows = vocabs.get(vocab).map_or(1, |v| v.len().max(1));
                LearnedWeights::Embedding {
                    table: graph.gaussian(rows, *dim, 0.0, 1.0, piece_seed),
                }
            }
        });
    }
    let params = program
        .params
        .iter()
        .map(|p| graph.fill(1, program.types.flat_size(&p.ty).unwrap_or(1), 0.0))
        .collect();
    Weights { learned, params }
}

/// Output part sizes, with `Scores` of open vocabularies sized from `vocabs`.
pub fn resolve_outputs(
    outputs: &[Option<usize>],
    codomain: &crate::ir::ty::Type,
    vocabs: &crate::runtime::vocab::Vocabularies,
) -> Vec<usize> {
    use crate::ir::ty::Type;
    let parts: Vec<&Type> = match codomain {
        Type::Tuple(ts) => ts.iter().collect(),
        t => vec![t],
    };
    outputs
        .iter()
        .zip(parts.iter().chain(std::iter::repeat(&codomain)))
        .map(|(size, ty)| {
            size.unwrap_or_else(|| match ty {
                Type::Scores(v) => match &**v {
                    Type::Vocab(name) => vocabs.get(name).map_or(1, |v| v.len()),
                    _ => 1,
                },
                _ => 1,
            })
        })
        .collect()
}

/// One weight tensor of a program, named as in the weights file.
pub struct NamedTensor {
    /// `cell.weight`, `cell.bias`, `embed.table`, `theta`.
    pub name: String,
    /// The shape stored in the file (`[out, in]`, `[out]`, `[V, dim]`, a
    /// param's own shape).
    pub shape: Vec<usize>,
}

impl Weights {
    /// Every tensor, in a fixed order: learned pieces in declaration order
    /// (weight then bias, or table), then params.
    /// The positions in [`Weights::tensors`] of a learned piece's or a
    /// param's tensors (none for a def).
    pub fn slots_of(&self, r: crate::ir::GlobalRef) -> std::ops::Range<usize> {
        let width = |w: &LearnedWeights| match w {
            LearnedWeights::Affine { .. } => 2,
            LearnedWeights::Embedding { .. } => 1,
        };
        let learned: usize = self.learned.iter().map(width).sum();
        match r {
            crate::ir::GlobalRef::Learned(id) => {
                let start: usize = self.learned.iter().take(id).map(width).sum();
                let n = self.learned.get(id).map_or(0, width);
                start..start + n
            }
            crate::ir::GlobalRef::Param(id) if id < self.params.len() => {
                learned + id..learned + id + 1
            }
            _ => 0..0,
        }
    }

    pub fn tensors(&self) -> Vec<&Real> {
        let mut out = Vec::new();
        for w in &self.learned {
            match w {
                LearnedWeights::Affine { weight, bias, .. } => {
                    out.push(weight);
                    out.push(bias);
                }
                LearnedWeights::Embedding { table } => out.push(table),
            }
        }
        out.extend(self.params.iter());
        out
    }

    /// Mutable access in the order of [`Weights::tensors`].
    pub fn tensors_mut(&mut self) -> Vec<&mut Real> {
        let mut out = Vec::new();
        for w in &mut self.learned {
            match w {
                LearnedWeights::Affine { weight, bias, .. } => {
                    out.push(weight);
                    out.push(bias);
                }
                LearnedWeights::Embedding { table } => out.push(table),
            }
        }
        out.extend(self.params.iter_mut());
        out
    }

    /// Names and file shapes, in the order of [`Weights::tensors`].
    pub fn names(&self, program: &crate::ir::Program) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        for (w, piece) in self.learned.iter().zip(&program.learned) {
            match w {
                LearnedWeights::Affine { weight, .. } => {
                    out.push(NamedTensor {
                        name: format!("{}.weight", piece.name),
                        shape: vec![weight.rows(), weight.cols()],
                    });
                    out.push(NamedTensor {
                        name: format!("{}.bias", piece.name),
                        shape: vec![weight.rows()],
                    });
                }
                LearnedWeights::Embedding { table } => out.push(NamedTensor {
                    name: format!("{}.table", piece.name),
                    shape: vec![table.rows(), table.cols()],
                }),
            }
        }
        for (p, decl) in self.params.iter().zip(&program.params) {
            let shape = program
                .types
                .shape(&decl.ty)
                .unwrap_or_else(|| vec![p.cols()]);
            out.push(NamedTensor {
                name: decl.name.clone(),
                shape,
            });
        }
        out
    }
}
