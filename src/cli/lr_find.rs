//! `layerlab lr-find`: the learning-rate range test on train's data, stack and optimizer,
//! its curve as a table, JSON, CSV or a picture, and its two suggestions.

use std::io::Write as _;

use anyhow::Context;
use layerlab::plot::{LineChart, Marker, Series};
use layerlab::train::{in_compute_pool, lr_find, LrFindResult, LrFindSettings, TrainJob};

use super::args::LrFindArgs;
use super::train::{plan, Planned};

pub fn run(args: LrFindArgs) -> anyhow::Result<()> {
    let settings = LrFindSettings {
        start_lr: args.start_lr,
        end_lr: args.end_lr,
        steps: args.num_steps,
        ..LrFindSettings::default()
    };
    settings.validate().map_err(anyhow::Error::msg)?;
    let Planned {
        dataset,
        spec,
        config,
        initial_weights,
        ..
    } = plan(&args.train)?;
    let optimizer = config.optimizer.name();
    let mut job = TrainJob {
        spec,
        config,
        dataset,
        initial_weights,
        resume_from: None,
    }
    .prepare()?;
    let result = in_compute_pool(|| lr_find(&mut job, settings))?;
    if let Some(path) = &args.csv {
        write_csv(path, &result)?;
    }
    if let Some(path) = &args.out {
        chart(&result, optimizer)
            .render()
            .save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.train.json {
        outln!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    outln!("step  lr          loss      smoothed");
    for (step, point) in result.points.iter().enumerate() {
        outln!(
            "{:<5} {:<11.3e} {:<9.4} {:.4}",
            step + 1,
            point.lr,
            point.loss,
            point.smoothed
        );
    }
    if result.diverged {
        outln!(
            "stopped after {} steps: the smoothed loss passed 4 times its best",
            result.points.len()
        );
    }
    match (result.steepest, result.valley) {
        (None, None) => outln!("no suggestion: the sweep was too short (try more --num-steps)"),
        (steepest, valley) => {
            if let Some(s) = steepest {
                outln!("suggested lr (steepest descent): {:.3e}", s.lr);
            }
            if let Some(v) = valley {
                outln!("suggested lr (valley): {:.3e}", v.lr);
            }
        }
    }
    Ok(())
}

fn write_csv(path: &std::path::Path, result: &LrFindResult) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    writeln!(file, "step,lr,loss,smoothed_loss")?;
    for (step, p) in result.points.iter().enumerate() {
        writeln!(file, "{},{},{},{}", step + 1, p.lr, p.loss, p.smoothed)?;
    }
    file.flush()?;
    Ok(())
}

fn chart(result: &LrFindResult, optimizer: &str) -> LineChart {
    let points = |f: fn(&layerlab::train::LrFindPoint) -> f64| {
        result.points.iter().map(|p| (p.lr, f(p))).collect()
    };
    let mut markers = Vec::new();
    if let Some(s) = result.steepest {
        markers.push(Marker {
            x: s.lr,
            colour: [200, 40, 40],
            label: format!("steepest {:.1e}", s.lr),
        });
    }
    if let Some(v) = result.valley {
        markers.push(Marker {
            x: v.lr,
            colour: [30, 150, 60],
            label: format!("valley {:.1e}", v.lr),
        });
    }
    LineChart {
        title: format!("learning-rate range test ({optimizer})"),
        x_label: "learning rate (log scale)".into(),
        y_label: "loss".into(),
        log_x: true,
        // The smoothed loss, as fastai plots it: the raw one's spikes would hide the valley.
        series: vec![Series {
            points: points(|p| p.smoothed),
            colour: [40, 80, 200],
            label: "smoothed loss".into(),
        }],
        markers,
    }
}
