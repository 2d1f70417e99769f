//! JSON Lines decoded against a set of types (lists, trees, rose trees,
//! grids, tuples, vocabularies, tensors, reps, Scores): each line a value
//! or a data error, never a panic. What decodes is printed, decoded again
//! and printed again: the two printings must be equal (a round trip).
#![no_main]

use libfuzzer_sys::fuzz_target;

const SOURCE: &str = include_str!("../programs/data.dp");

const DEFS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

thread_local! {
    static PROGRAM: dp::Program = dp::Program::from_source("data.dp", SOURCE).expect("the program checks");
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let def = DEFS[pick as usize % DEFS.len()];
    let text = String::from_utf8_lossy(rest);
    PROGRAM.with(|program| round_trip(program, def, &text));
});

fn round_trip(program: &dp::Program, def: &str, text: &str) {
    let Ok(set) = program.growing_data_from_jsonl(def, text) else {
        return;
    };
    let Ok(model) = dp::Model::fresh_for(program, &set, 0) else {
        return;
    };
    let Ok(printed) = program.apply_data(&model, &set) else {
        return;
    };
    let again = program
        .data_from_jsonl(&model, def, &printed.join("\n"))
        .expect("printed values decode");
    let reprinted = program.apply_data(&model, &again).expect("and print");
    assert_eq!(printed, reprinted, "a round trip changed the values");
}
