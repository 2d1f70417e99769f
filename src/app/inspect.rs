//! `dp inspect`: the report of `dp::inspect` as a table on the terminal or
//! as JSON (`--json`), and as bar charts in an SVG file (`-o`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use dp::diagnostic::{Code, Diagnostic, Failure};
use dp::inspect::Report;

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// The program.
    pub file: PathBuf,
    /// The data to measure over (JSON Lines, arguments of the objective).
    #[arg(long)]
    pub data: PathBuf,
    /// Trained weights (default: fresh weights drawn with --seed).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// The objective to measure (a function to Float).
    #[arg(long, default_value = "loss")]
    pub def: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The seed of fresh weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also draw the report as bar charts into this SVG file.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

/// Measure and print.
pub fn inspect(args: &InspectArgs, out: &mut impl Write) -> Result<(), Failure> {
    let program = dp::Program::from_file(&args.file)?;
    program.check_objective(&args.def)?;
    let text = std::fs::read_to_string(&args.data).map_err(|e| {
        let msg = format!("cannot read `{}`: {e}", args.data.display());
        Failure::with(&Default::default(), Diagnostic::new(Code::Io, msg))
    })?;
    let (model, data) = match &args.weights {
        Some(w) => {
            let model = dp::Model::load(&program, w)?;
            let data = program.data_from_jsonl(&model, &args.def, &text)?;
            (model, data)
        }
        None => {
            let data = program.growing_data_from_jsonl(&args.def, &text)?;
            (dp::Model::fresh_for(&program, &data, args.seed)?, data)
        }
    };
    let report = program.inspect(&model, &data)?;
    if let Some(path) = &args.output {
        let fail = |what: String| {
            let msg = format!("cannot write the report `{}`: {what}", path.display());
            Failure::with(&Default::default(), Diagnostic::new(Code::Io, msg))
        };
        let svg = dp::inspect::report_svg(&report).map_err(fail)?;
        dp::checkpoint::write_atomically(path, svg.as_bytes()).map_err(|e| fail(e.to_string()))?;
    }
    let text = if args.json {
        format!("{:#}\n", to_json(&report))
    } else {
        table(&report, &args.data, args.weights.as_deref())
    };
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

fn to_json(r: &Report) -> serde_json::Value {
    let reps: Vec<serde_json::Value> = r
        .representations
        .iter()
        .map(|s| {
            json!({
                "name": s.name, "dim": s.dim, "values": s.values, "mean_norm": s.mean_norm,
                "effective_rank": s.effective_rank, "dead_units": s.dead_units, "zeros": s.zeros,
            })
        })
        .collect();
    let tensors: Vec<serde_json::Value> = r
        .tensors
        .iter()
        .map(|t| {
            json!({
                "name": t.name, "shape": t.shape, "norm": t.norm,
                "top_singular_value": t.top_singular, "grad_norm": t.grad_norm,
            })
        })
        .collect();
    let noise: Vec<serde_json::Value> = r
        .noise
        .iter()
        .map(|n| {
            let remains: serde_json::Map<String, serde_json::Value> = n
                .remains
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            json!({"at": n.at, "remains": remains, "objective": n.objective})
        })
        .collect();
    json!({
        "def": r.def, "examples": r.examples, "objective": r.objective,
        "representations": reps, "tensors": tensors, "noise_stability": noise,
    })
}

/// The report as two aligned tables.
fn table(r: &Report, data: &Path, weights: Option<&Path>) -> String {
    let with = weights.map_or("fresh weights".to_string(), |w| w.display().to_string());
    let mut lines = vec![format!(
        "{} over {} examples of {} with {}: mean {:.4}",
        r.def,
        r.examples,
        data.display(),
        with,
        r.objective
    )];
    lines.push(String::new());
    lines.push("representations, where their values enter learned pieces:".into());
    let mut rows = vec![[
        "rep",
        "dim",
        "values",
        "mean norm",
        "eff. rank",
        "dead units",
        "zeros",
    ]
    .map(String::from)
    .to_vec()];
    for s in &r.representations {
        rows.push(vec![
            s.name.clone(),
            s.dim.to_string(),
            s.values.to_string(),
            format!("{:.3}", s.mean_norm),
            s.effective_rank.map_or("-".into(), |e| format!("{e:.1}")),
            format!("{:.1}%", 100.0 * s.dead_units),
            format!("{:.1}%", 100.0 * s.zeros),
        ]);
    }
    lines.extend(aligned(&rows));
    lines.push(String::new());
    lines.push("weights:".into());
    let mut rows = vec![["tensor", "shape", "norm", "top sv", "grad norm"]
        .map(String::from)
        .to_vec()];
    for t in &r.tensors {
        let shape: Vec<String> = t.shape.iter().map(usize::to_string).collect();
        rows.push(vec![
            t.name.clone(),
            shape.join(" x "),
            format!("{:.3}", t.norm),
            format!("{:.3}", t.top_singular),
            format!("{:.2e}", t.grad_norm),
        ]);
    }
    lines.extend(aligned(&rows));
    lines.push(String::new());
    lines.push(format!(
        "noise stability: Gaussian noise of relative size 0.1 at one representation, \
         and the fraction of it left at each (and at {}):",
        r.def
    ));
    let mut head = vec!["noise at".to_string()];
    head.extend(r.representations.iter().map(|s| s.name.clone()));
    head.push(r.def.clone());
    let mut rows = vec![head];
    let show = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3}"));
    for n in &r.noise {
        let mut row = vec![n.at.clone()];
        for s in &r.representations {
            let v = n
                .remains
                .iter()
                .find(|(k, _)| *k == s.name)
                .and_then(|(_, v)| *v);
            row.push(show(v));
        }
        row.push(show(n.objective));
        rows.push(row);
    }
    lines.extend(aligned(&rows));
    lines.join("\n") + "\n"
}

/// Rows as columns padded to their widest cell (text left, numbers right).
fn aligned(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, &w))| {
                    if c == 0 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            format!("  {}", cells.join("  ")).trim_end().to_string()
        })
        .collect()
}
