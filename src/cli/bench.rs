//! `layerlab bench`: see `layerlab::bench` for the method.

use layerlab::bench::{
    run_bench, run_checkpoint_bench, run_listing_bench, run_overlay_bench, run_preset_bench,
    run_recording_bench, run_tabular_bench,
};
use layerlab::data::{default_mnist_dir, load_builtin, DataOptions, Dataset};

use super::args::BenchArgs;

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.run_store {
        return run_store_bench(&args);
    }
    if args.tabular {
        return tabular_bench(&args);
    }
    let dataset = Dataset::mnist(&args.data_dir.unwrap_or_else(default_mnist_dir))?;
    if let Some(name) = args.only {
        let name = name.as_str();
        let report = run_preset_bench(name, &dataset, args.runs).map_err(anyhow::Error::msg)?;
        if args.json {
            outln!("{}", serde_json::to_string(&report)?);
        } else {
            outln!("{name} train   {:>10.1} img/s", report.train_img_per_s);
            outln!("{name} predict {:>10.1} us", report.predict_us);
        }
        return Ok(());
    }
    let report = run_bench(&dataset, args.runs).map_err(anyhow::Error::msg)?;
    if args.json {
        outln!("{}", serde_json::to_string(&report)?);
    } else {
        outln!("mlp train   {:>10.1} img/s", report.mlp_train_img_per_s);
        outln!("cnn train   {:>10.1} img/s", report.cnn_train_img_per_s);
        outln!("mlp predict {:>10.1} us", report.mlp_predict_us);
        outln!("cnn predict {:>10.1} us", report.cnn_predict_us);
    }
    Ok(())
}

/// `--run-store`: checkpoints, the Runs tab's list and chart reads, recording.
fn run_store_bench(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut reports = Vec::new();
    for preset in ["cnn", "cnn-bn"] {
        reports.push(run_checkpoint_bench(preset, dir.path(), args.runs)?);
    }
    if args.json {
        outln!("{}", serde_json::to_string(&reports)?);
    } else {
        for r in reports {
            outln!(
                "{} checkpoint {} bytes: copy {:.2} ms (training thread), write {:.2} ms (recording thread)",
                r.preset,
                r.bytes,
                r.copy_ms,
                r.write_ms
            );
        }
    }
    // The Runs tab's read of a store of 1,000 runs of 20 epochs, kept in --keep-store's
    // `listing` folder when one is given (the window's list of 1,000 runs, scrolled).
    let listing_dir = match &args.keep_store {
        Some(kept) => kept.join("listing"),
        None => dir.path().join("listing"),
    };
    std::fs::create_dir_all(&listing_dir)?;
    let listing = run_listing_bench(&listing_dir, 1_000, 20, args.runs)?;
    if args.json {
        outln!("{}", serde_json::to_string(&listing)?);
    } else {
        outln!(
            "listing a store of {} runs ({} epochs each), as the Runs tab reads it: {:.1} ms (open and list, median of {})",
            layerlab::display::thousands(listing.runs),
            listing.epochs_per_run,
            listing.open_and_list_ms,
            args.runs
        );
    }
    // The Runs tab's chart of 20 runs of 100,000 steps: a store kept in --keep-store's
    // folder (as `runs.sqlite`, for LAYERLAB_DATA_DIR) when one is given.
    let overlay_dir = match &args.keep_store {
        Some(kept) => {
            std::fs::create_dir_all(kept)?;
            kept.clone()
        }
        None => dir.path().join("overlay"),
    };
    let overlay = run_overlay_bench(
        &overlay_dir.join(layerlab::store::STORE_FILE),
        20,
        100_000,
        args.runs,
    )?;
    if args.json {
        outln!("{}", serde_json::to_string(&overlay)?);
    } else {
        outln!(
            "reading the curves of {} runs of {} steps, as the Runs tab does when they are ticked: {:.1} ms (median of {}; at most {} points per curve)",
            overlay.runs,
            layerlab::display::thousands(overlay.steps_per_run),
            overlay.read_ms,
            args.runs,
            overlay.points_per_curve
        );
    }
    let recording = run_recording_bench(dir.path(), 200_000)?;
    if args.json {
        outln!("{}", serde_json::to_string(&recording)?);
    } else {
        outln!(
            "recording {} batch events: {:.0} ns each on the training side, {:.0} rows/s written",
            recording.events,
            recording.observe_ns_per_event,
            recording.rows_per_sec
        );
    }
    Ok(())
}

/// `--tabular`: the tiny tabular models, in steps per second.
fn tabular_bench(args: &BenchArgs) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    for (dataset, preset) in [("ames-housing", "mlp-regressor"), ("iris", "tabular-mlp")] {
        let data = load_builtin(dataset, &DataOptions::default())?;
        reports.push(run_tabular_bench(preset, &data, args.runs).map_err(anyhow::Error::msg)?);
    }
    if args.json {
        outln!("{}", serde_json::to_string(&reports)?);
    } else {
        for r in reports {
            outln!(
                "{} {} batch {} train {:>10.1} steps/s  predict {:>6.1} us",
                r.dataset,
                r.preset,
                r.batch_size,
                r.train_steps_per_s,
                r.predict_us
            );
        }
    }
    Ok(())
}
