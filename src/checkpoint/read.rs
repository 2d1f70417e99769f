//! Reading a weights file, checking all of it against the program: the
//! metadata format, the closed vocabularies symbol by symbol, each learned
//! piece's and param's declared type, every tensor's name, dtype, shape and
//! finiteness, the optimizer state, and every metadata key. The first
//! mismatch is the error; it names the vocabulary, piece or tensor.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors};

use super::{declared_types, fingerprint, type_key, Checkpoint, FORMAT};
use crate::backend::Graph;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{LearnedKind, Program};
use crate::runtime::vocab::{Vocabularies, Vocabulary};
use crate::runtime::weights::{resolve_outputs, LearnedWeights, Weights};
use crate::train::optim::{Optimizer, OptimizerKind};

/// What a missing or misshapen tensor usually means.
const OTHER_PROGRAM: &str = "the weights were saved for a different program (rename or retrain)";

/// Load a weights file and check it against `program`.
pub fn load(path: &Path, program: &Program, graph: &Graph) -> Result<Checkpoint, Diagnostic> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::new(Code::Io, format!("cannot read `{}`: {e}", path.display())))?;
    load_bytes(&bytes, &path.display().to_string(), program, graph)
}

/// Check the bytes of a weights file (called `name` in messages) against
/// `program` and turn them into run-time weights.
pub fn load_bytes(
    bytes: &[u8],
    name: &str,
    program: &Program,
    graph: &Graph,
) -> Result<Checkpoint, Diagnostic> {
    let file = File::parse(bytes, name)?;
    let mut notes = Vec::new();
    if file.meta.is_none() {
        notes.push(format!(
            "`{name}` has no dp metadata (written by another tool?): its tensors are read \
             by name, with the program's vocabularies"
        ));
    }
    let format = file.format()?;
    let vocabs = file.vocabularies(program)?;
    if format == Some(FORMAT) {
        file.check_types(program)?;
    }
    let weights = read_weights(program, &vocabs, graph, &file)?;
    let names: Vec<String> = weights.names(program).into_iter().map(|n| n.name).collect();
    let sizes: Vec<usize> = weights
        .tensors()
        .iter()
        .map(|t| t.rows() * t.cols())
        .collect();
    let optimizer = file.optimizer(&names, &sizes)?;
    file.check_tensor_names(&names, optimizer.as_ref())?;
    file.check_meta_keys(program, &vocabs)?;
    if format == Some("1") {
        file.check_fingerprint(program)?;
    }
    let epoch = match file.meta {
        Some(_) => file.parse_meta("dp.epoch")?,
        None => 0,
    };
    Ok(Checkpoint {
        vocabs,
        weights,
        optimizer,
        epoch,
        notes,
    })
}

/// A parsed safetensors file and dp's metadata in it.
struct File<'a> {
    name: &'a str,
    st: SafeTensors<'a>,
    /// dp's metadata; `None` for a file written by another tool.
    meta: Option<HashMap<String, String>>,
}

impl<'a> File<'a> {
    fn parse(bytes: &'a [u8], name: &'a str) -> Result<File<'a>, Diagnostic> {
        let bad = |msg: String| Diagnostic::new(Code::BadWeights, format!("`{name}`: {msg}"));
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("bad header ({e})")))?;
        let meta = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("dp"))
            .map(|json| serde_json::from_str(json))
            .transpose()
            .map_err(|e| bad(format!("bad dp metadata ({e})")))?;
        Ok(File { name, st, meta })
    }

    fn bad(&self, msg: impl std::fmt::Display) -> Diagnostic {
        Diagnostic::new(Code::BadWeights, format!("`{}`: {msg}", self.name))
    }

    fn meta(&self, key: &str) -> Option<&str> {
        self.meta.as_ref()?.get(key).map(String::as_str)
    }

    /// A metadata value that must be present and parse.
    fn parse_meta<T: std::str::FromStr>(&self, key: &str) -> Result<T, Diagnostic> {
        let value = self
            .meta(key)
            .ok_or_else(|| self.bad(format!("has no `{key}` in its metadata")))?;
        value
            .parse()
            .map_err(|_| self.bad(format!("has a bad `{key}` in its metadata ({value:?})")))
    }

    /// The metadata format: `FORMAT`, or `"1"` for files of an earlier dp;
    /// `None` for a file without dp's metadata.
    fn format(&self) -> Result<Option<&str>, Diagnostic> {
        if self.meta.is_none() {
            return Ok(None);
        }
        match self.meta("dp.format") {
            Some(f) if f == FORMAT || f == "1" => Ok(Some(f)),
            Some(f) => Err(self
                .bad(format!(
                    "has metadata format {f:?}, which this dp cannot read"
                ))
                .help("it was written by a newer dp")),
            None => Err(self.bad("has no `dp.format` in its metadata")),
        }
    }

    /// The program's vocabularies: closed ones compared with the file's,
    /// open ones read from it.
    fn vocabularies(&self, program: &Program) -> Result<Vocabularies, Diagnostic> {
        let mut vocabs = Vocabularies::from_types(&program.types);
        for (name, v) in vocabs.map.iter_mut() {
            let key = format!("dp.vocab.{name}");
            let Some(json) = self.meta(&key) else {
                let missing = self.bad(format!(
                    "does not record the symbols of the vocabulary `{name}`"
                ));
                if self.meta.is_none() && v.is_open() {
                    return Err(missing.help(
                        "it has no dp metadata: an open vocabulary's symbols come only \
                         from a weights file that dp saved",
                    ));
                } else if self.meta.is_some() {
                    return Err(missing);
                }
                continue;
            };
            let symbols: Vec<String> = serde_json::from_str(json)
                .map_err(|e| self.bad(format!("bad vocabulary `{name}` in the metadata ({e})")))?;
            if v.is_open() {
                *v = Vocabulary::open(symbols);
            } else if let Some(diff) = first_difference(v.symbols(), &symbols) {
                return Err(self
                    .bad(format!(
                        "the closed vocabulary `{name}` differs from the one the weights were \
                         trained with: {diff}"
                    ))
                    .help("restore the vocabulary's order, or retrain"));
            }
        }
        Ok(vocabs)
    }

    /// Each learned piece's and param's declared type against the file's.
    fn check_types(&self, program: &Program) -> Result<(), Diagnostic> {
        for (name, ty, span) in declared_types(program) {
            let Some(saved) = self.meta(&type_key(&name)) else {
                let prefix = format!("{name}.");
                if self
                    .st
                    .names()
                    .iter()
                    .any(|t| *t == &name || t.starts_with(&prefix))
                {
                    return Err(self.bad(format!("does not record the type of `{name}`")));
                }
                continue; // the tensor check names what is missing
            };
            if saved != ty {
                return Err(self
                    .bad(format!(
                        "`{name}` was trained as `{saved}`, the program declares `{ty}`"
                    ))
                    .at(span, "declared here")
                    .help("the weights do not fit this declaration: restore it, or retrain"));
            }
        }
        Ok(())
    }

    /// A tensor of this name, F32, of this shape, every value finite.
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, Diagnostic> {
        let view = self.st.tensor(name).map_err(|_| {
            self.bad(format!("has no tensor `{name}`"))
                .help(OTHER_PROGRAM)
        })?;
        if view.dtype() != Dtype::F32 {
            return Err(self.bad(format!(
                "tensor `{name}` is {:?}; dp reads F32 tensors",
                view.dtype()
            )));
        }
        let found = view.shape();
        if found != shape {
            return Err(self
                .bad(format!(
                    "tensor `{name}` has shape {found:?}, the program needs {shape:?}"
                ))
                .help(OTHER_PROGRAM));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = data.iter().position(|x| !x.is_finite()) {
            return Err(self.bad(format!(
                "tensor `{name}` holds a non-finite value ({}) at index {i}",
                data[i]
            )));
        }
        Ok(data)
    }

    /// The optimizer state, if the file records one; all of it checked.
    fn optimizer(
        &self,
        names: &[String],
        sizes: &[usize],
    ) -> Result<Option<Optimizer>, Diagnostic> {
        let Some(kind) = self.meta("dp.optimizer") else {
            return Ok(None);
        };
        let Ok(kind) = kind.parse::<OptimizerKind>() else {
            return Err(self.bad(format!("records an unknown optimizer {kind:?}")));
        };
        let step = self.parse_meta("dp.optimizer.step")?;
        let lr: f32 = self.parse_meta("dp.optimizer.lr")?;
        if !lr.is_finite() {
            return Err(self.bad(format!("records a learning rate of {lr}")));
        }
        let mut o = Optimizer {
            kind,
            lr,
            step,
            m: Vec::new(),
            v: Vec::new(),
        };
        if kind == OptimizerKind::Adam {
            for (name, &size) in names.iter().zip(sizes) {
                o.m.push(self.tensor(&format!("optim.m.{name}"), &[size])?);
                o.v.push(self.tensor(&format!("optim.v.{name}"), &[size])?);
            }
        }
        Ok(Some(o))
    }

    /// No tensor beyond the weights and the optimizer state read.
    fn check_tensor_names(
        &self,
        names: &[String],
        optimizer: Option<&Optimizer>,
    ) -> Result<(), Diagnostic> {
        let mut expected: HashSet<String> = names.iter().cloned().collect();
        if optimizer.is_some_and(|o| o.kind == OptimizerKind::Adam) {
            for n in names {
                expected.insert(format!("optim.m.{n}"));
                expected.insert(format!("optim.v.{n}"));
            }
        }
        let mut found = self.st.names();
        found.sort();
        match found.into_iter().find(|n| !expected.contains(*n)) {
            Some(n) if n.starts_with("optim.") => Err(self.bad(format!(
                "has an optimizer tensor `{n}` that the recorded optimizer state does not use"
            ))),
            Some(n) => Err(self
                .bad(format!(
                    "has a tensor `{n}` that the program does not declare"
                ))
                .help(OTHER_PROGRAM)),
            None => Ok(()),
        }
    }

    /// Every metadata key is one dp writes for this program.
    fn check_meta_keys(&self, program: &Program, vocabs: &Vocabularies) -> Result<(), Diagnostic> {
        let Some(meta) = &self.meta else {
            return Ok(());
        };
        let fixed = [
            "dp.format",
            "dp.fingerprint",
            "dp.epoch",
            "dp.optimizer",
            "dp.optimizer.step",
            "dp.optimizer.lr",
        ];
        let mut known: HashSet<String> = fixed.iter().map(|k| k.to_string()).collect();
        known.extend(vocabs.map.keys().map(|v| format!("dp.vocab.{v}")));
        known.extend(declared_types(program).iter().map(|(n, _, _)| type_key(n)));
        let mut keys: Vec<&String> = meta.keys().collect();
        keys.sort();
        match keys.into_iter().find(|k| !known.contains(*k)) {
            Some(k) if k.starts_with("dp.vocab.") => Err(self.bad(format!(
                "records a vocabulary `{}` that the program does not declare",
                &k["dp.vocab.".len()..]
            ))),
            Some(k) if k.starts_with("dp.type.") => Err(self.bad(format!(
                "records a learned piece `{}` that the program does not declare",
                &k["dp.type.".len()..]
            ))),
            Some(k) => Err(self.bad(format!("has an unknown metadata entry `{k}`"))),
            None => Ok(()),
        }
    }

    /// Files of format 1 record no types: their fingerprint must match.
    fn check_fingerprint(&self, program: &Program) -> Result<(), Diagnostic> {
        let saved = self.meta("dp.fingerprint").unwrap_or_default();
        if saved == fingerprint(program) {
            return Ok(());
        }
        Err(self
            .bad("the program's declarations changed since these weights were saved")
            .note(
                "the file was written by an earlier dp, which did not record each learned \
                 piece's type, so the change cannot be named",
            )
            .help("load it with the program it was trained with and save it again, or retrain"))
    }
}

/// Where two symbol lists first differ, in words; `None` if equal.
fn first_difference(program: &[String], file: &[String]) -> Option<String> {
    let i = program
        .iter()
        .zip(file)
        .position(|(a, b)| a != b)
        .unwrap_or(program.len().min(file.len()));
    if i == program.len() && i == file.len() {
        return None;
    }
    let show = |v: &[String]| v.get(i).map_or("nothing".to_string(), |s| format!("{s:?}"));
    Some(format!(
        "symbol {i} is {} in the program, {} in the weights file",
        show(program),
        show(file)
    ))
}

fn read_weights(
    program: &Program,
    vocabs: &Vocabularies,
    graph: &Graph,
    file: &File,
) -> Result<Weights, Diagnostic> {
    let mut learned = Vec::new();
    for piece in &program.learned {
        learned.push(match &piece.kind {
            LearnedKind::Affine { input, outputs } => {
                let outputs = resolve_outputs(outputs, &piece.codomain, vocabs);
                let out: usize = outputs.iter().sum();
                let w = file.tensor(&format!("{}.weight", piece.name), &[out, *input])?;
                let b = file.tensor(&format!("{}.bias", piece.name), &[out])?;
                LearnedWeights::Affine {
                    weight: graph.from_vec(out, *input, w),
                    bias: graph.from_vec(1, out, b),
                    outputs,
                }
            }
            LearnedKind::Embedding { vocab, dim } => {
                let rows = vocabs.get(vocab).map_or(1, |v| v.len().max(1));
                let t = file.tensor(&format!("{}.table", piece.name), &[rows, *dim])?;
                LearnedWeights::Embedding {
                    table: graph.from_vec(rows, *dim, t),
                }
            }
        });
    }
    let mut params = Vec::new();
    for p in &program.params {
        let shape = program.types.shape(&p.ty).unwrap_or_default();
        let size = shape.iter().product();
        params.push(graph.from_vec(1, size, file.tensor(&p.name, &shape)?));
    }
    Ok(Weights { learned, params })
}
