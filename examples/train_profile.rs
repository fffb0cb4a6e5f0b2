//! Profiling aid: training steps of one preset in a loop (`perf record` this).
//! Usage: cargo run --release --example train_profile -- cnn 200
use std::sync::Arc;

use layerlab::data::{default_mnist_dir, fill_batch, one_hot, Dataset};
use layerlab::model::Model;
use layerlab::optim::Optimizer;
use layerlab::spec::{preset, validate};
use layerlab::train::{train_step, LossKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "cnn".into());
    let steps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let preset = preset(&name).expect("a preset name");
    let data = Arc::new(Dataset::mnist(&default_mnist_dir()).expect("MNIST"));
    let plan = validate(&preset.spec, data.input_shape(), 10).expect("valid preset");
    let mut model = Model::initialise(preset.spec.clone(), plan, &Default::default(), 0);
    let mut optimizer = Optimizer::new(preset.optimizer.clone(), &model.params).expect("optimizer");
    let batch: Vec<u32> = (0..preset.batch_size as u32).collect();
    let mut inputs = Vec::new();
    fill_batch(&data.train, &batch, &mut inputs);
    let targets = one_hot(&data.train, &batch, 10);
    let started = std::time::Instant::now();
    for _ in 0..steps {
        train_step(
            &mut model,
            &mut optimizer,
            inputs.clone(),
            targets.clone(),
            LossKind::CrossEntropy,
        )
        .expect("step");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name}: {:.2} ms per step, {:.0} img/s",
        secs * 1e3 / steps as f64,
        (steps * preset.batch_size) as f64 / secs
    );
}
