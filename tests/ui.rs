//! The window, driven headless like a person would: egui_kittest finds widgets by their
//! accessible labels, clicks and drags them, and steps frames until the app shows a result.
//! Training, prediction and file work run on the real engine threads.
#![cfg(feature = "gui")]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use layerlab::app::{AppCommand, LayerLabApp, PersistedState, RunStatus};
use layerlab::data::{default_mnist_dir, Dataset};
use layerlab::export::SavedModel;
use layerlab::spec::{preset, Layer};
use layerlab::train::{run_training, TrainConfig, TrainJob};

/// Longest a test waits for background work (MNIST load, a short run) before failing.
const PATIENCE: Duration = Duration::from_secs(120);

/// A quick run: the mlp preset on a few thousand images.
fn quick_state() -> PersistedState {
    PersistedState {
        stack: preset("mlp").unwrap().spec,
        training: TrainConfig {
            optimizer: layerlab::optim::OptimizerConfig::default_for("adam").unwrap(),
            batch_size: 32,
            epochs: 1,
            train_limit: Some(3_000),
            validation_size: 500,
            test_limit: Some(500),
            ..TrainConfig::default()
        },
        ..PersistedState::default()
    }
}

/// The one harness factory: the real app at a desktop size.
fn harness(state: PersistedState) -> Harness<'static, LayerLabApp> {
    Harness::builder()
        .with_size(egui::vec2(1440.0, 900.0))
        .build_eframe(move |cc| LayerLabApp::with_state(&cc.egui_ctx, state, default_mnist_dir()))
}

/// Steps frames until `done` holds, sleeping a little between frames so worker threads run.
#[track_caller]
fn step_until(
    harness: &mut Harness<'static, LayerLabApp>,
    what: &str,
    done: impl Fn(&LayerLabApp) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(started.elapsed() < PATIENCE, "gave up waiting for: {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.step();
}

/// A small trained model on disk, made with the engine directly.
fn trained_model_file(dir: &Path) -> std::path::PathBuf {
    let dataset = Arc::new(Dataset::mnist(&default_mnist_dir()).unwrap());
    let state = quick_state();
    let job = TrainJob {
        spec: state.stack.clone(),
        config: state.training.clone(),
        dataset,
        initial_weights: None,
    };
    let (_commands_tx, commands_rx) = crossbeam_channel::unbounded();
    let summary = run_training(job.prepare().unwrap(), &commands_rx, &mut |_| true).unwrap();
    let path = dir.join("quick.safetensors");
    SavedModel {
        spec: state.stack,
        input_shape: [1, 28, 28],
        classes: 10,
        weights: (*summary.weights).clone(),
    }
    .save(&path)
    .unwrap();
    path
}

/// Drags the mouse through `points` (fractions of the canvas) as one stroke.
fn draw_stroke(harness: &mut Harness<'static, LayerLabApp>, points: &[(f32, f32)]) {
    let rect = harness.get_by_label("Drawing canvas").rect();
    let at = |(x, y): (f32, f32)| rect.min + egui::vec2(x * rect.width(), y * rect.height());
    harness.hover_at(at(points[0]));
    harness.step();
    harness.event(egui::Event::PointerButton {
        pos: at(points[0]),
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    for &p in &points[1..] {
        harness.hover_at(at(p));
        harness.step();
    }
    harness.event(egui::Event::PointerButton {
        pos: at(*points.last().unwrap()),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
}

#[test]
fn designer_edits_show_shapes_errors_and_undo() {
    let mut harness = harness(quick_state());
    harness.run_steps(2);
    harness.get_by_label_contains("Ready to train: 101770 parameters");

    // Add a layer by clicking: the default new layer is Linear(64), so the stack no longer
    // ends in 10 outputs and says so.
    harness.get_by_label("Add layer").click();
    harness.run_steps(2);
    assert_eq!(harness.state().state.stack.layers.len(), 4);
    harness.get_by_label_contains("ends with 64 outputs");

    // Change a parameter: Linear(64) -> Linear(10) fits again and shows its shape.
    harness.state_mut().send(AppCommand::Undo);
    harness.run_steps(2);
    assert_eq!(harness.state().state.stack.layers.len(), 3);
    harness.get_by_label("Load preset").click(); // the cnn preset (the first-launch default)
    harness.run_steps(2);
    harness.get_by_label("-> 32x13x13");
    harness.get_by_label("320 params");
    let kernel = harness.get_all_by_label("kernel_size").next().unwrap();
    kernel.set_value_accesskit(29.0);
    harness.run_steps(3);
    assert!(matches!(
        harness.state().state.stack.layers[0],
        Layer::Conv2d {
            kernel_size: 29,
            ..
        }
    ));
    // Beside the offending layer, and again in the footer that blocks training.
    let message = "layer 0 Conv2d: kernel 29 is larger than its 28x28 input";
    assert_eq!(harness.get_all_by_label_contains(message).count(), 2);
    harness.get_by_label_contains(&format!("Cannot train: {message}"));

    // Undo brings the working kernel back.
    harness.get_by_label("Undo").click();
    harness.run_steps(2);
    assert!(matches!(
        harness.state().state.stack.layers[0],
        Layer::Conv2d { kernel_size: 3, .. }
    ));
    harness.get_by_label_contains("Ready to train: 225034 parameters");
}

#[test]
fn a_short_run_streams_into_the_charts_and_can_pause_resume_and_finish() {
    let mut harness = harness(quick_state());
    step_until(&mut harness, "MNIST to load", |app| app.dataset_ready());
    harness.get_by_label("Train").click();
    step_until(&mut harness, "the first batches", |app| {
        app.history().batches.len() >= 5
    });
    assert!(harness.state().progress().unwrap().step >= 5);

    harness.get_by_label("Pause").click();
    step_until(&mut harness, "the pause", |app| {
        app.run_status() == Some(&RunStatus::Paused)
    });
    let paused_at = harness.state().history().last_step();
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        harness.state().history().last_step(),
        paused_at,
        "a paused run does not train"
    );

    harness.get_by_label("Resume").click();
    step_until(&mut harness, "the run to finish", |app| {
        app.run_status() == Some(&RunStatus::Finished)
    });
    let app = harness.state();
    assert_eq!(app.history().batches.len(), 3_000usize.div_ceil(32));
    assert!(app.drawn_chart_points() > 0);
    assert_eq!(app.history().epochs.len(), 1);
    let accuracy = app
        .evaluation_accuracy()
        .expect("an evaluation after the run");
    assert!(
        accuracy > 0.8,
        "3,000 images with Adam reach > 80%: {accuracy}"
    );
    assert!(app.has_model());
    harness.get_by_label("Evaluation").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Confusion matrix");
}

#[test]
fn drawing_a_digit_shows_a_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_model_file(dir.path());
    let mut harness = harness(quick_state());
    harness.state_mut().send(AppCommand::LoadModelFrom(model));
    step_until(&mut harness, "the model to load", |app| app.has_model());

    // A "1": one vertical stroke.
    draw_stroke(
        &mut harness,
        &[(0.5, 0.15), (0.5, 0.3), (0.5, 0.5), (0.5, 0.7), (0.5, 0.85)],
    );
    assert_eq!(harness.state().canvas().strokes.len(), 1);
    step_until(&mut harness, "a prediction of the whole stroke", |app| {
        app.prediction_is_current() && matches!(app.prediction(), Some(Ok(_)))
    });
    let Some(Ok(prediction)) = harness.state().prediction() else {
        unreachable!()
    };
    let total: f32 = prediction.probabilities.iter().sum();
    assert!((total - 1.0).abs() < 1e-4);
    assert_eq!(prediction.input.pixels.len(), 784);
    assert_eq!(prediction.class(), 1, "{:?}", prediction.probabilities);
    harness.get_by_label_contains("Prediction: 1");

    harness.get_by_label("Clear").click();
    harness.run_steps(2);
    assert!(harness.state().canvas().is_empty());
    assert!(harness.state().prediction().is_none());
}

#[test]
fn export_and_import_use_the_dialog_code_path_and_report_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_model_file(dir.path());
    let mut harness = harness(quick_state());
    harness
        .state_mut()
        .send(AppCommand::LoadModelFrom(model.clone()));
    step_until(&mut harness, "the model to load", |app| app.has_model());
    assert!(harness
        .state()
        .model_origin()
        .unwrap()
        .contains("quick.safetensors"));

    let exported = dir.path().join("exported.safetensors");
    harness
        .state_mut()
        .send(AppCommand::ExportWeightsTo(exported.clone()));
    step_until(&mut harness, "the export", |app| {
        app.notifications().iter().any(|n| n.starts_with("Saved"))
    });
    assert_eq!(
        SavedModel::load(&exported).unwrap(),
        SavedModel::load(&model).unwrap()
    );

    // A broken file: a message in the window, the stack and model untouched.
    let broken = dir.path().join("broken.safetensors");
    std::fs::write(&broken, b"not a model").unwrap();
    let stack_before = harness.state().state.stack.clone();
    harness.state_mut().send(AppCommand::LoadModelFrom(broken));
    step_until(&mut harness, "the error", |app| {
        app.notifications()
            .iter()
            .any(|n| n.contains("is not a valid safetensors file"))
    });
    assert_eq!(harness.state().state.stack, stack_before);
    assert!(harness.state().has_model());
    harness.get_by_label_contains("is not a valid safetensors file");
}

#[test]
fn snapshots_of_the_designer_and_data_views() {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1440.0, 900.0))
        .wgpu()
        .build_eframe(|cc| {
            LayerLabApp::with_state(&cc.egui_ctx, PersistedState::default(), default_mnist_dir())
        });
    step_until(&mut harness, "MNIST to load", |app| app.dataset_ready());
    harness.run_steps(2);
    let mut results = egui_kittest::SnapshotResults::new();
    results.add(harness.try_snapshot("designer"));
    harness.get_by_label("Data").click();
    harness.run_steps(3);
    results.add(harness.try_snapshot("data"));
}
