//! `dp graph` draws the network of every example: the SVG is laid out and
//! drawn by dp itself, renders to pixels (resvg), and shows every label of
//! the Graphviz version of the same graph (each op, learned piece with its
//! parameter count, input and module); `--format dot` is a well-formed
//! digraph with a cluster per module cell and a dashed loop per recurrence.

mod common;

use std::path::{Path, PathBuf};

use common::examples::dp;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "dp"))
        .collect();
    files.sort();
    files
}

/// The labels of a DOT text's nodes and edges (not the graph's title,
/// which only Graphviz shows), line by line.
fn dot_labels(dot: &str) -> Vec<String> {
    dot.split("[label=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once("\"]").map(|(l, _)| l))
        .flat_map(|l| l.split("\\n").map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// The SVG's text with XML's escapes undone.
fn svg_text(svg: &str) -> String {
    svg.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[test]
fn every_example_is_drawn_with_its_labels() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dp-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut problems = Vec::new();
    for file in examples() {
        let name = file
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let path = file.to_string_lossy().into_owned();
        let dot = dp(&["graph", &path, "--format", "dot"]);
        assert!(
            dot.starts_with("digraph ") && dot.trim_end().ends_with('}'),
            "{name}: {dot}"
        );
        let svg_path = dir.join(format!("{name}.svg"));
        dp(&["graph", &path, "-o", &svg_path.to_string_lossy()]);
        let svg = std::fs::read_to_string(&svg_path).expect("the picture");
        let text = svg_text(&svg);
        for label in dot_labels(&dot) {
            if !text.contains(label.as_str()) {
                problems.push(format!("{name}: `{label}` is not in the picture"));
            }
        }
        let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default());
        match tree {
            Ok(tree) => {
                let size = tree.size().to_int_size();
                let mut pixmap =
                    resvg::tiny_skia::Pixmap::new(size.width(), size.height()).expect("a canvas");
                resvg::render(&tree, Default::default(), &mut pixmap.as_mut());
                let inked = pixmap.pixels().iter().filter(|p| p.alpha() > 0).count();
                if inked < 1000 {
                    problems.push(format!("{name}: only {inked} pixels drawn"));
                }
            }
            Err(e) => problems.push(format!("{name}: not a valid SVG: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The DOT text of the sentiment RNN: the fold's cell in a cluster, its
/// state fed back by a dashed edge, learned pieces with their sizes.
#[test]
fn dot_shows_the_recurrence() {
    let dot = dp(&[
        "graph",
        "examples/sentiment.dp",
        "--def",
        "loss",
        "--format",
        "dot",
    ]);
    for want in [
        "digraph \"loss\"",
        "subgraph cluster_1",
        "label=\"cell of rnn (fold step)\"",
        "state: h : Hidden",
        "affine cell\\naffine 96 -> 64, 6,208 parameters",
        "style=dashed",
        "label=\"next step: Hidden [64]\"",
        "loss : Float",
    ] {
        assert!(dot.contains(want), "no `{want}` in\n{dot}");
    }
}
