//! Bounded property tests over the entry points the fuzz targets of
//! `fuzz/` exercise (the suite stays on stable and never builds the fuzz
//! crate): JSON Lines decoded against many types, with a print / decode /
//! print round trip for what decodes, and bytes read as a weights file.
//! Inputs are random bytes and mutations (cut, repeat, flip) of valid ones.

use proptest::prelude::*;

const DATA_PROGRAM: &str = include_str!("../fuzz/programs/data.dp");

/// A valid line of each def's type.
const GOOD: [(&str, &str); 6] = [
    ("a", r#"[[1, "the"], [-2, "film"]]"#),
    ("b", "[[1.5, [2.0, -3]], NaN]"),
    (
        "c",
        r#"[["pos", [1, 2]], [[["neg", [0.5, Infinity]], []]]]"#,
    ),
    ("d", "[[true, false], [false, true]]"),
    ("e", "[[1, 2, 3], [0.5, -1], [[1, 0], [0, 1]]]"),
    ("f", r#"[[["a", ["b", "c"]]], [], ["d"]]"#),
];

thread_local! {
    static DATA: dp::Program = dp::Program::from_source("data.dp", DATA_PROGRAM).expect("checks");
}

/// Decode `text` against `def`; what decodes prints, decodes and prints
/// the same again.
fn round_trip(def: &str, text: &str) {
    DATA.with(|program| round_trip_in(program, def, text));
}

fn round_trip_in(program: &dp::Program, def: &str, text: &str) {
    let Ok(set) = program.growing_data_from_jsonl(def, text) else {
        return;
    };
    let model = dp::Model::fresh_for(program, &set, 0).expect("fresh weights");
    let printed = program.apply_data(&model, &set).expect("prints");
    let again = program
        .data_from_jsonl(&model, def, &printed.join("\n"))
        .unwrap_or_else(|e| panic!("printed values do not decode: {e}\n{printed:?}"));
    let reprinted = program.apply_data(&model, &again).expect("prints again");
    assert_eq!(printed, reprinted);
}

/// `text` with `[cut, cut + len)` replaced by `insert`, on char boundaries.
fn mutate(text: &str, cut: usize, len: usize, insert: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = cut % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    let mut out: String = chars[..at].iter().collect();
    out.push_str(insert);
    out.extend(&chars[end..]);
    out
}

const WEIGHTS_PROGRAM: &str = include_str!("../fuzz/programs/weights.dp");

thread_local! {
    /// The weights program and a weights file of it, as `dp train` writes it.
    static WEIGHTS: (dp::Program, Vec<u8>) = weights_file();
}

fn weights_file() -> (dp::Program, Vec<u8>) {
    {
        let program = dp::Program::from_source("w.dp", WEIGHTS_PROGRAM).expect("checks");
        let data = program
            .growing_data_from_jsonl("loss", "[[\"a\", \"b\"], \"pos\"]\n")
            .expect("data");
        let model = dp::Model::fresh_for(&program, &data, 0).expect("weights");
        let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("dp-props-{}.safetensors", std::process::id()));
        model.save(&program, &path).expect("saves");
        let bytes = std::fs::read(&path).expect("reads");
        let _ = std::fs::remove_file(&path);
        (program, bytes)
    }
}

fn load(bytes: &[u8]) {
    WEIGHTS.with(|(program, _)| {
        let graph = dp::backend::Graph::inference();
        let ir = &program.compiled().program;
        let _ = dp::checkpoint::load_bytes(bytes, "props.safetensors", ir, &graph);
    })
}

const JSON_BITS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "1",
    "-2.5e3",
    "NaN",
    "Infinity",
    "true",
    "null",
    "\"pos\"",
    "{\"leaf\": 1}",
    "[]",
    "\n",
    " ",
    "\\u0000",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn data_mutations_decode_or_fail_cleanly(
        pick in 0usize..6, cut in 0usize..80, len in 0usize..6,
        bits in proptest::collection::vec(0..JSON_BITS.len(), 0..4),
    ) {
        let (def, good) = GOOD[pick];
        let insert: String = bits.iter().map(|&i| JSON_BITS[i]).collect();
        round_trip(def, good);
        round_trip(def, &mutate(good, cut, len, &insert));
    }

    #[test]
    fn random_data_bytes_never_panic(pick in 0usize..6, bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        round_trip(GOOD[pick].0, &String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn weights_mutations_load_or_fail_cleanly(
        at in 0usize..4096, flip in 1u8..=255, cut in proptest::option::of(0usize..4096),
    ) {
        let bytes = WEIGHTS.with(|(_, b)| b.clone());
        load(&bytes);
        let mut changed = bytes.clone();
        let i = at % changed.len();
        changed[i] ^= flip;
        load(&changed);
        if let Some(c) = cut {
            load(&bytes[..c % bytes.len()]);
        }
    }

    #[test]
    fn random_weights_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        load(&bytes);
    }
}

/// The valid lines the mutations start from do decode (so the round trip
/// above is exercised), and a weights file loads.
#[test]
fn the_seeds_are_valid() {
    for (def, good) in GOOD {
        DATA.with(|program| {
            let set = program
                .growing_data_from_jsonl(def, good)
                .unwrap_or_else(|e| panic!("{def}: {e}"));
            assert_eq!(set.len(), 1, "{def}");
        });
        round_trip(def, good);
    }
    WEIGHTS.with(|(program, bytes)| {
        let graph = dp::backend::Graph::inference();
        let ir = &program.compiled().program;
        dp::checkpoint::load_bytes(bytes, "w.safetensors", ir, &graph).expect("loads");
    });
}

/// `Scores v` prints as an object from symbol to score, and reads back
/// from that object (any order, every symbol once) as from an array; an
/// object missing or adding a symbol is a data error naming them.
#[test]
fn scores_read_back_as_printed() {
    DATA.with(|program| {
        let line = r#"[[1, 2, 3], {"pos": -1, "neg": 0.5}, [[1, 0], [0, 1]]]"#;
        let set = program
            .growing_data_from_jsonl("e", line)
            .expect("an object reads");
        let model = dp::Model::fresh_for(program, &set, 0).expect("weights");
        let printed = program.apply_data(&model, &set).expect("prints");
        assert_eq!(
            printed,
            [r#"[[1.0,2.0,3.0],{"neg":0.5,"pos":-1.0},[[1.0,0.0],[0.0,1.0]]]"#]
        );
        for bad in [
            r#"{"neg": 0.5}"#,
            r#"{"neg": 0.5, "pos": 1, "odd": 2}"#,
            r#"{"neg": 0.5, "pos": "x"}"#,
        ] {
            let line = format!("[[1, 2, 3], {bad}, [[1, 0], [0, 1]]]");
            let e = program
                .growing_data_from_jsonl("e", &line)
                .expect_err(bad)
                .to_string();
            assert!(e.contains("at $[1]"), "{e}");
        }
        let e = program
            .growing_data_from_jsonl("e", r#"[[1, 2, 3], {"neg": 0.5}, [[1, 0], [0, 1]]]"#)
            .expect_err("a missing symbol")
            .to_string();
        assert!(e.contains(r#"a score for each of "neg", "pos""#), "{e}");
    });
}
