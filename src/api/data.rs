//! Data sets: examples decoded against a function's argument type, from
//! JSON Lines text or from JSON values built in Rust (`serde_json::json!`),
//! checked once and then applied (or, later, trained on) without decoding
//! again.

use super::eval::apply_examples;
use super::{on_big_stack, Error, Model, Program};
use crate::codec::{self, Example};
use crate::diagnostic::{Code, Diagnostic, Failure};
use crate::ir::pretty::pretty;
use crate::ir::ty::Type;
use crate::runtime::{function_type, Vocabularies};

/// Examples of one function's argument type.
///
/// ```
/// use serde_json::json;
/// let program = dp::Program::from_source(
///     "d.dp",
///     "vocab L = [\"a\", \"b\"]\ndef n ((xs, l) : (List Int, L)) : Int = if l == \"a\" then length xs else 0",
/// )
/// .expect("checks");
/// let model = dp::Model::fresh(&program, 0).expect("weights");
/// let data = program
///     .data_from_values(&model, "n", &[json!([[1, 2, 3], "a"]), json!([[4], "b"])])
///     .expect("decodes");
/// assert_eq!(data.len(), 2);
/// assert_eq!(program.apply_data(&model, &data).expect("applies"), ["3", "0"]);
/// ```
pub struct DataSet {
    function: String,
    arg_ty: Type,
    examples: Vec<Example>,
    /// The vocabularies the symbols were numbered by.
    vocabs: Vocabularies,
}

impl std::fmt::Debug for DataSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSet")
            .field("function", &self.function)
            .field("argument_type", &self.argument_type())
            .field("examples", &self.len())
            .finish()
    }
}

impl DataSet {
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The function whose argument type the examples have.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// That argument type, as the spec prints types.
    pub fn argument_type(&self) -> String {
        pretty(&self.arg_ty)
    }
}

impl DataSet {
    /// The examples, if they are of type `arg_ty` and numbered by `vocabs`
    /// (a model's vocabularies).
    pub(crate) fn examples_for(
        &self,
        program: &Program,
        arg_ty: &Type,
        vocabs: &Vocabularies,
    ) -> Result<&[Example], Error> {
        if &self.arg_ty != arg_ty {
            return Err(program.error(Diagnostic::new(
                Code::TypeMismatch,
                format!(
                    "the data set holds arguments of `{}` (`{}`), not `{}`",
                    self.function,
                    pretty(&self.arg_ty),
                    pretty(arg_ty)
                ),
            )));
        }
        if &self.vocabs != vocabs {
            return Err(program.error(
                Diagnostic::new(
                    Code::BadData,
                    "the data set was decoded with other vocabularies than the model's",
                )
                .help("decode it against this model (`data_from_values(&model, ..)`)"),
            ));
        }
        Ok(&self.examples)
    }

    /// The vocabularies its symbols are numbered by.
    pub(crate) fn vocabularies(&self) -> &Vocabularies {
        &self.vocabs
    }
}

/// Where decoded lines come from, for diagnostics.
enum Lines<'a> {
    Jsonl(&'a str),
    Values(&'a [serde_json::Value]),
}

impl Program {
    /// Decode JSON Lines text against the argument type of `function`;
    /// every line is checked, and errors name the line and the JSON path
    /// (`<data>:3: at $[1]: ...`). Symbols of an open vocabulary that
    /// `model` does not know become `<unk>`.
    pub fn data_from_jsonl(
        &self,
        model: &Model,
        function: &str,
        text: &str,
    ) -> Result<DataSet, Error> {
        let vocabs = model.parts().0.clone();
        self.decode(function, vocabs, false, Lines::Jsonl(text))
    }

    /// Decode JSON values built in Rust against the argument type of
    /// `function`, as if each were a line of a data file (errors say
    /// `<value>:N`, counting values from 1).
    pub fn data_from_values(
        &self,
        model: &Model,
        function: &str,
        values: &[serde_json::Value],
    ) -> Result<DataSet, Error> {
        let vocabs = model.parts().0.clone();
        self.decode(function, vocabs, false, Lines::Values(values))
    }

    /// Decode training data as `dp train` does without `--resume`: every
    /// symbol of an open vocabulary becomes part of it (starting from the
    /// declared vocabularies). Build the model to train on it with
    /// [`Model::fresh_for`], and decode validation data against that model.
    pub fn growing_data_from_values(
        &self,
        function: &str,
        values: &[serde_json::Value],
    ) -> Result<DataSet, Error> {
        let vocabs = Vocabularies::from_types(&self.compiled.program.types);
        self.decode(function, vocabs, true, Lines::Values(values))
    }

    /// [`Program::growing_data_from_values`] for JSON Lines text.
    pub fn growing_data_from_jsonl(&self, function: &str, text: &str) -> Result<DataSet, Error> {
        let vocabs = Vocabularies::from_types(&self.compiled.program.types);
        self.decode(function, vocabs, true, Lines::Jsonl(text))
    }

    fn decode(
        &self,
        function: &str,
        mut vocabs: Vocabularies,
        grow: bool,
        lines: Lines,
    ) -> Result<DataSet, Error> {
        let (arg_ty, _) =
            function_type(&self.compiled.program, function).map_err(|d| self.error(d))?;
        let types = &self.compiled.program.types;
        let (examples, errors, name) = on_big_stack(|| match lines {
            Lines::Jsonl(text) => {
                match codec::decode_lines(text, &arg_ty, types, &mut vocabs, grow) {
                    Ok(examples) => (examples, Vec::new(), "<data>"),
                    Err(errors) => (Vec::new(), errors, "<data>"),
                }
            }
            Lines::Values(values) => {
                let mut examples = Vec::with_capacity(values.len());
                let mut errors = Vec::new();
                for (i, v) in values.iter().enumerate() {
                    match codec::decode(v, &arg_ty, types, &mut vocabs, grow) {
                        Ok(e) => examples.push(e),
                        Err(e) => errors.push((i + 1, e)),
                    }
                }
                (examples, errors, "<value>")
            }
        })?;
        if !errors.is_empty() {
            let diagnostics = codec::data_errors(std::path::Path::new(name), &arg_ty, errors);
            return Err(Error::from(Failure {
                sources: self.compiled.sources.clone(),
                diagnostics,
            }));
        }
        Ok(DataSet {
            function: function.to_string(),
            arg_ty,
            examples,
            vocabs,
        })
    }

    /// Apply the data set's function to every example, a batch at a time;
    /// each result as JSON text.
    pub fn apply_data(&self, model: &Model, data: &DataSet) -> Result<Vec<String>, Error> {
        let (vocabs, weights) = model.parts();
        let (arg_ty, _) =
            function_type(&self.compiled.program, &data.function).map_err(|d| self.error(d))?;
        let examples = data.examples_for(self, &arg_ty, vocabs)?;
        let mut rows = Vec::with_capacity(data.len());
        on_big_stack(|| {
            apply_examples(
                &self.compiled,
                vocabs,
                weights,
                &data.function,
                examples,
                0,
                &mut |row| {
                    rows.push(row);
                    true
                },
            )
        })??;
        Ok(rows)
    }

    /// Is `def` an objective `dp inspect` can measure (a function to
    /// `Float`)?
    pub fn check_objective(&self, def: &str) -> Result<(), Error> {
        crate::inspect::objective_argument(&self.compiled.program, def)
            .map(|_| ())
            .map_err(|d| self.error(d))
    }

    /// `dp inspect`: what the network of `data`'s function (an objective)
    /// does to the values flowing through it, measured over `data` with
    /// `model`'s weights ([`crate::inspect`]).
    pub fn inspect(&self, model: &Model, data: &DataSet) -> Result<crate::inspect::Report, Error> {
        let (vocabs, weights) = model.parts();
        let (arg_ty, _) =
            function_type(&self.compiled.program, &data.function).map_err(|d| self.error(d))?;
        let examples = data.examples_for(self, &arg_ty, vocabs)?;
        on_big_stack(|| {
            crate::inspect::inspect(&self.compiled, vocabs, weights, &data.function, examples)
        })?
        .map_err(|d| self.error(d))
    }
}
