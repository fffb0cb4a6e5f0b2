//! Profiling aid: single-image cnn predictions in a loop (`perf record` this).
use layerlab::data::MNIST_INPUT;
use layerlab::model::{InferenceModel, Model};
use layerlab::spec::{preset, validate};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "cnn".into());
    let preset = preset(&name).expect("a preset name");
    let plan = validate(&preset.spec, MNIST_INPUT, 10).expect("valid preset");
    let model = Model::initialise(preset.spec.clone(), plan, &Default::default(), 0);
    let inference = InferenceModel::new(&model);
    let input = vec![0.5f32; 784];
    let started = std::time::Instant::now();
    let calls = 5_000;
    let mut sum = 0.0;
    for _ in 0..calls {
        sum += inference.predict(&input, 1)[0];
    }
    println!(
        "{name}: {:.1} us per call ({sum})",
        started.elapsed().as_secs_f64() * 1e6 / calls as f64
    );
}
