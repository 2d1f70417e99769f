//! Run-time vocabularies: symbol strings to indices and back.
//!
//! A closed vocabulary is exactly its declared symbols. An open vocabulary
//! starts with `<unk>` at index 0 and grows from training data (or is read
//! from a weights file); a symbol never seen maps to `<unk>`.

use std::collections::{BTreeMap, HashMap};

use crate::ir::ty::{Name, TypeTable};

pub const UNKNOWN_SYMBOL: &str = "<unk>";

#[derive(Clone, Debug, PartialEq)]
pub struct Vocabulary {
    symbols: Vec<String>,
    index: HashMap<String, u32>,
    open: bool,
}

impl Vocabulary {
    pub fn closed(symbols: Vec<String>) -> Vocabulary {
        Vocabulary::build(symbols, false)
    }

    /// An open vocabulary holding `<unk>` and then `symbols` (duplicates and
    /// `<unk>` itself skipped).
    pub fn open(symbols: impl IntoIterator<Item = String>) -> Vocabulary {
        let mut v = Vocabulary::build(vec![UNKNOWN_SYMBOL.to_string()], true);
        for s in symbols {
            v.insert(s);
        }
        v
    }

    fn build(symbols: Vec<String>, open: bool) -> Vocabulary {
        let index = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
        Vocabulary {
            symbols,
            index,
            open,
        }
    }

    /// Adds a symbol to an open vocabulary (no effect on a closed one or a
    /// symbol already present).
    pub fn insert(&mut self, symbol: String) {
        if self.open && !self.index.contains_key(&symbol) {
            self.index.insert(symbol.clone(), self.symbols.len() as u32);
            self.symbols.push(symbol);
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The index of a symbol: in a closed vocabulary `None` if absent; in an
    /// open one, `<unk>` if absent.
    pub fn lookup(&self, symbol: &str) -> Option<u32> {
        match self.index.get(symbol) {
            Some(&i) => Some(i),
            None if self.open => Some(0),
            None => None,
        }
    }

    pub fn symbol(&self, index: u32) -> &str {
        self.symbols
            .get(index as usize)
            .map_or(UNKNOWN_SYMBOL, |s| s.as_str())
    }
}

/// The run-time vocabularies of a program, by vocabulary name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vocabularies {
    pub map: BTreeMap<Name, Vocabulary>,
}

impl Vocabularies {
    /// Closed vocabularies as declared; open ones holding only `<unk>`.
    pub fn from_types(types: &TypeTable) -> Vocabularies {
        let map = types
            .vocabs
            .iter()
            .map(|(name, def)| {
                let v = match &def.symbols {
                    Some(s) => Vocabulary::closed(s.clone()),
                    None => Vocabulary::open(Vec::new()),
                };
                (name.clone(), v)
            })
            .collect();
        Vocabularies { map }
    }

    pub fn get(&self, name: &str) -> Option<&Vocabulary> {
        self.map.get(name)
    }
}
