//! `layerlab bench`: see `layerlab::bench` for the method.

use layerlab::bench::{run_bench, run_preset_bench};
use layerlab::data::{default_mnist_dir, Dataset};
use layerlab::spec::{preset, PRESET_NAMES};

use super::args::BenchArgs;

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dataset = Dataset::mnist(&args.data_dir.unwrap_or_else(default_mnist_dir))?;
    if let Some(name) = &args.only {
        if preset(name).is_none() {
            anyhow::bail!(
                "unknown preset {name:?}; choose one of {}",
                PRESET_NAMES.join(", ")
            );
        }
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
