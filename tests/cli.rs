//! The `layerlab` binary as a user runs it: real arguments, real files, exit codes and messages.

// Tests state what they expect with unwrap and expect; a failure is the report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod common;

use std::path::Path;

use common::{assert_refused, layerlab, stderr, stdout};

use layerlab::data::{default_mnist_dir, Dataset};

/// MNIST test image `index`, scaled 10x and inverted (dark ink on white, like a photo).
fn write_digit_png(index: usize, path: &Path) -> u8 {
    let data = Dataset::mnist(&default_mnist_dir()).unwrap();
    let pixels = data.test.image(index).unwrap();
    let image = image::GrayImage::from_fn(280, 280, |x, y| {
        image::Luma([255 - pixels[(y / 10 * 28 + x / 10) as usize]])
    });
    image.save(path).unwrap();
    data.test.labels()[index]
}

#[test]
fn presets_are_listed_and_printed_as_valid_json() {
    let out = layerlab(&["presets"]);
    assert!(out.status.success());
    for name in ["mlp", "mlp-deep", "cnn", "cnn-deep"] {
        assert!(stdout(&out).contains(name));
    }
    assert!(stdout(&out).contains("225,034 parameters"));
    let out = layerlab(&["presets", "--print", "cnn"]);
    let spec = layerlab::spec::ModelSpec::from_json(&stdout(&out)).unwrap();
    assert_eq!(spec.layers.len(), 10);
    assert_refused(
        &layerlab(&["presets", "--print", "resnet"]),
        "invalid value 'resnet'",
    );
}

#[test]
fn train_export_predict_and_eval_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("mlp.safetensors");
    let log = dir.path().join("events.jsonl");
    let out = layerlab(&[
        "train",
        "--preset",
        "mlp",
        "--optimizer",
        "adam",
        "--limit",
        "6000",
        "--validation-size",
        "1000",
        "--test-limit",
        "1000",
        "--quiet",
        "--export",
        model.to_str().unwrap(),
        "--log-jsonl",
        log.to_str().unwrap(),
        "--health-every",
        "20",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let last = stdout(&out).lines().last().unwrap().to_string();
    let accuracy: f32 = last
        .strip_prefix("test_accuracy=")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("last line is {last:?}"));
    assert!(last.contains(" test_loss="), "{last}");
    assert!(
        accuracy > 0.8,
        "6,000 images with Adam give > 80%: {accuracy}"
    );

    // One JSON object per event, from start to finish.
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["event"], "started");
    assert_eq!(
        events.iter().filter(|e| e["event"] == "batch").count(),
        6000 / 64 + 1
    );
    assert!(events
        .iter()
        .any(|e| e["event"] == "epoch" && e["validation_accuracy"].is_number()));
    assert_eq!(events.last().unwrap()["event"], "finished");
    // Training health every 20 of the 94 steps: per-layer norms and histograms, dead units.
    let health: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"] == "health").collect();
    assert_eq!(
        health
            .iter()
            .map(|e| e["step"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [20, 40, 60, 80]
    );
    assert_eq!(health[0]["layers"][0]["kind"], "Linear");
    assert_eq!(
        health[0]["layers"][0]["weights"]["counts"]
            .as_array()
            .unwrap()
            .len(),
        32
    );
    assert_eq!(health[0]["dead_units"][0]["units"], 128);

    // The saved model converts to ONNX; a file that is not a model is refused by name.
    let onnx = dir.path().join("mlp.onnx");
    let out = layerlab(&[
        "export",
        "--model",
        model.to_str().unwrap(),
        "--onnx",
        onnx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("(ONNX opset 13; input \"input\", output \"logits\")"));
    let bytes = std::fs::read(&onnx).unwrap();
    // A protobuf whose graph holds the weight tensor names.
    assert!(bytes.windows(8).any(|w| w == b"0.weight"));
    let out = layerlab(&[
        "export",
        "--model",
        log.to_str().unwrap(),
        "--onnx",
        onnx.to_str().unwrap(),
    ]);
    assert_refused(&out, "events.jsonl");

    // The file alone rebuilds the model, with PyTorch's names and shapes.
    let saved = layerlab::export::SavedModel::load(&model).unwrap();
    assert_eq!(saved.weights.tensors[0].name, "0.weight");
    assert_eq!(saved.weights.tensors[0].shape, [128, 784]);
    assert_eq!(saved.spec, layerlab::presets::preset("mlp").unwrap().spec);

    // Per-class precision and recall, then the metrics line.
    let eval = layerlab(&["eval", "--model", model.to_str().unwrap()]);
    let printed = stdout(&eval);
    assert!(
        printed
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("test_accuracy="),
        "{printed}{}",
        stderr(&eval)
    );
    assert!(
        printed.starts_with("class") && printed.contains("precision"),
        "{printed}"
    );

    let digit = dir.path().join("digit.png");
    let label = write_digit_png(0, &digit);
    let out = layerlab(&[
        "predict",
        "--json",
        "--model",
        model.to_str().unwrap(),
        digit.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let prediction: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(prediction["class"], label as u64, "{prediction}");
    let total: f64 = prediction["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4);
}

#[test]
fn nonsense_hyperparameters_are_refused() {
    assert_refused(
        &layerlab(&["train", "--lr", "0"]),
        "learning rate must be greater than 0",
    );
    assert_refused(&layerlab(&["train", "--lr=-3"]), "learning rate");
    assert_refused(
        &layerlab(&["train", "--batch-size", "0"]),
        "batch size must be between 1",
    );
    assert_refused(
        &layerlab(&["train", "--epochs", "0"]),
        "epochs must be between 1",
    );
    // Closed sets of choices are clap value enums: a typo is refused with the valid values.
    let out = layerlab(&["train", "--optimizer", "lbfgs"]);
    assert_refused(&out, "invalid value 'lbfgs' for '--optimizer");
    assert!(
        stderr(&out).contains("sgd, adam, adamw, rmsprop"),
        "{}",
        stderr(&out)
    );
    assert_refused(
        &layerlab(&["train", "--preset", "resnet"]),
        "invalid value 'resnet' for '--preset",
    );
    assert_refused(
        &layerlab(&["train", "--loss", "hinge"]),
        "invalid value 'hinge' for '--loss",
    );
    assert_refused(
        &layerlab(&["train", "--optimizer", "adam", "--momentum", "0.9"]),
        "--momentum does not apply",
    );
}

#[test]
fn a_stack_that_does_not_fit_names_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("stack.json");
    std::fs::write(
        &spec,
        r#"{"version": 1, "layers": [
            {"type": "Conv2d", "out_channels": 8, "kernel_size": 5},
            {"type": "MaxPool2d", "kernel_size": 8},
            {"type": "Conv2d", "out_channels": 8, "kernel_size": 5},
            {"type": "Linear", "out_features": 10}]}"#,
    )
    .unwrap();
    assert_refused(
        &layerlab(&["train", "--spec", spec.to_str().unwrap()]),
        "layer 2 Conv2d: kernel 5 is larger than its 3x3 input",
    );
    std::fs::write(&spec, r#"{"version": 1, "layers": [{"type": "Linear"}]}"#).unwrap();
    assert_refused(
        &layerlab(&["train", "--spec", spec.to_str().unwrap()]),
        "missing field `out_features`",
    );
    std::fs::write(&spec, r#"{"version": 9, "layers": []}"#).unwrap();
    assert_refused(
        &layerlab(&["train", "--spec", spec.to_str().unwrap()]),
        "version 9 is not supported",
    );
}

#[test]
fn corrupt_and_truncated_data_files_are_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let source = default_mnist_dir();
    for name in [
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(source.join(name), dir.path().join(name)).unwrap();
    }
    // Truncated gzip.
    let images = std::fs::read(source.join("train-images-idx3-ubyte.gz")).unwrap();
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte.gz"),
        &images[..images.len() / 2],
    )
    .unwrap();
    let out = layerlab(&["train", "--data-dir", dir.path().to_str().unwrap()]);
    assert_refused(
        &out,
        "train-images-idx3-ubyte.gz: gzip data is damaged or truncated",
    );
    // Not IDX at all.
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte.gz"),
        b"hello, not a dataset",
    )
    .unwrap();
    let out = layerlab(&["train", "--data-dir", dir.path().to_str().unwrap()]);
    assert_refused(&out, "bad magic number");
    // A missing file.
    std::fs::remove_file(dir.path().join("train-images-idx3-ubyte.gz")).unwrap();
    let out = layerlab(&["train", "--data-dir", dir.path().to_str().unwrap()]);
    assert_refused(&out, "cannot read");
}

#[test]
fn bad_model_and_image_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let digit = dir.path().join("digit.png");
    write_digit_png(1, &digit);
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage").unwrap();
    assert_refused(
        &layerlab(&[
            "predict",
            "--model",
            garbage.to_str().unwrap(),
            digit.to_str().unwrap(),
        ]),
        "is not a valid safetensors file",
    );
    assert_refused(
        &layerlab(&[
            "predict",
            "--model",
            "/nonexistent.safetensors",
            digit.to_str().unwrap(),
        ]),
        "cannot read /nonexistent.safetensors",
    );

    // A valid model, then a truncated copy of it and a blank or broken image.
    let model = dir.path().join("model.safetensors");
    let out = layerlab(&[
        "train",
        "--limit",
        "640",
        "--test-limit",
        "100",
        "--quiet",
        "--export",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&model).unwrap();
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    assert_refused(
        &layerlab(&[
            "predict",
            "--model",
            truncated.to_str().unwrap(),
            digit.to_str().unwrap(),
        ]),
        "truncated.safetensors is not a valid safetensors file",
    );
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(64, 64, image::Luma([255]))
        .save(&blank)
        .unwrap();
    assert_refused(
        &layerlab(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            blank.to_str().unwrap(),
        ]),
        "no ink",
    );
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    assert_refused(
        &layerlab(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            broken.to_str().unwrap(),
        ]),
        "broken.png cannot be decoded",
    );
}

/// Issue 10's CLI findings: each is refused with a real message, or works.
#[test]
fn odd_arguments_get_real_messages_and_exports_are_checked_before_training() {
    assert_refused(
        &layerlab(&["train", "--dataset", "iris", "--test-limit", "0"]),
        "a test limit of 0 evaluates nothing",
    );
    // A negative number is a value, refused by validation, not "unexpected argument".
    assert_refused(
        &layerlab(&["train", "--dataset", "iris", "--lr", "-1"]),
        "learning rate must be greater than 0",
    );
    let dir = tempfile::tempdir().unwrap();
    // A folder or a device as the export target, or a missing folder: refused before training.
    for (target, expected) in [
        (dir.path().to_str().unwrap().to_string(), "it is a folder"),
        ("/dev/null".to_string(), "device or other special file"),
        (
            dir.path()
                .join("missing/m.safetensors")
                .to_str()
                .unwrap()
                .to_string(),
            "missing/m.safetensors",
        ),
    ] {
        let out = layerlab(&["train", "--dataset", "iris", "--export", &target, "--quiet"]);
        assert_refused(&out, expected);
        assert!(
            !stdout(&out).contains("epoch"),
            "trained first: {}",
            stdout(&out)
        );
    }
    assert!(std::path::Path::new("/dev/null").exists());

    // --spec with --resume: the weights are loaded into that stack (a mismatch is reported).
    let model = dir.path().join("iris.safetensors");
    let out = layerlab(&[
        "train",
        "--dataset",
        "iris",
        "--epochs",
        "1",
        "--quiet",
        "--export",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let spec = dir.path().join("other.json");
    std::fs::write(
        &spec,
        r#"{"version": 1, "layers": [{"type": "Linear", "out_features": 3}]}"#,
    )
    .unwrap();
    let out = layerlab(&[
        "train",
        "--dataset",
        "iris",
        "--spec",
        spec.to_str().unwrap(),
        "--resume",
        model.to_str().unwrap(),
    ]);
    assert_refused(
        &out,
        "the weights do not fit the layer stack: tensor \"2.weight\" does not belong to any layer of the stack",
    );
    // Said once, not twice.
    assert_eq!(
        stderr(&out).matches("does not belong").count(),
        1,
        "{}",
        stderr(&out)
    );

    // Through a symlink: the link's target is replaced, the link stays a link.
    #[cfg(unix)]
    {
        let real = dir.path().join("real.safetensors");
        std::fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.safetensors");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let out = layerlab(&[
            "train",
            "--dataset",
            "iris",
            "--epochs",
            "1",
            "--quiet",
            "--export",
            link.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(layerlab::export::SavedModel::load(&real).is_ok());
    }
    // Stale partial files of killed exports are removed by the next export to the folder,
    // whatever their name and however recent (no save holds their lock).
    let recent = dir.path().join(".other-model.onnx.XyZ789.partial");
    std::fs::write(&recent, b"half another model").unwrap();
    let stale = dir.path().join(".iris.safetensors.abc123.partial");
    std::fs::write(&stale, b"half a model").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = layerlab(&[
        "train",
        "--dataset",
        "iris",
        "--epochs",
        "1",
        "--quiet",
        "--export",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stale.exists());
    assert!(!recent.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());

    // A dump to a full disk names its path.
    if std::path::Path::new("/dev/full").exists() {
        let out = layerlab(&[
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--dump-logits",
            "/dev/full",
        ]);
        assert_refused(&out, "cannot write /dev/full");
        assert!(std::path::Path::new("/dev/full").exists());
    }
}

#[test]
fn a_model_whose_weights_overflow_names_the_tensor_instead_of_printing_nan() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("iris.safetensors");
    let out = layerlab(&[
        "train",
        "--dataset",
        "iris",
        "--epochs",
        "1",
        "--quiet",
        "--export",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut saved = layerlab::export::SavedModel::load(&model).unwrap();
    saved.weights.tensors[0]
        .values
        .iter_mut()
        .for_each(|v| *v = 3e38);
    saved.save(&model).unwrap();
    let out = layerlab(&["eval", "--model", model.to_str().unwrap()]);
    assert_refused(&out, "tensor 0.weight holds values up to 3.0e38");
    let rows = dir.path().join("rows.csv");
    std::fs::write(
        &rows,
        "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n7.7,3.8,6.7,2.2\n",
    )
    .unwrap();
    let out = layerlab(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        rows.to_str().unwrap(),
    ]);
    assert_refused(&out, "tensor 0.weight holds values up to 3.0e38");
}

#[test]
fn eval_checks_the_datas_shape_and_classes_against_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("mlp.safetensors");
    let out = layerlab(&[
        "train",
        "--preset",
        "mlp",
        "--limit",
        "600",
        "--validation-size",
        "100",
        "--test-limit",
        "100",
        "--quiet",
        "--export",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // IDX files of 3x3 images: this panicked in the inference path ("input length").
    let idx = dir.path().join("small");
    std::fs::create_dir(&idx).unwrap();
    let write = |name: &str, dims: &[u32], values: &[u8]| {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend_from_slice(values);
        std::fs::write(idx.join(name), bytes).unwrap();
    };
    for prefix in ["train", "t10k"] {
        write(&format!("{prefix}-images-idx3-ubyte"), &[4, 3, 3], &[7; 36]);
        write(&format!("{prefix}-labels-idx1-ubyte"), &[4], &[0, 1, 2, 3]);
    }
    assert_refused(
        &layerlab(&[
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--dataset",
            idx.to_str().unwrap(),
        ]),
        "has inputs of shape 1x3x3 but the model takes 1x28x28",
    );
    // A 28x28 set of 4 classes against a 10-class model: this panicked in dfdx.
    for prefix in ["train", "t10k"] {
        write(
            &format!("{prefix}-images-idx3-ubyte"),
            &[4, 28, 28],
            &[7; 4 * 784],
        );
    }
    assert_refused(
        &layerlab(&[
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--dataset",
            idx.to_str().unwrap(),
        ]),
        "is a 4-class classification but the model was trained for a 10-class classification",
    );
}

#[test]
fn a_run_that_does_not_learn_says_so_and_names_the_cause() {
    // SGD at lr 10 with momentum 0.99 on iris: the loss does not fall.
    let out = layerlab(&[
        "train",
        "--dataset",
        "iris",
        "--optimizer",
        "sgd",
        "--lr",
        "10",
        "--momentum",
        "0.99",
        "--epochs",
        "20",
        "--quiet",
    ]);
    let err = stderr(&out);
    assert!(
        err.contains("the learning rate 10 is high for SGD")
            && (err.contains("did not learn") || err.contains("diverged")),
        "{err}{}",
        stdout(&out)
    );
    // A flat loss from a learning rate that is far too low: a warning, the metrics still last.
    let out = layerlab(&[
        "train",
        "--dataset",
        "xor",
        "--optimizer",
        "sgd",
        "--lr",
        "0.000001",
        "--epochs",
        "3",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: the model did not learn") && err.contains("so low"),
        "{err}"
    );
    assert!(stdout(&out)
        .lines()
        .last()
        .unwrap()
        .starts_with("test_accuracy="));
    // A diverging run blames weight decay when that is the cause, not the learning rate.
    let out = layerlab(&[
        "train",
        "--dataset",
        "iris",
        "--optimizer",
        "sgd",
        "--weight-decay",
        "1e30",
        "--quiet",
    ]);
    let err = stderr(&out);
    assert!(err.contains("weight decay 1e30 is far too large"), "{err}");
}

#[test]
fn explain_writes_saliency_and_activations_and_the_map_depends_on_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("cnn.safetensors");
    let out = layerlab(&[
        "train",
        "--preset",
        "cnn",
        "--limit",
        "4000",
        "--validation-size",
        "500",
        "--test-limit",
        "500",
        "--quiet",
        "--export",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let digit = dir.path().join("digit.png");
    write_digit_png(0, &digit);
    let saliency = dir.path().join("saliency.png");
    let grid = dir.path().join("activations.png");
    let out = layerlab(&[
        "explain",
        "--model",
        model.to_str().unwrap(),
        digit.to_str().unwrap(),
        "--out",
        saliency.to_str().unwrap(),
        "--activations",
        grid.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Grad-CAM"), "{text}");
    // Five panels of 28x8 pixels with gaps: input, gradient x input, occlusion, Grad-CAM,
    // random weights.
    let panels = image::open(&saliency).unwrap();
    assert_eq!((panels.width(), panels.height()), (5 * 224 + 4 * 6, 224));
    assert!(image::open(&grid).unwrap().height() > 100);
    // The sanity check: a trained model's map is not the random model's.
    let similarity: f32 = text
        .lines()
        .find_map(|l| l.strip_prefix("correlation with the same map for random weights: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(similarity < 0.5, "{text}");

    // A class that does not exist, and a model that takes no images.
    assert_refused(
        &layerlab(&[
            "explain",
            "--model",
            model.to_str().unwrap(),
            digit.to_str().unwrap(),
            "--out",
            saliency.to_str().unwrap(),
            "--class",
            "12",
        ]),
        "--class 12: the model has 10 classes",
    );
    let iris = dir.path().join("iris.safetensors");
    let out = layerlab(&[
        "train",
        "--dataset",
        "iris",
        "--epochs",
        "2",
        "--quiet",
        "--export",
        iris.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_refused(
        &layerlab(&[
            "explain",
            "--model",
            iris.to_str().unwrap(),
            digit.to_str().unwrap(),
            "--out",
            saliency.to_str().unwrap(),
        ]),
        "explain draws maps over images; this model takes CSV rows",
    );
}

#[test]
fn the_presets_trained_as_shipped_raise_no_health_warnings() {
    // Each small dataset with the preset it gets by default (the image presets' mlps too):
    // a warning on the recipes' own defaults would teach people to ignore warnings. Before
    // spikes had to last and small gradients after learning stopped counting as vanishing,
    // seven of these warned.
    let runs: [&[&str]; 14] = [
        &[
            "--dataset",
            "ames-housing",
            "--preset",
            "mlp-regressor-robust",
        ],
        &["--dataset", "ames-housing", "--preset", "mlp-regressor"],
        &["--dataset", "spiral", "--preset", "playground"],
        &["--dataset", "circles"],
        &["--dataset", "xor"],
        &["--dataset", "gaussian"],
        &["--dataset", "breast-cancer"],
        &["--dataset", "wine"],
        &["--dataset", "iris"],
        &["--dataset", "diabetes"],
        &["--dataset", "digits-8x8"],
        &["--dataset", "fine-food-reviews"],
        &["--preset", "mlp"],
        &["--preset", "mlp-deep"],
    ];
    for args in runs {
        let out = layerlab(&[&["train", "--quiet", "--no-record"][..], args].concat());
        let printed = common::assert_ok(&out);
        assert!(printed.contains("test_"), "{args:?}: {printed}");
        assert!(
            !stderr(&out).contains("warning"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn lr_find_prints_its_curve_and_suggestions_and_draws_them() {
    let dir = tempfile::tempdir().unwrap();
    let (png, csv) = (dir.path().join("lr.png"), dir.path().join("lr.csv"));
    let output = layerlab(&[
        "lr-find",
        "--dataset",
        "mnist",
        "--preset",
        "mlp",
        "--limit",
        "2000",
        "--num-steps",
        "50",
        "--out",
        png.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let text = common::assert_ok(&output);
    assert!(text.contains("suggested lr (valley): "), "{text}");
    assert!(text.contains("suggested lr (steepest descent): "), "{text}");
    let picture = image::open(&png).unwrap();
    assert_eq!((picture.width(), picture.height()), (720, 440));
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(rows.lines().next(), Some("step,lr,loss,smoothed_loss"));
    assert!(rows.lines().count() > 10);
    // JSON: the same curve.
    let output = layerlab(&[
        "lr-find",
        "--dataset",
        "mnist",
        "--preset",
        "mlp",
        "--limit",
        "2000",
        "--num-steps",
        "50",
        "--json",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(common::last_line(&common::assert_ok(&output))).unwrap();
    assert_eq!(
        json["points"].as_array().unwrap().len(),
        rows.lines().count() - 1
    );
    assert!(json["valley"]["lr"].as_f64().unwrap() > 0.0);
    // A sweep that goes nowhere is refused with the reason.
    let output = layerlab(&[
        "lr-find",
        "--dataset",
        "mnist",
        "--start-lr",
        "1",
        "--end-lr",
        "0.1",
    ]);
    assert_refused(
        &output,
        "the sweep goes from a positive rate up to a larger one",
    );
}

#[test]
fn train_stops_early_with_the_best_epoch_and_refuses_it_without_validation() {
    let output = layerlab(&[
        "train",
        "--dataset",
        "mnist",
        "--preset",
        "mlp",
        "--limit",
        "500",
        "--epochs",
        "6",
        "--early-stop",
        "1",
        "--min-delta",
        "10",
        "--no-record",
    ]);
    let text = common::assert_ok(&output);
    assert!(
        text.contains("early stopping: restored epoch 1 (best val_loss ")
            && text.contains("stopped after epoch 2: no improvement for 1 epoch\n"),
        "{text}"
    );
    assert!(!text.contains("\nepoch 3 "), "{text}");
    let output = layerlab(&[
        "train",
        "--dataset",
        "mnist",
        "--limit",
        "500",
        "--early-stop",
        "2",
        "--validation-size",
        "0",
        "--no-record",
    ]);
    assert_refused(&output, "val_loss needs a validation split");
    let output = layerlab(&[
        "train",
        "--dataset",
        "mnist",
        "--limit",
        "500",
        "--schedule",
        "plateau",
        "--factor",
        "1.5",
        "--no-record",
    ]);
    assert_refused(&output, "factor must be in (0, 1)");
}

#[test]
fn augment_preview_draws_originals_beside_their_copies_and_refuses_a_mirrored_digit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("grid.png");
    let output = layerlab(&[
        "augment-preview",
        "--dataset",
        "mnist",
        "--augment",
        "rotate=20,erase=1",
        "--images",
        "3",
        "--copies",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = common::assert_ok(&output);
    assert!(
        text.contains("3 images, 4 copies each: rotate=20,erase=1"),
        "{text}"
    );
    let grid = image::open(&out).unwrap().to_rgb8();
    // 5 columns of 28x3 pixels with 4-pixel gaps, 3 rows under a 14-pixel header.
    assert_eq!((grid.width(), grid.height()), (5 * 88 + 4, 14 + 3 * 88 + 4));
    let cell = |row: u32, column: u32| -> Vec<u8> {
        let (left, top) = (4 + column * 88, 14 + row * 88);
        (0..84)
            .flat_map(|y| (0..84).map(move |x| (x, y)))
            .map(|(x, y)| grid.get_pixel(left + x, top + y)[0])
            .collect()
    };
    for row in 0..3 {
        let original = cell(row, 0);
        assert!(
            original.iter().any(|&p| p > 200),
            "an original digit has ink"
        );
        for column in 1..5 {
            assert_ne!(
                cell(row, column),
                original,
                "row {row}, copy {column} differs"
            );
        }
    }
    let output = layerlab(&[
        "augment-preview",
        "--dataset",
        "mnist",
        "--augment",
        "flip",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_refused(&output, "a mirrored digit is no digit");
    let output = layerlab(&[
        "augment-preview",
        "--dataset",
        "iris",
        "--augment",
        "rotate=5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_refused(&output, "augmentation changes pictures only");
    let output = layerlab(&[
        "train",
        "--dataset",
        "mnist",
        "--augment",
        "rotate=500",
        "--no-record",
    ]);
    assert_refused(&output, "rotate must be between 0 and 180");
}

#[test]
fn an_exported_model_records_how_it_was_trained() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.safetensors");
    let output = layerlab(&[
        "train",
        "--dataset",
        "mnist",
        "--preset",
        "mlp",
        "--limit",
        "300",
        "--no-record",
        "--schedule",
        "onecycle",
        "--augment",
        "rotate=5",
        "--early-stop",
        "2",
        "--export",
        file.to_str().unwrap(),
    ]);
    common::assert_ok(&output);
    let saved = layerlab::export::SavedModel::load(&file).unwrap();
    let training = saved
        .training
        .expect("the settings travel with the weights");
    assert_eq!(training.schedule.schedule.name(), "onecycle");
    assert_eq!(training.augmentation.unwrap().rotate, 5.0);
    assert_eq!(training.early_stopping.unwrap().patience, 2);
    assert_eq!(training.batch_size, 64);
}
