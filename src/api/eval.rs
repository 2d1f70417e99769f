//! Evaluation through the API: an expression in a program's scope, and a
//! global function applied to a data set, in batches, its results as JSON
//! text (spec section 8) or as `ndarray` arrays.

use super::{on_big_stack, Error, Model};
use crate::backend::Graph;
use crate::codec::{self, Example};
use crate::diagnostic::{Code, Diagnostic, Failure};
use crate::driver::Compiled;
use crate::ir::ty::Type;
use crate::ir::Program;
use crate::runtime::{self, function_type, global_function, Context, Vocabularies, Weights};
use crate::source::SourceMap;

/// Examples per evaluation batch when applying a function to a data set.
pub const APPLY_BATCH: usize = 256;

/// Parse, check and evaluate an expression in the program's scope (its
/// random draws from `seed`, as the example at position 0); its JSON.
pub fn eval_text(
    compiled: &mut Compiled,
    vocabs: &Vocabularies,
    weights: &Weights,
    graph: &mut Graph,
    text: &str,
    seed: u64,
) -> Result<String, Failure> {
    let id = compiled.sources.add("<eval>", text);
    let (expr, diags) = crate::syntax::parse_expr(id, text);
    let fail = |sources: &SourceMap, diagnostics| Failure {
        sources: sources.clone(),
        diagnostics,
    };
    let Some(expr) = expr.filter(|_| diags.is_empty()) else {
        return Err(fail(&compiled.sources, diags));
    };
    let typed = crate::types::check_expr(&compiled.program, &expr)
        .map_err(|d| fail(&compiled.sources, d))?;
    let mut ctx = Context::new(&compiled.program, vocabs, weights);
    ctx.draws.seed = seed;
    let value = runtime::eval_closed(&ctx, graph, &typed, 1)
        .map_err(|d| fail(&compiled.sources, vec![d]))?;
    encode_one(
        graph,
        &value,
        &typed.ty,
        &compiled.program,
        vocabs,
        &compiled.sources,
    )
}

pub fn encode_one(
    graph: &Graph,
    value: &runtime::Value,
    ty: &Type,
    program: &Program,
    vocabs: &Vocabularies,
    sources: &SourceMap,
) -> Result<String, Failure> {
    match codec::encode(graph, value, ty, &program.types, vocabs) {
        Ok(mut rows) if rows.len() == 1 => Ok(codec::format_json(&rows.remove(0))),
        Ok(_) => Err(Failure::with(
            sources,
            Diagnostic::new(Code::RuntimeError, "internal: expected one value"),
        )),
        Err(msg) => Err(Failure::with(
            sources,
            Diagnostic::new(Code::RuntimeError, msg),
        )),
    }
}

/// Apply the global function `name` to `examples` (decoded against its
/// argument type), a batch at a time, random draws from `seed` (each
/// example at its position in `examples`); `emit` receives each result as
/// JSON text, in order, and returns false to stop early.
pub fn apply_examples(
    compiled: &Compiled,
    vocabs: &Vocabularies,
    weights: &Weights,
    name: &str,
    examples: &[Example],
    seed: u64,
    emit: &mut dyn FnMut(String) -> bool,
) -> Result<(), Failure> {
    let program = &compiled.program;
    let sources = &compiled.sources;
    let (arg_ty, result_ty) =
        function_type(program, name).map_err(|d| Failure::with(sources, d))?;
    for (k, chunk) in examples.chunks(APPLY_BATCH).enumerate() {
        let start = (k * APPLY_BATCH) as u64;
        let positions: Vec<u64> = (start..start + chunk.len() as u64).collect();
        let mut ctx = Context::new(program, vocabs, weights);
        ctx.draws.seed = seed;
        ctx.draws.positions = &positions;
        let mut graph = Graph::inference();
        let refs: Vec<_> = chunk.iter().collect();
        let arg = codec::assemble(&graph, &refs, &arg_ty, &program.types);
        let f = global_function(&ctx, &mut graph, name, chunk.len())
            .map_err(|d| Failure::with(sources, d))?;
        let span = crate::source::Span::default();
        let value = runtime::apply(&ctx, &mut graph, &f, vec![arg], span)
            .map_err(|d| Failure::with(sources, d))?;
        let rows = codec::encode(&graph, &value, &result_ty, &program.types, vocabs)
            .map_err(|m| Failure::with(sources, Diagnostic::new(Code::RuntimeError, m)))?;
        for row in rows {
            if !emit(codec::format_json(&row)) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The batched value of `x`'s rows, for a function of a representation type.
fn real_rows(graph: &Graph, x: ndarray::ArrayView2<f32>) -> crate::runtime::Value {
    let data: Vec<f32> = x.iter().copied().collect();
    crate::runtime::Value::Real(graph.from_vec(x.nrows(), x.ncols(), data))
}

/// The flat size of a representation type held as one row of reals.
fn row_size(program: &Program, ty: &Type) -> Option<usize> {
    let plain =
        program.types.is_representation(ty) && !matches!(ty, Type::Tuple(_) | Type::Window(..));
    plain.then(|| program.types.flat_size(ty)).flatten()
}

impl super::Program {
    /// Evaluate `expr` in the program's scope with `model`'s weights; its
    /// value as JSON text (section 8), as `dp run --eval` prints it.
    ///
    /// ```
    /// let mut program = dp::Program::from_source("p.dp", "param p : R[2] = [1, 2]").expect("checks");
    /// let model = dp::Model::fresh(&program, 0).expect("weights");
    /// assert_eq!(program.eval(&model, "p * 2.0").expect("evaluates"), "[2.0,4.0]");
    /// ```
    pub fn eval(&mut self, model: &Model, expr: &str) -> Result<String, Error> {
        let (vocabs, weights) = model.parts();
        let compiled = &mut self.compiled;
        on_big_stack(|| eval_text(compiled, vocabs, weights, &mut Graph::inference(), expr, 0))?
            .map_err(Error::from)
    }

    /// Apply the global function `name` to each line of JSON Lines `data`
    /// (decoded against its argument type; errors name the line and JSON
    /// path); each result as JSON text, as `dp run --apply` prints it.
    pub fn apply_json(&self, model: &Model, name: &str, data: &str) -> Result<Vec<String>, Error> {
        let data = self.data_from_jsonl(model, name, data)?;
        self.apply_data(model, &data)
    }

    /// Apply a function from one representation type to another (`R[n] ->
    /// R[m]`, a rep, `Scores v`) to each row of `x`, as one batch; the
    /// results' rows (flattened row-major).
    ///
    /// ```
    /// use ndarray::array;
    /// let program = dp::Program::from_source(
    ///     "lin.dp",
    ///     "param w : R[2, 3] = [[1, 0, 0], [0, 1, 1]]\ndef f (x : R[3]) : R[2] = w @ x",
    /// )
    /// .expect("checks");
    /// let model = dp::Model::fresh(&program, 0).expect("weights");
    /// let y = program.apply_array(&model, "f", array![[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]].view());
    /// assert_eq!(y.expect("applies"), array![[1.0, 5.0], [0.5, -1.0]]);
    /// ```
    pub fn apply_array(
        &self,
        model: &Model,
        name: &str,
        x: ndarray::ArrayView2<f32>,
    ) -> Result<ndarray::Array2<f32>, Error> {
        let compiled = &self.compiled;
        let program = &compiled.program;
        let (vocabs, weights) = model.parts();
        let fail = |d: Diagnostic| self.error(d);
        let (arg_ty, result_ty) = function_type(program, name).map_err(fail)?;
        let shape_error = |what: String| fail(Diagnostic::new(Code::ShapeMismatch, what));
        let (Some(n), Some(m)) = (row_size(program, &arg_ty), row_size(program, &result_ty)) else {
            return Err(shape_error(format!(
                "`{name}` is not a function between representation types, so it cannot be \
                 applied to an array"
            )));
        };
        if x.ncols() != n {
            return Err(shape_error(format!(
                "`{name}` takes rows of {n} reals, the array's have {}",
                x.ncols()
            )));
        }
        if x.nrows() == 0 {
            return Ok(ndarray::Array2::zeros((0, m)));
        }
        let ctx = Context::new(program, vocabs, weights);
        let out = on_big_stack(|| {
            let mut graph = Graph::inference();
            let arg = real_rows(&graph, x);
            let f = global_function(&ctx, &mut graph, name, x.nrows())?;
            let span = crate::source::Span::default();
            match runtime::apply(&ctx, &mut graph, &f, vec![arg], span)? {
                runtime::Value::Real(r) => Ok(graph.to_vec(&r)),
                _ => Err(Diagnostic::new(Code::RuntimeError, "internal: not reals")),
            }
        })?
        .map_err(fail)?;
        ndarray::Array2::from_shape_vec((x.nrows(), m), out).map_err(|e| {
            fail(Diagnostic::new(
                Code::RuntimeError,
                format!("internal: {e}"),
            ))
        })
    }
}
