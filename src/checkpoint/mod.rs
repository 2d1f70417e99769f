//! Weights files: safetensors with one tensor per learned piece and param
//! (`cell.weight`, `cell.bias`, `embed.table`, `theta`), the vocabularies,
//! a fingerprint of the declarations and the optimizer state in the
//! metadata and extra `optim.*` tensors.
//!
//! Writing is atomic (a temporary file in the same directory, then rename),
//! so an interrupted save never leaves half a file. Reading (`read.rs`)
//! checks every tensor and every metadata value against the program: the
//! closed vocabularies symbol by symbol, each learned piece's declared type,
//! names, dtypes, shapes and finiteness of the tensors, the optimizer state.
//! `--weights`, `--resume` and the REPL's `:weights` all load through
//! [`load`]. This module does not train or evaluate.

mod read;
#[cfg(test)]
mod tests;

pub use read::{load, load_bytes};

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};

use crate::backend::Graph;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::pretty::pretty;
use crate::ir::Program;
use crate::runtime::vocab::Vocabularies;
use crate::runtime::weights::Weights;
use crate::train::optim::Optimizer;

/// Everything a weights file holds.
pub struct Checkpoint {
    pub vocabs: Vocabularies,
    pub weights: Weights,
    pub optimizer: Option<Optimizer>,
    /// Epochs completed when it was saved.
    pub epoch: usize,
    /// Things the user should know about a file that did load (e.g. one
    /// written by another tool, without dp's metadata); for stderr.
    pub notes: Vec<String>,
}

impl Checkpoint {
    /// What [`save`] writes: a state to save, with no notes.
    pub fn new(
        vocabs: Vocabularies,
        weights: Weights,
        optimizer: Option<Optimizer>,
        epoch: usize,
    ) -> Checkpoint {
        Checkpoint {
            vocabs,
            weights,
            optimizer,
            epoch,
            notes: Vec::new(),
        }
    }
}

/// The metadata format written by [`save`]. Format 1 (before each piece's
/// type was recorded) is still read, checked by its fingerprint.
pub const FORMAT: &str = "2";

/// The metadata key holding a learned piece's or param's declared type.
pub fn type_key(name: &str) -> String {
    format!("dp.type.{name}")
}

/// The declared type of every learned piece and param, by name, as the
/// metadata records it.
pub fn declared_types(program: &Program) -> Vec<(String, String, crate::source::Span)> {
    let learned = program.learned.iter().map(|p| {
        let ty = format!("{} -> {}", pretty(&p.domain), pretty(&p.codomain));
        (p.name.clone(), ty, p.span)
    });
    let params = program
        .params
        .iter()
        .map(|p| (p.name.clone(), pretty(&p.ty), p.span));
    learned.chain(params).collect()
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
    let bytes = to_bytes(program, graph, ckpt).map_err(|e| {
        Diagnostic::new(Code::Io, format!("cannot write `{}`: {e}", path.display()))
    })?;
    write_atomically(path, &bytes).map_err(|e| {
        Diagnostic::new(
            Code::Io,
            format!("cannot write `{}`: write: {e}", path.display()),
        )
    })
}

/// The bytes of a weights file.
pub fn to_bytes(program: &Program, graph: &Graph, ckpt: &Checkpoint) -> Result<Vec<u8>, String> {
    let io = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
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
    meta.insert("dp.format".to_string(), FORMAT.to_string());
    meta.insert("dp.fingerprint".to_string(), fingerprint(program));
    meta.insert("dp.epoch".to_string(), ckpt.epoch.to_string());
    for (name, ty, _) in declared_types(program) {
        meta.insert(type_key(&name), ty);
    }
    for (name, v) in &ckpt.vocabs.map {
        meta.insert(
            format!("dp.vocab.{name}"),
            serde_json::to_string(v.symbols()).unwrap_or_default(),
        );
    }
    if let Some(o) = &ckpt.optimizer {
        meta.insert("dp.optimizer".into(), o.kind.name().to_string());
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
    safetensors::serialize(views, &Some(header)).map_err(|e| io("serialize", &e))
}

/// Write to a temporary file beside `path` (`.NAME.tmpPID`), then rename
/// over it, so `path` is always the old file or the new one. Temporary
/// files of earlier saves to the same path whose process is gone (killed
/// mid-save) are removed first.
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
    remove_stale_temporaries(dir, &name);
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    fault_point("save:before");
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        let (first, rest) = bytes.split_at(bytes.len() / 2);
        f.write_all(first)?;
        fault_point("save:during");
        f.write_all(rest)?;
        f.sync_all()?;
        fault_point("save:written");
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    fault_point("save:after");
    result
}

/// Remove `.NAME.tmpPID` files in `dir` left by saves whose process no
/// longer runs (on systems without /proc: those older than an hour).
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let procfs = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let gone = if procfs {
            pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600)
        };
        if gone {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A test-only fault point: when the environment variable `DP_FAULT`
/// names this point, the process aborts here, as if killed (the kill -9
/// tests of tests/training.rs). Unset, it does nothing.
fn fault_point(point: &str) {
    if std::env::var_os("DP_FAULT").is_some_and(|v| v == point) {
        std::process::abort();
    }
}
