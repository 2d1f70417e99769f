//! Weights files: safetensors with one tensor per learned piece and param
//! (`cell.weight`, `cell.bias`, `embed.table`, `theta`), the vocabularies,
//! a fingerprint of the declarations and the optimizer state in the
//! metadata and extra `optim.*` tensors.
//!
//! Writing is atomic (a temporary file in the same directory, then rename),
//! so an interrupted save never leaves half a file. Reading checks every
//! name and shape against the program and names the offending tensor.
//! This module does not train or evaluate.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::backend::Graph;
use crate::cli::OptimizerKind;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{LearnedKind, Program};
use crate::runtime::vocab::{Vocabularies, Vocabulary};
use crate::runtime::weights::{resolve_outputs, LearnedWeights, Weights};
use crate::train::optim::Optimizer;
use crate::types::pretty;

/// Everything a weights file holds.
pub struct Checkpoint {
    pub vocabs: Vocabularies,
    pub weights: Weights,
    pub optimizer: Option<Optimizer>,
    /// Epochs completed when it was saved.
    pub epoch: usize,
}

/// A stable fingerprint of the program's learned declarations and vocabularies.
pub fn fingerprint(program: &Program) -> String {
    let mut text = String::new();
    for p in &program.learned {
        text.push_str(&format!(
            "learn {} : {} -> {};",
            p.name,
            pretty(&p.domain),
            pretty(&p.codomain)
        ));
    }
    for p in &program.params {
        text.push_str(&format!("param {} : {};", p.name, pretty(&p.ty)));
    }
    for (name, v) in &program.types.vocabs {
        text.push_str(&format!("vocab {} {:?};", name, v.symbols));
    }
    // FNV-1a, 64 bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn le_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Save atomically.
pub fn save(
    path: &Path,
    program: &Program,
    graph: &Graph,
    ckpt: &Checkpoint,
) -> Result<(), Diagnostic> {
    let io = |what: &str, e: &dyn std::fmt::Display| {
        Diagnostic::new(
            Code::Io,
            format!("cannot write `{}`: {what}: {e}", path.display()),
        )
    };
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (t, named) in ckpt
        .weights
        .tensors()
        .into_iter()
        .zip(ckpt.weights.names(program))
    {
        tensors.push((named.name, named.shape, le_bytes(&graph.to_vec(t))));
    }
    // Kept in a BTreeMap and stored as one JSON string under the key `dp`,
    // so the file's header is the same bytes on every run.
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("dp.format".to_string(), "1".to_string());
    meta.insert("dp.fingerprint".to_string(), fingerprint(program));
    meta.insert("dp.epoch".to_string(), ckpt.epoch.to_string());
    for (name, v) in &ckpt.vocabs.map {
        meta.insert(
            format!("dp.vocab.{name}"),
            serde_json::to_string(v.symbols()).unwrap_or_default(),
        );
    }
    if let Some(o) = &ckpt.optimizer {
        meta.insert(
            "dp.optimizer".into(),
            format!("{:?}", o.kind).to_lowercase(),
        );
        meta.insert("dp.optimizer.step".into(), o.step.to_string());
        meta.insert("dp.optimizer.lr".into(), o.lr.to_string());
        let names = ckpt.weights.names(program);
        for (slot, named) in names.iter().enumerate() {
            for (tag, moments) in [("m", &o.m), ("v", &o.v)] {
                if let Some(data) = moments.get(slot) {
                    tensors.push((
                        format!("optim.{tag}.{}", named.name),
                        vec![data.len()],
                        le_bytes(data),
                    ));
                }
            }
        }
    }
    let views = tensors
        .iter()
        .map(|(n, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (n.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io("bad tensor", &e))?;
    let header = HashMap::from([(
        "dp".to_string(),
        serde_json::to_string(&meta).map_err(|e| io("metadata", &e))?,
    )]);
    let bytes = safetensors::serialize(views, &Some(header)).map_err(|e| io("serialize", &e))?;
    write_atomically(path, &bytes).map_err(|e| io("write", &e))
}

/// Write to a temporary file beside `path`, then rename over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Load and check against `program`.
pub fn load(path: &Path, program: &Program, graph: &Graph) -> Result<Checkpoint, Diagnostic> {
    let bad =
        |msg: String| Diagnostic::new(Code::BadWeights, format!("`{}`: {msg}", path.display()));
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::new(Code::Io, format!("cannot read `{}`: {e}", path.display())))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| bad(format!("bad header ({e})")))?;
    let meta: HashMap<String, String> = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("dp"))
        .map(|json| serde_json::from_str(json))
        .transpose()
        .map_err(|e| bad(format!("bad dp metadata ({e})")))?
        .unwrap_or_default();
    let vocabs = read_vocabs(program, &meta).map_err(bad)?;
    let mut read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, Diagnostic> {
        let (found, data) = fetch(&st, name).ok_or_else(|| {
            bad(format!("has no F32 tensor `{name}`"))
                .help("the weights were saved for a different program (rename or retrain)")
        })?;
        if found != shape {
            return Err(bad(format!(
                "tensor `{name}` has shape {found:?}, the program needs {shape:?}"
            )));
        }
        Ok(data)
    };
    let weights = read_weights(program, &vocabs, graph, &mut read)?;
    let known: Vec<String> = weights.names(program).into_iter().map(|n| n.name).collect();
    for name in st.names() {
        if !name.starts_with("optim.") && !known.contains(name) {
            return Err(bad(format!(
                "has a tensor `{name}` that the program does not declare"
            )));
        }
    }
    let optimizer = read_optimizer(&meta, &known, &st);
    let epoch = meta
        .get("dp.epoch")
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    Ok(Checkpoint {
        vocabs,
        weights,
        optimizer,
        epoch,
    })
}

fn read_vocabs(program: &Program, meta: &HashMap<String, String>) -> Result<Vocabularies, String> {
    let mut vocabs = Vocabularies::from_types(&program.types);
    for (name, v) in vocabs.map.iter_mut() {
        if !v.is_open() {
            continue;
        }
        if let Some(json) = meta.get(&format!("dp.vocab.{name}")) {
            let symbols: Vec<String> = serde_json::from_str(json)
                .map_err(|e| format!("bad vocabulary `{name}` in the metadata ({e})"))?;
            *v = Vocabulary::open(symbols);
        }
    }
    Ok(vocabs)
}

type Reader<'a> = dyn FnMut(&str, &[usize]) -> Result<Vec<f32>, Diagnostic> + 'a;

fn read_weights(
    program: &Program,
    vocabs: &Vocabularies,
    graph: &Graph,
    read: &mut Reader,
) -> Result<Weights, Diagnostic> {
    let mut learned = Vec::new();
    for piece in &program.learned {
        learned.push(match &piece.kind {
            LearnedKind::Affine { input, outputs } => {
                let outputs = resolve_outputs(outputs, &piece.codomain, vocabs);
                let out: usize = outputs.iter().sum();
                let w = read(&format!("{}.weight", piece.name), &[out, *input])?;
                let b = read(&format!("{}.bias", piece.name), &[out])?;
                LearnedWeights::Affine {
                    weight: graph.from_vec(out, *input, w),
                    bias: graph.from_vec(1, out, b),
                    outputs,
                }
            }
            LearnedKind::Embedding { vocab, dim } => {
                let rows = vocabs.get(vocab).map_or(1, |v| v.len().max(1));
                let t = read(&format!("{}.table", piece.name), &[rows, *dim])?;
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
        params.push(graph.from_vec(1, size, read(&p.name, &shape)?));
    }
    Ok(Weights { learned, params })
}

fn read_optimizer(
    meta: &HashMap<String, String>,
    names: &[String],
    st: &SafeTensors,
) -> Option<Optimizer> {
    let kind = match meta.get("dp.optimizer")?.as_str() {
        "adam" => OptimizerKind::Adam,
        "sgd" => OptimizerKind::Sgd,
        _ => return None,
    };
    let step = meta.get("dp.optimizer.step")?.parse().ok()?;
    let lr = meta.get("dp.optimizer.lr")?.parse().ok()?;
    let mut o = Optimizer {
        kind,
        lr,
        step,
        m: Vec::new(),
        v: Vec::new(),
    };
    if kind == OptimizerKind::Adam {
        for name in names {
            o.m.push(fetch(st, &format!("optim.m.{name}"))?.1);
            o.v.push(fetch(st, &format!("optim.v.{name}"))?.1);
        }
    }
    Some(o)
}

/// A tensor's shape and f32 data, if present and F32.
fn fetch(st: &SafeTensors, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
    let view = st.tensor(name).ok()?;
    if view.dtype() != Dtype::F32 {
        return None;
    }
    let data = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Some((view.shape().to_vec(), data))
}
