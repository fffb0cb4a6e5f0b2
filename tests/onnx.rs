//! Every preset's ONNX export run by a real ONNX runtime (tract), its logits against
//! LayerLab's own for the same inputs. `cargo test --release --features onnx-check --test onnx`
//! (scripts/check.sh runs it).
#![cfg(feature = "onnx-check")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use dfdx::prelude::Cpu;
use layerlab::data::Dataset;
use layerlab::export::SavedModel;
use layerlab::model::{InferenceModel, Model};
use layerlab::presets::{preset, PRESET_NAMES};
use layerlab::spec::{validate, ActivationShape, Layer, ModelSpec};
use tract_onnx::prelude::*;

/// Logits of `bytes` (an ONNX file) for `batch` samples of `input` (row-major).
fn run_in_tract(bytes: &[u8], shape: &[usize], input: Vec<f32>) -> Vec<f32> {
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .expect("tract reads the file")
        .with_input_fact(0, f32::fact(shape).into())
        .unwrap()
        .into_optimized()
        .expect("tract optimises the graph")
        .into_runnable()
        .unwrap();
    let tensor = Tensor::from_shape(shape, &input).unwrap();
    let outputs = model.run(tvec!(tensor.into())).expect("tract runs it");
    outputs[0]
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect()
}

fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = (i as u32).wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503);
            (x % 10_000) as f32 / 10_000.0
        })
        .collect()
}

/// Exports `spec` (random weights) for `input` and `classes`, runs a batch of 3 in tract and
/// in LayerLab, and returns the largest difference of their logits. With `ONNX_DUMP_DIR` set,
/// also writes `NAME.onnx` and `NAME.json` (input shape, input, LayerLab's logits) there for
/// scripts/onnx_runtime_check.py.
fn largest_difference_named(
    name: &str,
    spec: ModelSpec,
    input: ActivationShape,
    classes: usize,
    seed: u64,
) -> f32 {
    let plan = validate(&spec, input, classes).unwrap();
    let mut model = Model::initialise(spec.clone(), plan, &Cpu::default(), seed);
    // Batch norms with running statistics and an affine part that are not the identity.
    for (i, running) in model.running.iter_mut().enumerate() {
        let n = running.mean.len();
        let offset = |v: Vec<f32>, by: f32| -> Vec<f32> { v.into_iter().map(|x| x + by).collect() };
        running.mean = offset(pseudo_random(n, 100 + i as u32), -0.5);
        running.variance = offset(pseudo_random(n, 200 + i as u32), 0.25);
        let layer = running.layer;
        for param in model.params.iter_mut() {
            let by = if param.name == format!("{layer}.weight") {
                0.5
            } else if param.name == format!("{layer}.bias") {
                -0.5
            } else {
                continue;
            };
            let values = offset(pseudo_random(n, 300 + i as u32), by);
            param.values_mut().copy_from_slice(&values);
        }
    }
    let saved = SavedModel {
        spec,
        input_shape: SavedModel::input_shape_of(input),
        classes,
        weights: model.weights(),
        card: None,
        training: None,
    };
    let bytes = layerlab::onnx::to_onnx_bytes(&saved).unwrap();
    let batch = 3;
    let values = pseudo_random(batch * input.numel(), seed as u32);
    let mut shape = vec![batch];
    match input {
        ActivationShape::Spatial {
            channels,
            height,
            width,
        } => shape.extend([channels, height, width]),
        ActivationShape::Flat { features } => shape.push(features),
    }
    let theirs = run_in_tract(&bytes, &shape, values.clone());
    let ours = InferenceModel::new(&model).predict(&values, batch);
    if let (Some(dir), false) = (std::env::var_os("ONNX_DUMP_DIR"), name.is_empty()) {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join(format!("{name}.onnx")), &bytes).unwrap();
        let case = serde_json::json!({"shape": shape, "input": values, "logits": ours});
        std::fs::write(dir.join(format!("{name}.json")), case.to_string()).unwrap();
    }
    assert_eq!(theirs.len(), ours.len());
    theirs
        .iter()
        .zip(&ours)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn every_presets_onnx_export_gives_layerlabs_logits_in_tract() {
    let mut shapes: HashMap<&str, (ActivationShape, usize)> = HashMap::new();
    for name in PRESET_NAMES {
        let recipe = preset(name).unwrap();
        let dataset = recipe.datasets[0];
        let (input, classes) = *shapes.entry(dataset).or_insert_with(|| {
            let data: Dataset = if dataset == "mnist" {
                Dataset::mnist(&layerlab::data::default_mnist_dir()).unwrap()
            } else {
                layerlab::data::load_builtin(dataset, &Default::default()).unwrap()
            };
            (data.input_shape(), data.outputs())
        });
        let difference = largest_difference_named(name, recipe.spec, input, classes, 7);
        assert!(
            difference < 1e-4,
            "{name} on {dataset}: logits differ by {difference}"
        );
    }
}

#[test]
fn the_layers_no_preset_uses_export_too() {
    // GELU (written as its erf formula), LeakyReLU, Sigmoid, Tanh, average pooling with a
    // stride of its own, padding, Dropout (left out), Flatten of an image, BatchNorm1d.
    let spec = ModelSpec::new(vec![
        Layer::Conv2d {
            out_channels: 4,
            kernel_size: 3,
            stride: 2,
            padding: 1,
        },
        Layer::GELU,
        Layer::AvgPool2d {
            kernel_size: 2,
            stride: Some(1),
        },
        Layer::LeakyReLU {
            negative_slope: 0.2,
        },
        Layer::Dropout { p: 0.5 },
        Layer::Flatten,
        Layer::Linear { out_features: 6 },
        Layer::BatchNorm1d {
            eps: 1e-3,
            momentum: 0.1,
        },
        Layer::Sigmoid,
        Layer::Linear { out_features: 5 },
        Layer::Tanh,
        Layer::Linear { out_features: 3 },
    ]);
    let difference =
        largest_difference_named("other-layers", spec, ActivationShape::image(2, 9, 7), 3, 11);
    assert!(difference < 1e-4, "logits differ by {difference}");
}
