//! `layerlab bench`: see `layerlab::bench` for the method.

use layerlab::bench::run_bench;
use layerlab::data::{default_mnist_dir, Dataset};

use super::args::BenchArgs;

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dataset = Dataset::mnist(&args.data_dir.unwrap_or_else(default_mnist_dir))?;
    let report = run_bench(&dataset, args.runs).map_err(anyhow::Error::msg)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("mlp train   {:>10.1} img/s", report.mlp_train_img_per_s);
        println!("cnn train   {:>10.1} img/s", report.cnn_train_img_per_s);
        println!("mlp predict {:>10.1} us", report.mlp_predict_us);
        println!("cnn predict {:>10.1} us", report.cnn_predict_us);
    }
    Ok(())
}
