//! Weights files saved for one program and loaded into another (or
//! tampered with): each case is the loaded program (or a change to the
//! file) and what loading says.

use std::collections::BTreeMap;

use expect_test::{expect, Expect};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::{load_bytes, to_bytes, Checkpoint};
use crate::backend::Graph;
use crate::diagnostic::render;
use crate::driver::{compile_source, Compiled};
use crate::runtime::Vocabularies;
use crate::train::optim::{Optimizer, OptimizerKind};

const BASE: &str = r#"
vocab Tok = ["0", "1", "2"]
vocab Res = ["0", "1", "2"]
rep E = R[2]
rep H = R[3]
learn embed : Tok -> E
learn cell : (H, E) -> H
learn out : H -> Scores Res
param theta : R[2]
def f (xs : List Tok) : Scores Res = out (fold (\h x -> tanh (cell (h, embed x))) zeros xs)
"#;

fn compiled(src: &str) -> Compiled {
    compile_source("test.dp", src).unwrap_or_else(|(s, d)| panic!("{}", render(&d, &s, false)))
}

/// The bytes `dp` saves for `src` (fresh weights, Adam state of one step).
fn saved(src: &str) -> Vec<u8> {
    let c = compiled(src);
    let vocabs = Vocabularies::from_types(&c.program.types);
    let weights = crate::train::fresh_weights(&c, &vocabs, 7)
        .unwrap_or_else(|f| panic!("{}", render(&f.diagnostics, &f.sources, false)));
    let sizes: Vec<usize> = weights
        .tensors()
        .iter()
        .map(|t| t.rows() * t.cols())
        .collect();
    let mut optimizer = Optimizer::new(OptimizerKind::Adam, 0.01, &sizes);
    optimizer.step = 1;
    let ckpt = Checkpoint::new(vocabs, weights, Some(optimizer), 3);
    to_bytes(&c.program, &Graph::inference(), &ckpt).expect("serialize")
}

/// What loading `bytes` into the program `src` says.
fn load_report(bytes: &[u8], src: &str) -> String {
    let c = compiled(src);
    match load_bytes(bytes, "w.safetensors", &c.program, &Graph::inference()) {
        Ok(ckpt) => {
            let mut s = format!("ok, epoch {}", ckpt.epoch);
            for n in ckpt.notes {
                s.push_str(&format!("\nnote: {n}"));
            }
            s
        }
        Err(d) => render(&[d], &c.sources, false),
    }
}

/// Weights saved for `BASE` loaded into `src`.
fn check(src: &str, expect: Expect) {
    expect.assert_eq(&load_report(&saved(BASE), src));
}

/// One tensor of a file: name, dtype, shape, bytes.
type Tensor = (String, Dtype, Vec<usize>, Vec<u8>);

/// `BASE`'s weights file changed by `edit` (its tensors and dp metadata;
/// `None` metadata writes a file without dp's), loaded into `BASE`.
fn check_edit(
    edit: impl FnOnce(&mut Vec<Tensor>, &mut Option<BTreeMap<String, String>>),
    expect: Expect,
) {
    let bytes = saved(BASE);
    let st = SafeTensors::deserialize(&bytes).expect("saved file");
    let mut tensors: Vec<Tensor> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let (_, header) = SafeTensors::read_metadata(&bytes).expect("header");
    let json = &header.metadata().as_ref().expect("metadata")["dp"];
    let mut meta = Some(serde_json::from_str(json).expect("dp metadata"));
    edit(&mut tensors, &mut meta);
    let views = tensors
        .iter()
        .map(|(n, dtype, shape, data)| {
            (
                n.clone(),
                TensorView::new(*dtype, shape.clone(), data).expect("view"),
            )
        })
        .collect::<Vec<_>>();
    let header = meta.map(|m| {
        std::collections::HashMap::from([(
            "dp".to_string(),
            serde_json::to_string(&m).expect("json"),
        )])
    });
    let edited = safetensors::serialize(views, &header).expect("serialize");
    expect.assert_eq(&load_report(&edited, BASE));
}

fn set(meta: &mut Option<BTreeMap<String, String>>, key: &str, value: &str) {
    if let Some(m) = meta {
        m.insert(key.to_string(), value.to_string());
    }
}

fn tensor<'a>(tensors: &'a mut [Tensor], name: &str) -> &'a mut Tensor {
    tensors
        .iter_mut()
        .find(|t| t.0 == name)
        .expect("tensor in the file")
}

#[test]
fn the_same_program_loads() {
    check(BASE, expect!["ok, epoch 3"]);
    // Declarations in another order are the same program.
    let reordered = BASE.replace("param theta : R[2]\n", "") + "param theta : R[2]\n";
    check(&reordered, expect!["ok, epoch 3"]);
}

#[test]
fn a_reordered_closed_vocabulary_is_named() {
    check(
        &BASE.replace(r#"Res = ["0", "1", "2"]"#, r#"Res = ["2", "1", "0"]"#),
        expect![[r#"
            Error[E0402]: `w.safetensors`: the closed vocabulary `Res` differs from the one the weights were trained with: symbol 0 is "2" in the program, "0" in the weights file
              help: restore the vocabulary's order, or retrain
        "#]],
    );
    check(
        &BASE.replace(r#"Tok = ["0", "1", "2"]"#, r#"Tok = ["0", "1", "2", "3"]"#),
        expect![[r#"
            Error[E0402]: `w.safetensors`: the closed vocabulary `Tok` differs from the one the weights were trained with: symbol 3 is "3" in the program, nothing in the weights file
              help: restore the vocabulary's order, or retrain
        "#]],
    );
}

#[test]
fn a_changed_piece_type_is_named_at_its_declaration() {
    check(
        &BASE
            .replace("cell : (H, E) -> H", "cell : (E, H) -> H")
            .replace("cell (h, embed x)", "cell (embed x, h)"),
        expect![[r#"
            [E0402] Error: `w.safetensors`: `cell` was trained as `(H, E) -> H`, the program declares `(E, H) -> H`
               ╭─[ test.dp:7:1 ]
               │
             7 │ learn cell : (E, H) -> H
               │ ────────────┬───────────  
               │             ╰───────────── declared here
               │ 
               │ Help: the weights do not fit this declaration: restore it, or retrain
            ───╯
        "#]],
    );
}

#[test]
fn other_shapes_and_names_name_the_tensor() {
    check(
        &BASE.replace("rep H = R[3]", "rep H = R[4]"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: tensor `cell.weight` has shape [3, 5], the program needs [4, 6]
              help: the weights were saved for a different program (rename or retrain)
        "#]],
    );
    check(
        &BASE.replace("cell", "cell2"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: has no tensor `cell2.weight`
              help: the weights were saved for a different program (rename or retrain)
        "#]],
    );
}

#[test]
fn every_tensor_is_checked() {
    check_edit(
        |t, _| {
            let w = tensor(t, "theta");
            w.1 = Dtype::F64;
            w.3 = vec![0; 16];
        },
        expect![[r#"
            Error[E0402]: `w.safetensors`: tensor `theta` is F64; dp reads F32 tensors
        "#]],
    );
    check_edit(
        |t, _| tensor(t, "theta").3[..4].copy_from_slice(&f32::NAN.to_le_bytes()),
        expect![[r#"
            Error[E0402]: `w.safetensors`: tensor `theta` holds a non-finite value (NaN) at index 0
        "#]],
    );
    check_edit(
        |t, _| {
            let extra = tensor(t, "theta").clone();
            t.push(("theta2".into(), extra.1, extra.2, extra.3));
        },
        expect![[r#"
            Error[E0402]: `w.safetensors`: has a tensor `theta2` that the program does not declare
              help: the weights were saved for a different program (rename or retrain)
        "#]],
    );
}

#[test]
fn the_optimizer_state_is_checked() {
    check_edit(
        |t, _| {
            let m = tensor(t, "optim.m.theta");
            m.2 = vec![1];
            m.3.truncate(4);
        },
        expect![[r#"
            Error[E0402]: `w.safetensors`: tensor `optim.m.theta` has shape [1], the program needs [2]
              help: the weights were saved for a different program (rename or retrain)
        "#]],
    );
    check_edit(
        |t, _| t.retain(|x| x.0 != "optim.v.cell.bias"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: has no tensor `optim.v.cell.bias`
              help: the weights were saved for a different program (rename or retrain)
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.optimizer", "sgd"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: has an optimizer tensor `optim.m.cell.bias` that the recorded optimizer state does not use
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.optimizer", "rmsprop"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: records an unknown optimizer "rmsprop"
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.optimizer.step", "-1"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: has a bad `dp.optimizer.step` in its metadata ("-1")
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.optimizer.lr", "inf"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: records a learning rate of inf
        "#]],
    );
}

#[test]
fn every_metadata_value_is_checked() {
    check_edit(
        |_, m| set(m, "dp.epoch", "three"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: has a bad `dp.epoch` in its metadata ("three")
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.format", "3"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: has metadata format "3", which this dp cannot read
              help: it was written by a newer dp
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.vocab.Word", "[]"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: records a vocabulary `Word` that the program does not declare
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.colour", "blue"),
        expect![[r#"
            Error[E0402]: `w.safetensors`: has an unknown metadata entry `dp.colour`
        "#]],
    );
    check_edit(
        |_, m| set(m, "dp.vocab.Res", "[\"0\", \"1\""),
        expect![[r#"
            Error[E0402]: `w.safetensors`: bad vocabulary `Res` in the metadata (EOF while parsing a list at line 1 column 9)
        "#]],
    );
}

/// Files of format 1 (an earlier dp) record no types: the fingerprint decides.
#[test]
fn files_of_an_earlier_dp_are_checked_by_fingerprint() {
    let old = |m: &mut Option<BTreeMap<String, String>>| {
        if let Some(m) = m {
            m.retain(|k, _| !k.starts_with("dp.type."));
            m.insert("dp.format".into(), "1".into());
        }
    };
    check_edit(|_, m| old(m), expect!["ok, epoch 3"]);
    check_edit(
        |_, m| {
            old(m);
            set(m, "dp.fingerprint", "0123456789abcdef");
        },
        expect![[r#"
            Error[E0402]: `w.safetensors`: the program's declarations changed since these weights were saved
              note: the file was written by an earlier dp, which did not record each learned piece's type, so the change cannot be named
              help: load it with the program it was trained with and save it again, or retrain
        "#]],
    );
}

/// A file written by another tool (no dp metadata) loads by tensor names,
/// with a note, as long as the program's vocabularies are all closed.
#[test]
fn files_without_dp_metadata_load_with_a_note() {
    check_edit(
        |t, m| {
            *m = None;
            t.retain(|x| !x.0.starts_with("optim."));
        },
        expect![[r#"
            ok, epoch 0
            note: `w.safetensors` has no dp metadata (written by another tool?): its tensors are read by name, with the program's vocabularies"#]],
    );
    let open = BASE.replace(r#"vocab Tok = ["0", "1", "2"]"#, "vocab Tok");
    let bytes = saved(&open);
    let st = SafeTensors::deserialize(&bytes).expect("saved file");
    let views: Vec<(String, TensorView)> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("optim."))
        .collect();
    let foreign = safetensors::serialize(views, &None).expect("serialize");
    expect![[r#"
        Error[E0402]: `w.safetensors`: does not record the symbols of the vocabulary `Tok`
          help: it has no dp metadata: an open vocabulary's symbols come only from a weights file that dp saved
    "#]]
    .assert_eq(&load_report(&foreign, &open));
}
