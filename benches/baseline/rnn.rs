//! Hand-written dfdx 0.13 baseline for the sentence classifier:
//! embedding 32 (vocabulary `VOCAB`), hidden 128, 2 labels.
//!
//! Per minibatch: for each of the T steps, gather the batch's embeddings
//! (`[B, 32]`), concatenate with h (`[B, 160]`), `Linear<160, 128>`, tanh;
//! then `Linear<128, 2>`, `cross_entropy_with_logits_loss`, backward, Adam.
//! Const-generic modules (the sizes are fixed), runtime batch dimension.
//! The sequences of one minibatch all have the same length (the benchmark's
//! data does), so no masking is needed.

use dfdx::optim::Adam;
use dfdx::prelude::*;
use rand::SeedableRng;

pub const EMBED: usize = 32;
pub const HIDDEN: usize = 128;
pub const LABELS: usize = 2;

type Arch<const V: usize> = (
    Embedding<V, EMBED>,
    Linear<{ EMBED + HIDDEN }, HIDDEN>,
    Linear<HIDDEN, LABELS>,
);
type Model<const V: usize> = <Arch<V> as BuildOnDevice<Cpu, f32>>::Built;

pub struct Rnn<const V: usize> {
    dev: Cpu,
    model: Model<V>,
    opt: Adam<Model<V>, f32, Cpu>,
    grads: Option<Gradients<f32, Cpu>>,
}

impl<const V: usize> Rnn<V> {
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
        model.1.bias = dev.zeros();
        model.2.bias = dev.zeros();

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
        Rnn {
            dev,
            model,
            opt,
            grads,
        }
    }

    /// One forward + backward + Adam update on a minibatch of
    /// (token ids, label); returns the mean loss.
    pub fn train_step(&mut self, batch: &[&(Vec<usize>, usize)]) -> f32 {
        let b = batch.len();
        let steps = batch[0].0.len();
        let dev = &self.dev;
        let m = &self.model;
        let mut grads = self.grads.take().expect("gradients");
        // The tape travels with the embedding table between steps.
        let mut h: Tensor<(usize, Const<HIDDEN>), f32, Cpu> = dev.zeros_like(&(b, Const));
        let mut table = m.0.weight.clone().traced(grads);
        for t in 0..steps {
            let ids: Vec<usize> = batch.iter().map(|ex| ex.0[t]).collect();
            let idx = dev.tensor_from_vec(ids, (b,));
            let e: Tensor<(usize, Const<EMBED>), f32, Cpu, _> = table.gather(idx);
            let (e, tape) = e.split_tape();
            let x = (
                h.put_tape(tape).realize::<(usize, usize)>(),
                e.realize::<(usize, usize)>(),
            )
                .concat_along(Axis::<1>)
                .realize::<(usize, Const<{ EMBED + HIDDEN }>)>();
            let out = m.1.forward(x).tanh();
            let (out, tape) = out.split_tape();
            h = out;
            table = m.0.weight.clone().put_tape(tape);
        }
        let (_, tape) = table.split_tape();
        let logits = m.2.forward(h.put_tape(tape));
        let mut onehot = vec![0.0f32; b * LABELS];
        for (i, ex) in batch.iter().enumerate() {
            onehot[i * LABELS + ex.1] = 1.0;
        }
        let target = dev.tensor_from_vec(onehot, (b, Const::<LABELS>));
        let loss = cross_entropy_with_logits_loss(logits, target);
        let value = loss.retaped::<NoneTape>().array();
        grads = loss.backward();
        self.opt.update(&mut self.model, &grads).expect("adam");
        self.model.zero_grads(&mut grads);
        self.grads = Some(grads);
        value
    }
}
