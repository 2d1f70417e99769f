//! JSON to values, by type.

use std::rc::Rc;

use serde_json::Value as Json;

use super::elems::{assemble_elems, packing, Elems, Packer, NO_ELEMS};
use super::printed::{self, Printed};
use super::tree::{number_rose, number_tree};
use crate::backend::Graph;
use crate::ir::pretty::pretty;
use crate::ir::ty::{Type, TypeTable};
use crate::runtime::value::{GridValue, ListValue, RoseValue, TreeValue, Value};
use crate::runtime::vocab::Vocabularies;

/// One example, decoded and checked against its type, host-side.
#[derive(Clone, Debug, PartialEq)]
pub enum Example {
    /// A representation value, flattened row-major.
    Reals(Vec<f32>),
    Int(i64),
    Bool(bool),
    /// A symbol index in its vocabulary.
    Sym(u32),
    Tuple(Vec<Example>),
    List(Elems),
    Leaf(Box<Example>),
    Node(Box<Example>, Box<Example>),
    /// A `Rose t` node: its label and its children.
    Rose(Box<Example>, Vec<Example>),
    Grid {
        height: usize,
        width: usize,
        cells: Elems,
    },
}

impl Example {
    /// Bytes this value holds beyond its own `size_of` (for the memory
    /// test: a decoded example should cost about its raw data).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let mut total = 0;
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            total += match e {
                Example::Reals(r) => r.capacity() * size_of::<f32>(),
                Example::Int(_) | Example::Bool(_) | Example::Sym(_) => 0,
                Example::Tuple(xs) => {
                    stack.extend(xs.iter());
                    xs.capacity() * size_of::<Example>()
                }
                Example::List(xs) | Example::Grid { cells: xs, .. } => xs.heap_bytes(),
                Example::Leaf(x) => {
                    stack.push(x);
                    size_of::<Example>()
                }
                Example::Node(l, r) => {
                    stack.push(l);
                    stack.push(r);
                    2 * size_of::<Example>()
                }
                Example::Rose(label, kids) => {
                    stack.push(label);
                    stack.extend(kids.iter());
                    (1 + kids.capacity()) * size_of::<Example>()
                }
            };
        }
        total
    }
}

/// A value that does not match its type: where (JSON path like `$[0][3]`),
/// what was expected and what was found. The caller adds file and line.
#[derive(Clone, Debug, PartialEq)]
pub struct DataError {
    pub path: String,
    pub expected: String,
    pub found: String,
}

pub(super) struct Decoder<'a> {
    types: &'a TypeTable,
    vocabs: &'a mut Vocabularies,
    /// Open vocabularies take in new symbols (training data).
    grow: bool,
    /// Strings may be the markers of non-finite reals ([`printed::prepare`]).
    markers: bool,
}

/// Check `json` against `ty` and decode it. With `grow`, symbols of open
/// vocabularies not yet known are added; without, they become `<unk>`.
pub fn decode(
    json: &Json,
    ty: &Type,
    types: &TypeTable,
    vocabs: &mut Vocabularies,
    grow: bool,
) -> Result<Example, DataError> {
    let mut d = Decoder {
        types,
        vocabs,
        grow,
        markers: false,
    };
    let mut path = String::from("$");
    d.value(json, ty, &mut path)
}

/// Decode JSON Lines text: one example per non-blank line. Errors come back
/// with their 1-based line number; every line is checked.
pub fn decode_lines(
    text: &str,
    ty: &Type,
    types: &TypeTable,
    vocabs: &mut Vocabularies,
    grow: bool,
) -> Result<Vec<Example>, Vec<(usize, DataError)>> {
    let mut examples = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (line, markers) = printed::prepare(line);
        let parsed = parse(&line).map_err(|e| DataError {
            path: "$".into(),
            expected: "a JSON value".into(),
            found: format!("invalid JSON ({e})"),
        });
        let decoded = parsed.and_then(|json| {
            let mut d = Decoder {
                types,
                vocabs: &mut *vocabs,
                grow,
                markers,
            };
            d.value(&json, ty, &mut String::from("$"))
        });
        match decoded {
            Ok(ex) => examples.push(ex),
            Err(e) => errors.push((i + 1, e)),
        }
    }
    if errors.is_empty() {
        Ok(examples)
    } else {
        Err(errors)
    }
}

/// One JSON value nested up to [`MAX_NESTING`] deep (a data tree of 10^6
/// levels is an array nested 10^6 deep, a rose tree's 2 * 10^6 deep;
/// serde_json's own limit is 128).
/// The parser recurses once per level (about 700 bytes of stack each): run
/// on the pipeline's big stack. Deeper text is refused before parsing.
fn parse(line: &str) -> Result<Json, String> {
    use serde::Deserialize;
    if nesting(line) > MAX_NESTING {
        return Err(format!("nested deeper than {MAX_NESTING} levels"));
    }
    let mut de = serde_json::Deserializer::from_str(line);
    de.disable_recursion_limit();
    let json = Json::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(json)
}

/// The deepest JSON nesting read: the deepest tree (a rose tree's level is
/// two arrays, `[label, [child]]`), plus room for the nesting of the data
/// type around it and in its labels.
const MAX_NESTING: usize = 2 * super::tree::MAX_DEPTH + 1_000;

/// How deep arrays and objects nest in `text` (brackets inside strings do
/// not count); the text need not be valid JSON.
fn nesting(text: &str) -> usize {
    let (mut depth, mut most, mut in_string, mut escaped) = (0usize, 0, false, false);
    for b in text.bytes() {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                most = most.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    most
}

/// What `json` is, in words; `markers` as in [`Decoder`].
fn describe(json: &Json, markers: bool) -> String {
    let short = |s: String| {
        if s.chars().count() > 40 {
            format!("{}…", s.chars().take(40).collect::<String>())
        } else {
            s
        }
    };
    match json {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("`{b}`"),
        Json::Number(n) => format!("the number {n}"),
        Json::String(s) => match printed::nonfinite(s).filter(|_| markers) {
            Some(x) => format!("the number {}", Printed::Real(x).to_json_text()),
            None => short(format!("the string {:?}", s)),
        },
        Json::Array(a) => format!("an array of {} element{}", a.len(), plural(a.len())),
        Json::Object(_) => "an object".into(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Decoder<'_> {
    pub(super) fn fail<T>(
        &self,
        path: &str,
        expected: impl Into<String>,
        json: &Json,
    ) -> Result<T, DataError> {
        Err(DataError {
            path: path.to_string(),
            expected: expected.into(),
            found: describe(json, self.markers),
        })
    }

    pub(super) fn value(
        &mut self,
        json: &Json,
        ty: &Type,
        path: &mut String,
    ) -> Result<Example, DataError> {
        if let (Type::Scores(v), Json::Object(map)) = (ty, json) {
            return self.scores_object(map, v, json, path);
        }
        if self.types.is_representation(ty) && !matches!(ty, Type::Tuple(_) | Type::Window(..)) {
            let shape = self.types.shape(ty).unwrap_or_default();
            let size = self.types.flat_size(ty);
            let mut out = Vec::new();
            self.reals(json, &shape, ty, path, &mut out)?;
            if let Some(size) = size {
                if out.len() != size {
                    return self.fail(path, format!("{} reals", size), json);
                }
            }
            return Ok(Example::Reals(out));
        }
        match ty {
            Type::Int => match json.as_i64() {
                Some(i) => Ok(Example::Int(i)),
                None => self.fail(path, "an integer (Int)", json),
            },
            Type::Bool => match json {
                Json::Bool(b) => Ok(Example::Bool(*b)),
                _ => self.fail(path, "`true` or `false` (Bool)", json),
            },
            Type::Vocab(v) => self.symbol(json, v, path),
            Type::Tuple(ts) => self.tuple(json, ts, path),
            Type::List(t) => self.list(json, t, path).map(Example::List),
            Type::Tree(t) => self.tree(json, t, path),
            Type::Rose(t) => self.rose(json, t, path),
            Type::Grid(t) => self.grid(json, t, path),
            other => Err(DataError {
                path: path.clone(),
                expected: format!("a type that data can hold, not `{}`", pretty(other)),
                found: describe(json, self.markers),
            }),
        }
    }

    fn reals(
        &mut self,
        json: &Json,
        shape: &[usize],
        ty: &Type,
        path: &mut String,
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        let Some((&n, rest)) = shape.split_first() else {
            let marked = match json {
                Json::String(s) if self.markers => printed::nonfinite(s),
                _ => None,
            };
            return match marked.or_else(|| json.as_f64().map(|x| x as f32)) {
                // A finite number beyond f32's range would silently become
                // infinite.
                Some(x) if x.is_infinite() && marked.is_none() => self.fail(
                    path,
                    format!("a number within a 32-bit float's range (±{:e})", f32::MAX),
                    json,
                ),
                Some(x) => {
                    out.push(x);
                    Ok(())
                }
                None => self.fail(path, "a number", json),
            };
        };
        let Json::Array(items) = json else {
            return self.fail(path, format!("an array of {n} for `{}`", pretty(ty)), json);
        };
        if items.len() != n {
            return self.fail(path, format!("an array of {n} for `{}`", pretty(ty)), json);
        }
        for (i, item) in items.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            self.reals(item, rest, ty, path, out)?;
            path.truncate(len);
        }
        Ok(())
    }

    /// `Scores v` of a closed vocabulary written as `dp run` prints it: an
    /// object from each symbol to its score (any order, every symbol once).
    fn scores_object(
        &mut self,
        map: &serde_json::Map<String, Json>,
        v: &Type,
        json: &Json,
        path: &mut String,
    ) -> Result<Example, DataError> {
        let symbols = match v {
            Type::Vocab(name) => self.types.vocabs.get(name).and_then(|d| d.symbols.clone()),
            _ => None,
        };
        let Some(symbols) = symbols else {
            let what = format!(
                "an array of scores (`{}`)",
                pretty(&Type::Scores(Box::new(v.clone())))
            );
            return self.fail(path, what, json);
        };
        let all = symbols
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        if map.len() != symbols.len() || symbols.iter().any(|s| !map.contains_key(s)) {
            return self.fail(
                path,
                format!("an object with a score for each of {all}"),
                json,
            );
        }
        let mut out = Vec::with_capacity(symbols.len());
        for s in &symbols {
            let len = path.len();
            path.push_str(&format!(".{s}"));
            if let Some(x) = map.get(s) {
                self.reals(x, &[], &Type::Float, path, &mut out)?;
            }
            path.truncate(len);
        }
        Ok(Example::Reals(out))
    }

    fn symbol(&mut self, json: &Json, vocab: &str, path: &str) -> Result<Example, DataError> {
        let Json::String(s) = json else {
            return self.fail(path, format!("a string (a symbol of `{vocab}`)"), json);
        };
        let Some(v) = self.vocabs.map.get_mut(vocab) else {
            return self.fail(path, format!("a symbol of `{vocab}`"), json);
        };
        if self.grow {
            v.insert(s.clone());
        }
        match v.lookup(s) {
            Some(i) => Ok(Example::Sym(i)),
            None => {
                let known: Vec<String> = v.symbols().iter().map(|s| format!("{s:?}")).collect();
                self.fail(
                    path,
                    format!("one of {} (vocab `{vocab}`)", known.join(", ")),
                    json,
                )
            }
        }
    }

    fn tuple(&mut self, json: &Json, ts: &[Type], path: &mut String) -> Result<Example, DataError> {
        let Json::Array(items) = json else {
            return self.fail(path, format!("an array of {} (a tuple)", ts.len()), json);
        };
        if items.len() != ts.len() {
            return self.fail(path, format!("an array of {} (a tuple)", ts.len()), json);
        }
        let mut out = Vec::with_capacity(ts.len());
        for (i, (item, t)) in items.iter().zip(ts).enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            out.push(self.value(item, t, path)?);
            path.truncate(len);
        }
        Ok(Example::Tuple(out))
    }

    fn list(&mut self, json: &Json, t: &Type, path: &mut String) -> Result<Elems, DataError> {
        let Json::Array(items) = json else {
            return self.fail(path, format!("an array (a `List {}`)", pretty(t)), json);
        };
        let mut out = Packer::new(packing(t, self.types), items.len());
        for (i, item) in items.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            out.push(self.value(item, t, path)?);
            path.truncate(len);
        }
        Ok(out.finish())
    }

    /// Is a value of `t` written as a JSON array (so tree leaves need `{"leaf": v}`)?
    pub(super) fn written_as_array(&self, t: &Type) -> bool {
        match t {
            Type::Tuple(_)
            | Type::List(_)
            | Type::Grid(_)
            | Type::Tree(_)
            | Type::Rose(_)
            | Type::Tensor(_) => true,
            Type::Rep(_) => self.types.shape(t).is_some_and(|s| !s.is_empty()),
            _ => false,
        }
    }

    fn grid(&mut self, json: &Json, t: &Type, path: &mut String) -> Result<Example, DataError> {
        let Json::Array(rows) = json else {
            return self.fail(
                path,
                format!("an array of rows (a `Grid {}`)", pretty(t)),
                json,
            );
        };
        let mut cells = Packer::new(packing(t, self.types), 0);
        let mut width = None;
        for (i, row) in rows.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let row_cells = self.list(row, t, path)?;
            match width {
                Some(w) if w != row_cells.len() => {
                    return self.fail(
                        path,
                        format!("a row of {w} cells like row 0 (grids are rectangular)"),
                        row,
                    );
                }
                _ => width = Some(row_cells.len()),
            }
            cells.append(row_cells);
            path.truncate(len);
        }
        Ok(Example::Grid {
            height: rows.len(),
            width: width.unwrap_or(0),
            cells: cells.finish(),
        })
    }
}

/// Lay out a batch of examples of type `ty` as one batched [`Value`].
/// The examples must have been decoded against `ty`.
pub fn assemble(graph: &Graph, examples: &[&Example], ty: &Type, types: &TypeTable) -> Value {
    let batch = examples.len();
    if types.is_representation(ty) && !matches!(ty, Type::Tuple(_) | Type::Window(..)) {
        let size = types.flat_size(ty).unwrap_or_else(|| {
            examples
                .iter()
                .find_map(|e| match e {
                    Example::Reals(r) => Some(r.len()),
                    _ => None,
                })
                .unwrap_or(0)
        });
        let mut data = Vec::with_capacity(batch * size);
        for e in examples {
            match e {
                Example::Reals(r) if r.len() == size => data.extend_from_slice(r),
                _ => data.extend(std::iter::repeat(0.0).take(size)),
            }
        }
        return Value::Real(graph.from_vec(batch, size, data));
    }
    match ty {
        Type::Int => Value::Int(Rc::new(
            examples
                .iter()
                .map(|e| match e {
                    Example::Int(i) => *i,
                    _ => 0,
                })
                .collect(),
        )),
        Type::Bool => Value::Bool(Rc::new(
            examples
                .iter()
                .map(|e| matches!(e, Example::Bool(true)))
                .collect(),
        )),
        Type::Vocab(_) => Value::Sym(Rc::new(
            examples
                .iter()
                .map(|e| match e {
                    Example::Sym(s) => *s,
                    _ => 0,
                })
                .collect(),
        )),
        Type::Tuple(ts) if ts.is_empty() => Value::Unit(batch),
        Type::Tuple(ts) => {
            let parts = ts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let column: Vec<&Example> = examples
                        .iter()
                        .map(|e| match e {
                            Example::Tuple(xs) => xs.get(i).unwrap_or(e),
                            _ => *e,
                        })
                        .collect();
                    assemble(graph, &column, t, types)
                })
                .collect();
            Value::Tuple(Rc::new(parts))
        }
        Type::List(t) => {
            let lists: Vec<&Elems> = examples
                .iter()
                .map(|e| match e {
                    Example::List(xs) => xs,
                    _ => &NO_ELEMS,
                })
                .collect();
            let (offsets, elems) = assemble_elems(graph, &lists, t, types);
            Value::List(Rc::new(ListValue { offsets, elems }))
        }
        Type::Grid(t) => {
            let mut dims = Vec::with_capacity(batch);
            let mut grids: Vec<&Elems> = Vec::with_capacity(batch);
            for e in examples {
                match e {
                    Example::Grid {
                        height,
                        width,
                        cells,
                    } => {
                        dims.push((*height, *width));
                        grids.push(cells);
                    }
                    _ => {
                        dims.push((0, 0));
                        grids.push(&NO_ELEMS);
                    }
                }
            }
            let (offsets, cells) = assemble_elems(graph, &grids, t, types);
            Value::Grid(Rc::new(GridValue {
                dims,
                offsets,
                cells,
            }))
        }
        Type::Tree(t) => assemble_trees(graph, examples, t, types),
        Type::Rose(t) => assemble_roses(graph, examples, t, types),
        _ => Value::Unit(batch),
    }
}

fn assemble_trees(graph: &Graph, examples: &[&Example], t: &Type, types: &TypeTable) -> Value {
    let mut nodes = Vec::new();
    let mut leaves = Vec::new();
    let mut roots = Vec::with_capacity(examples.len());
    for e in examples {
        roots.push(number_tree(e, &mut nodes, &mut leaves));
    }
    let leaves = assemble(graph, &leaves, t, types);
    Value::Tree(Rc::new(TreeValue {
        roots,
        nodes,
        leaves,
    }))
}

fn assemble_roses(graph: &Graph, examples: &[&Example], t: &Type, types: &TypeTable) -> Value {
    let mut rose = RoseValue {
        roots: Vec::with_capacity(examples.len()),
        offsets: vec![0],
        children: Vec::new(),
        labels: Value::Unit(0),
    };
    let mut labels = Vec::new();
    for e in examples {
        let root = number_rose(e, &mut rose.offsets, &mut rose.children, &mut labels);
        rose.roots.push(root);
    }
    rose.labels = assemble(graph, &labels, t, types);
    Value::Rose(Rc::new(rose))
}
