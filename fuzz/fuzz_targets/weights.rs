//! Bytes read as a weights file for a program with every kind of learned
//! piece (embeddings of an open and a closed vocabulary, affine maps with
//! tuple domain and codomain and to open Scores, a param): a checkpoint or
//! a diagnostic, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SOURCE: &str = include_str!("../programs/weights.dp");

thread_local! {
    static PROGRAM: dp::Program = dp::Program::from_source("weights.dp", SOURCE).expect("the program checks");
}

fuzz_target!(|data: &[u8]| {
    PROGRAM.with(|program| {
        let graph = dp::backend::Graph::inference();
        let ir = &program.compiled().program;
        let _ = dp::checkpoint::load_bytes(data, "fuzz.safetensors", ir, &graph);
    })
});
