//! The elements of a decoded list and the cells of a decoded grid, packed
//! flat when their type allows (reals, integers, booleans, symbols), so a
//! decoded example costs about its raw data: an 8x8 `Grid Float` is 256
//! bytes of floats, not 64 boxed examples. Reals are held in `ndarray`
//! form, an `[elements, size]` array (host-side data, as the project's card
//! names it). Assembling a batch of packed elements is one concatenation.

use std::rc::Rc;

use super::decode::{assemble, Example};
use crate::backend::Graph;
use crate::ir::ty::{Type, TypeTable};
use crate::runtime::value::Value;

/// The elements of one list (or the cells of one grid, row-major).
#[derive(Clone, Debug, PartialEq)]
pub enum Elems {
    /// Elements of a representation type: one row of reals each, an
    /// `[elements, size]` array.
    Reals(ndarray::Array2<f32>),
    Ints(Vec<i64>),
    Bools(Vec<bool>),
    /// Symbol indices in the element type's vocabulary.
    Syms(Vec<u32>),
    /// Any other element type: one example each.
    Any(Vec<Example>),
}

/// How elements of a type are packed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Packing {
    Reals(usize),
    Ints,
    Bools,
    Syms,
    No,
}

/// The packing of elements of type `t` (the same for every list of `t`).
pub fn packing(t: &Type, types: &TypeTable) -> Packing {
    if types.is_representation(t) && !matches!(t, Type::Tuple(_) | Type::Window(..)) {
        return match types.flat_size(t) {
            Some(n) if n > 0 => Packing::Reals(n),
            _ => Packing::No,
        };
    }
    match t {
        Type::Int => Packing::Ints,
        Type::Bool => Packing::Bools,
        Type::Vocab(_) => Packing::Syms,
        _ => Packing::No,
    }
}

/// No elements (what a value that is not a list stands for).
pub static NO_ELEMS: Elems = Elems::Any(Vec::new());

impl Elems {
    pub fn len(&self) -> usize {
        match self {
            Elems::Reals(a) => a.nrows(),
            Elems::Ints(v) => v.len(),
            Elems::Bools(v) => v.len(),
            Elems::Syms(v) => v.len(),
            Elems::Any(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements of a representation type as an `[elements, size]` array.
    pub fn reals(&self) -> Option<ndarray::ArrayView2<'_, f32>> {
        match self {
            Elems::Reals(a) => Some(a.view()),
            _ => None,
        }
    }

    /// Bytes held on the heap (for the memory test).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        match self {
            Elems::Reals(a) => a.len() * size_of::<f32>(),
            Elems::Ints(v) => v.capacity() * size_of::<i64>(),
            Elems::Bools(v) => v.capacity(),
            Elems::Syms(v) => v.capacity() * size_of::<u32>(),
            Elems::Any(v) => {
                v.capacity() * size_of::<Example>()
                    + v.iter().map(Example::heap_bytes).sum::<usize>()
            }
        }
    }
}

/// Collects the elements of one list or grid as they are decoded, packed
/// by their type; [`Packer::finish`] gives the [`Elems`] (reals frozen
/// into an exactly sized array).
pub struct Packer {
    /// `Some(size)` when the elements are reals of `size` each.
    size: Option<usize>,
    reals: Vec<f32>,
    other: Elems,
}

impl Packer {
    pub fn new(packing: Packing, capacity: usize) -> Packer {
        let (size, other) = match packing {
            Packing::Reals(size) => (Some(size), Elems::Any(Vec::new())),
            Packing::Ints => (None, Elems::Ints(Vec::with_capacity(capacity))),
            Packing::Bools => (None, Elems::Bools(Vec::with_capacity(capacity))),
            Packing::Syms => (None, Elems::Syms(Vec::with_capacity(capacity))),
            Packing::No => (None, Elems::Any(Vec::with_capacity(capacity))),
        };
        let reals = Vec::with_capacity(capacity * size.unwrap_or(0));
        Packer { size, reals, other }
    }

    /// Add one element decoded against the element type (of this
    /// packing's kind; anything else is kept as it is only in `Any`).
    pub fn push(&mut self, e: Example) {
        match (&mut self.other, &e) {
            (_, Example::Reals(r)) if Some(r.len()) == self.size => self.reals.extend_from_slice(r),
            (Elems::Ints(v), Example::Int(i)) => v.push(*i),
            (Elems::Bools(v), Example::Bool(b)) => v.push(*b),
            (Elems::Syms(v), Example::Sym(s)) => v.push(*s),
            (Elems::Any(v), _) if self.size.is_none() => v.push(e),
            _ => {}
        }
    }

    /// Add all of `other`'s elements (of the same packing).
    pub fn append(&mut self, other: Elems) {
        match (&mut self.other, other) {
            (_, Elems::Reals(a)) if self.size == Some(a.ncols()) => self.reals.extend(a.iter()),
            (Elems::Ints(v), Elems::Ints(w)) => v.extend(w),
            (Elems::Bools(v), Elems::Bools(w)) => v.extend(w),
            (Elems::Syms(v), Elems::Syms(w)) => v.extend(w),
            (Elems::Any(v), Elems::Any(w)) if self.size.is_none() => v.extend(w),
            _ => {}
        }
    }

    /// The elements, with no spare capacity.
    pub fn finish(self) -> Elems {
        let mut out = match self.size {
            Some(size) => {
                let mut reals = self.reals;
                reals.shrink_to_fit();
                let rows = reals.len() / size.max(1);
                // `rows * size == reals.len()`: only whole elements are pushed.
                ndarray::Array2::from_shape_vec((rows, size), reals)
                    .map_or(Elems::Any(Vec::new()), Elems::Reals)
            }
            None => self.other,
        };
        match &mut out {
            Elems::Ints(v) => v.shrink_to_fit(),
            Elems::Bools(v) => v.shrink_to_fit(),
            Elems::Syms(v) => v.shrink_to_fit(),
            Elems::Any(v) => v.shrink_to_fit(),
            Elems::Reals(_) => {}
        }
        out
    }
}

/// The elements of a batch of lists (or grids) of element type `t`: the
/// offsets of each example's elements, and one batched value of them all.
pub fn assemble_elems(
    graph: &Graph,
    lists: &[&Elems],
    t: &Type,
    types: &TypeTable,
) -> (Vec<usize>, Value) {
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    offsets.push(0);
    for l in lists {
        offsets.push(offsets[offsets.len() - 1] + l.len());
    }
    let total = offsets[offsets.len() - 1];
    let value = match packing(t, types) {
        Packing::Reals(size) => {
            let mut data = Vec::with_capacity(total * size);
            for l in lists {
                match l {
                    Elems::Reals(a) => data.extend(a.iter()),
                    other => data.resize(data.len() + other.len() * size, 0.0),
                }
            }
            Value::Real(graph.from_vec(total, size, data))
        }
        Packing::Ints => Value::Int(Rc::new(concat(lists, total, |l| match l {
            Elems::Ints(v) => Some(v),
            _ => None,
        }))),
        Packing::Bools => Value::Bool(Rc::new(concat(lists, total, |l| match l {
            Elems::Bools(v) => Some(v),
            _ => None,
        }))),
        Packing::Syms => Value::Sym(Rc::new(concat(lists, total, |l| match l {
            Elems::Syms(v) => Some(v),
            _ => None,
        }))),
        Packing::No => {
            let mut elems: Vec<&Example> = Vec::with_capacity(total);
            for l in lists {
                if let Elems::Any(v) = l {
                    elems.extend(v.iter());
                }
            }
            assemble(graph, &elems, t, types)
        }
    };
    (offsets, value)
}

/// The packed vectors of `lists` one after the other (defaults where a
/// list is not packed so, keeping every example's length).
fn concat<T: Clone + Default>(
    lists: &[&Elems],
    total: usize,
    packed: impl Fn(&Elems) -> Option<&Vec<T>>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(total);
    for l in lists {
        match packed(l) {
            Some(v) => out.extend_from_slice(v),
            None => out.resize(out.len() + l.len(), T::default()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::codec::decode_lines;
    use crate::runtime::Vocabularies;

    /// A decoded list of a representation type is held as an
    /// `[elements, size]` array, a grid of reals as `[cells, 1]`.
    #[test]
    fn decoded_reals_are_held_as_arrays() {
        use crate::codec::Example;
        let c = crate::driver::compile_source(
            "t.dp",
            "def f (x : (List R[3], Grid Float)) : Float = 0.0\n",
        )
        .unwrap_or_else(|_| panic!("compiles"));
        let (arg, _) =
            crate::runtime::function_type(&c.program, "f").unwrap_or_else(|_| panic!("f"));
        let mut vocabs = Vocabularies::from_types(&c.program.types);
        let line = "[[[1, 2, 3], [4, 5, 6]], [[0.5, 1.5], [2.5, 3.5]]]";
        let examples = decode_lines(line, &arg, &c.program.types, &mut vocabs, false)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let Some(Example::Tuple(parts)) = examples.first() else {
            panic!("a tuple")
        };
        let (Some(Example::List(list)), Some(Example::Grid { cells, .. })) =
            (parts.first(), parts.get(1))
        else {
            panic!("a list and a grid")
        };
        let want = ndarray::array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(list.reals(), Some(want.view()));
        let cells_want = ndarray::array![[0.5f32], [1.5], [2.5], [3.5]];
        assert_eq!(cells.reals(), Some(cells_want.view()));
    }

    /// Bytes a decoded example costs (its own size and its heap) against
    /// its raw data (4 bytes per real, 4 per symbol): at most 2x.
    #[test]
    fn decoded_examples_cost_about_their_raw_data() {
        let c = crate::driver::compile_source(
            "t.dp",
            "vocab Digit = [\"0\", \"1\"]\nvocab Word\n\
             def a (x : (Grid Float, Digit)) : Float = 0.0\n\
             def b (x : (List Word, List R[4])) : Float = 0.0\n",
        )
        .unwrap_or_else(|_| panic!("compiles"));
        let pixels: Vec<String> = (0..8)
            .map(|r| {
                let row: Vec<String> = (0..8).map(|c| format!("{}.5", (r * c) % 16)).collect();
                format!("[{}]", row.join(", "))
            })
            .collect();
        let words: Vec<String> = (0..40).map(|i| format!("\"w{}\"", i % 7)).collect();
        let vecs: Vec<String> = (0..40).map(|i| format!("[{i}, 1, 2, 3]")).collect();
        let cases = [
            ("a", format!("[[{}], \"1\"]", pixels.join(", ")), 64 * 4 + 4),
            (
                "b",
                format!("[[{}], [{}]]", words.join(", "), vecs.join(", ")),
                40 * 4 + 40 * 16,
            ),
        ];
        for (def, line, raw) in cases {
            let (arg, _) =
                crate::runtime::function_type(&c.program, def).unwrap_or_else(|_| panic!("{def}"));
            let mut vocabs = Vocabularies::from_types(&c.program.types);
            let examples = decode_lines(&line, &arg, &c.program.types, &mut vocabs, true)
                .unwrap_or_else(|e| panic!("{def}: {e:?}"));
            let bytes = std::mem::size_of_val(&examples[0]) + examples[0].heap_bytes();
            assert!(
                bytes <= 2 * raw,
                "{def}: {bytes} bytes for {raw} of raw data"
            );
        }
    }
}
