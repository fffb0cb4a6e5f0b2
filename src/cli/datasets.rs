//! `layerlab datasets`: the built-in datasets, their size, task and where each comes from.

use layerlab::data::{
    find_asset_folder, load_builtin, presets_hint, seeded_split, DataOptions, BUILTIN_DATASETS,
};

use super::args::DatasetsArgs;

pub fn run(args: DatasetsArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.show {
        return show(name, &args);
    }
    if args.json {
        outln!("{}", serde_json::to_string(&BUILTIN_DATASETS)?);
        return Ok(());
    }
    outln!(
        "{:<18} {:<36} {:<44} {:<28} {}",
        "name",
        "input",
        "task",
        "train + test",
        "source"
    );
    for data in BUILTIN_DATASETS {
        let missing = !data.folder.is_empty() && find_asset_folder(data.folder).is_err();
        outln!(
            "{:<18} {:<36} {:<44} {:<28} {}{}",
            data.name,
            data.kind,
            data.task,
            data.size,
            data.source,
            if missing { "  [files not found]" } else { "" }
        );
    }
    outln!("{}", presets_hint());
    Ok(())
}

fn show(name: &str, args: &DatasetsArgs) -> anyhow::Result<()> {
    let options = DataOptions {
        split_seed: args.split_seed,
        ..DataOptions::default()
    };
    let started = std::time::Instant::now();
    let data = load_builtin(name, &options)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let test_rows: Option<Vec<u32>> = args.test_rows.then(|| {
        let all = data.train.len() + data.test.len();
        seeded_split(all, 0.2, args.split_seed).1
    });
    if args.json {
        outln!(
            "{}",
            serde_json::json!({
                "name": data.name,
                "card": data.card,
                "train": data.train.len(),
                "test": data.test.len(),
                "input_shape": data.input_shape().to_string(),
                "load_ms": load_ms,
                "test_rows": test_rows,
            })
        );
        return Ok(());
    }
    outln!("{} ({})", data.name, data.card.dataset);
    outln!("task: {}", data.task().describe());
    outln!(
        "input: {} values per sample; {}",
        data.input_shape(),
        data.card.preprocessing.input.describe()
    );
    outln!(
        "split: {} train, {} test; loaded and prepared in {load_ms:.1} ms",
        data.train.len(),
        data.test.len()
    );
    if let Some(target) = data.card.preprocessing.target {
        outln!(
            "target scaling: {}mean {:.4}, std {:.4} (fitted on the training split)",
            if target.log { "log, then " } else { "" },
            target.mean,
            target.std
        );
    }
    let names = data.task().class_names();
    if !names.is_empty() {
        let counts = data.train.class_counts(names.len());
        let line: Vec<String> = names
            .iter()
            .zip(counts)
            .map(|(n, c)| format!("{n}: {c}"))
            .collect();
        outln!("training samples per class: {}", line.join(", "));
    }
    if let Some(rows) = test_rows {
        outln!(
            "test rows: {}",
            rows.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    Ok(())
}
