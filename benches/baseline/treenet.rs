//! Hand-written dfdx 0.13 baseline for the TreeNet: embedding 300
//! (vocabulary `V`), hidden 150, 5 classes.
//!
//! The same dynamic batching dp does: all leaves of all trees of the
//! minibatch in one call (gather embeddings, `Linear<300, 150>`, tanh);
//! then one call per height: gather the left and right child states of all
//! nodes of that height from the node-state buffer with ONE gather (rows
//! interleaved l0, r0, l1, r1, ..., so a reshape `[2n, 150] -> [n, 300]`
//! is the concatenation), `Linear<300, 150>`, tanh, and append the new
//! states to the buffer (`concat_along(Axis::<0>)`). Finally the roots'
//! states, `Linear<150, 5>`, cross-entropy, backward, Adam.

use dfdx::optim::Adam;
use dfdx::prelude::*;
use rand::SeedableRng;

pub const EMBED: usize = 300;
pub const HIDDEN: usize = 150;
pub const CLASSES: usize = 5;

#[derive(Clone, Debug)]
pub enum Tree {
    Leaf(usize),
    Node(Box<Tree>, Box<Tree>),
}

type Arch<const V: usize> = (
    Embedding<V, EMBED>,
    Linear<EMBED, HIDDEN>,
    Linear<{ 2 * HIDDEN }, HIDDEN>,
    Linear<HIDDEN, CLASSES>,
);
type Model<const V: usize> = <Arch<V> as BuildOnDevice<Cpu, f32>>::Built;

pub struct TreeNet<const V: usize> {
    dev: Cpu,
    model: Model<V>,
    opt: Adam<Model<V>, f32, Cpu>,
    grads: Option<Gradients<f32, Cpu>>,
}

/// The schedule of one minibatch: leaf word ids, then per height the
/// interleaved child rows of the node-state buffer; the roots' rows.
struct Plan {
    leaf_words: Vec<usize>,
    levels: Vec<Vec<usize>>,
    roots: Vec<usize>,
}

enum Flat {
    Leaf(usize),
    Node(usize, usize),
}

fn flatten(t: &Tree, nodes: &mut Vec<Flat>, height: &mut Vec<usize>) -> usize {
    match t {
        Tree::Leaf(w) => {
            nodes.push(Flat::Leaf(*w));
            height.push(0);
        }
        Tree::Node(l, r) => {
            let a = flatten(l, nodes, height);
            let b = flatten(r, nodes, height);
            nodes.push(Flat::Node(a, b));
            height.push(1 + height[a].max(height[b]));
        }
    }
    nodes.len() - 1
}

fn plan(trees: &[&Tree]) -> Plan {
    let mut nodes = Vec::new();
    let mut height = Vec::new();
    let tree_roots: Vec<usize> = trees
        .iter()
        .map(|t| flatten(t, &mut nodes, &mut height))
        .collect();
    let max_h = height.iter().copied().max().unwrap_or(0);
    let mut by_height: Vec<Vec<usize>> = vec![Vec::new(); max_h + 1];
    for (id, &h) in height.iter().enumerate() {
        by_height[h].push(id);
    }
    let mut row = vec![0usize; nodes.len()];
    let mut leaf_words = Vec::with_capacity(by_height[0].len());
    for (k, &id) in by_height[0].iter().enumerate() {
        if let Flat::Leaf(w) = nodes[id] {
            leaf_words.push(w);
        }
        row[id] = k;
    }
    let mut next = by_height[0].len();
    let mut levels = Vec::with_capacity(max_h);
    for ids in &by_height[1..] {
        let mut rows = Vec::with_capacity(2 * ids.len());
        for &id in ids {
            if let Flat::Node(a, b) = nodes[id] {
                rows.push(row[a]);
                rows.push(row[b]);
            }
        }
        for &id in ids {
            row[id] = next;
            next += 1;
        }
        levels.push(rows);
    }
    Plan {
        leaf_words,
        levels,
        roots: tree_roots.iter().map(|&r| row[r]).collect(),
    }
}

impl<const V: usize> TreeNet<V> {
    pub fn new(seed: u64, lr: f64) -> Self {
        let dev = Cpu::seed_from_u64(seed);
        let mut model = dev.build_module::<Arch<V>, f32>();
        // dp's initialisation (spec section 7): embeddings N(0, 1), affine
        // weights Glorot-uniform, biases zero (dfdx's own defaults differ,
        // and the value range changes the cost of tanh).
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        model.0.weight =
            dev.tensor_from_vec(super::init::gaussian(&mut rng, V * EMBED), (Const, Const));
        model.1.weight = super::init::glorot(&dev, &mut rng);
        model.2.weight = super::init::glorot(&dev, &mut rng);
        model.3.weight = super::init::glorot(&dev, &mut rng);
        model.1.bias = dev.zeros();
        model.2.bias = dev.zeros();
        model.3.bias = dev.zeros();

        let opt = Adam::new(
            &model,
            AdamConfig {
                lr,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: None,
            },
        );
        let grads = Some(model.alloc_grads());
        TreeNet {
            dev,
            model,
            opt,
            grads,
        }
    }

    /// One forward + backward + Adam update on a minibatch of (tree,
    /// class); returns the mean loss.
    pub fn train_step(&mut self, batch: &[&(Tree, usize)]) -> f32 {
        let b = batch.len();
        let trees: Vec<&Tree> = batch.iter().map(|ex| &ex.0).collect();
        let p = plan(&trees);
        let dev = &self.dev;
        let m = &self.model;
        let mut grads = self.grads.take().expect("gradients");
        let n_leaves = p.leaf_words.len();
        let idx = dev.tensor_from_vec(p.leaf_words, (n_leaves,));
        let e: Tensor<(usize, Const<EMBED>), f32, Cpu, _> =
            m.0.weight.clone().traced(grads).gather(idx);
        let leaves = m.1.forward(e).tanh();
        // The node-state buffer (tape-free) and the tape, moved op to op.
        let (mut buf, mut tape) = leaves.split_tape();
        for rows in p.levels {
            let n = rows.len() / 2;
            let idx = dev.tensor_from_vec(rows, (2 * n,));
            let children: Tensor<(usize, Const<HIDDEN>), f32, Cpu, _> =
                buf.clone().put_tape(tape).gather(idx);
            let x = children.reshape_like(&(n, Const::<{ 2 * HIDDEN }>));
            let state = m.2.forward(x).tanh();
            let (state, t) = state.split_tape();
            let joined = (buf.put_tape(t), state).concat_along(Axis::<0>);
            let (joined, t) = joined.split_tape();
            buf = joined;
            tape = t;
        }
        let idx = dev.tensor_from_vec(p.roots, (b,));
        let roots: Tensor<(usize, Const<HIDDEN>), f32, Cpu, _> = buf.put_tape(tape).gather(idx);
        let logits = m.3.forward(roots);
        let mut onehot = vec![0.0f32; b * CLASSES];
        for (i, ex) in batch.iter().enumerate() {
            onehot[i * CLASSES + ex.1] = 1.0;
        }
        let target = dev.tensor_from_vec(onehot, (b, Const::<CLASSES>));
        let loss = cross_entropy_with_logits_loss(logits, target);
        let value = loss.retaped::<NoneTape>().array();
        grads = loss.backward();
        self.opt.update(&mut self.model, &grads).expect("adam");
        self.model.zero_grads(&mut grads);
        self.grads = Some(grads);
        value
    }
}
