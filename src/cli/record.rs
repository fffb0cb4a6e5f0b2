//! Recording a `train` run in the run store, and the command line a run is recorded with
//! (so `runs resume` and `runs fork` can load the same data).

use std::path::{Path, PathBuf};

use layerlab::store::{default_store_path, RecordReport, Recorder, RunEnd, RunRecord, RunStore};
use layerlab::train::TrainEvent;

/// Options that only say where results go; a run's record leaves them out.
const OUTPUT_OPTIONS: [&str; 6] = [
    "--export",
    "--export-onnx",
    "--log-jsonl",
    "--store",
    "--name",
    "--tensorboard",
];
/// Options of `train` that take no value.
const FLAGS: [&str; 4] = ["--log-target", "--json", "--quiet", "--no-record"];
/// Options whose value is a path, made absolute in the record.
const PATH_OPTIONS: [&str; 4] = ["--dataset", "--data-dir", "--spec", "--resume"];

/// The long option a token names: `--lr` of `--lr` and of `--lr=0.1`.
fn option_name(token: &str) -> Option<&str> {
    token
        .starts_with("--")
        .then(|| token.split_once('=').map_or(token, |(name, _)| name))
}

/// Splits `train`'s arguments into options (each with its value) in order.
fn options(args: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let token = &args[i];
        let takes_value =
            option_name(token).is_some_and(|name| !FLAGS.contains(&name) && !token.contains('='));
        if takes_value && i + 1 < args.len() {
            out.push(vec![token.clone(), args[i + 1].clone()]);
            i += 2;
        } else {
            out.push(vec![token.clone()]);
            i += 1;
        }
    }
    out
}

/// Whether an option only says where results go (`--export`, `--json`...).
fn is_output(option: &[String]) -> bool {
    option_name(&option[0]).is_some_and(|n| OUTPUT_OPTIONS.contains(&n) || FLAGS[1..].contains(&n))
}

/// The output options among `args`, with their values.
pub fn outputs_only(args: &[String]) -> Vec<String> {
    options(args)
        .into_iter()
        .filter(|o| is_output(o))
        .flatten()
        .collect()
}

/// `args` without the output options, paths made absolute: what a run is recorded with.
pub fn settings_only(args: &[String]) -> Vec<String> {
    options(args)
        .into_iter()
        .filter(|option| !is_output(option))
        .flat_map(|mut option| {
            if let (Some(name), Some(value)) = (option_name(&option[0]), option.get(1)) {
                if PATH_OPTIONS.contains(&name) && Path::new(value).exists() {
                    if let Ok(absolute) = std::path::absolute(value) {
                        option[1] = absolute.display().to_string();
                    }
                }
            }
            option
        })
        .collect()
}

/// The options among `args` that are not output options (`runs resume` accepts none).
pub fn non_output_options(args: &[String]) -> Vec<String> {
    options(args)
        .into_iter()
        .filter(|option| !is_output(option))
        .map(|option| option.join(" "))
        .collect()
}

/// `base` with every option `overrides` names taken out, then `overrides` appended.
pub fn merged(base: &[String], overrides: &[String]) -> Vec<String> {
    let named: Vec<String> = options(overrides)
        .iter()
        .filter_map(|o| option_name(&o[0]).map(str::to_string))
        .collect();
    options(base)
        .into_iter()
        .filter(|o| !option_name(&o[0]).is_some_and(|n| named.iter().any(|m| m == n)))
        .flatten()
        .chain(overrides.iter().cloned())
        .collect()
}

/// The store `--store` names, else the default one.
pub fn store_path(store: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match store {
        Some(path) => Ok(path.clone()),
        None => Ok(default_store_path()?),
    }
}

/// Opens the store and says what opening found (interrupted runs, a damaged file).
pub fn open_store(path: &Path) -> anyhow::Result<RunStore> {
    let store = RunStore::open(path)?;
    for note in store.notes() {
        eprintln!("note: {note}");
    }
    Ok(store)
}

/// Where a run's record goes (the store's own type).
pub use layerlab::store::RunTarget as Target;

/// A run being recorded.
pub struct Recording {
    recorder: Recorder,
}

impl Recording {
    /// Starts recording in the store at `path`; `None`, with a warning, when the store cannot
    /// be used (training goes on: only the record is missing).
    pub fn start(path: &Path, record: &RunRecord, target: Target) -> Option<Self> {
        let lease = RunStore::open(path).and_then(|mut store| {
            for note in store.notes() {
                eprintln!("note: {note}");
            }
            store.lease(record, target)
        });
        match lease.and_then(Recorder::start) {
            Ok(recorder) => Some(Self { recorder }),
            Err(error) => {
                eprintln!("warning: this run is not recorded: {error}");
                None
            }
        }
    }

    pub fn id(&self) -> &str {
        self.recorder.id()
    }

    pub fn observe(&self, event: &TrainEvent) {
        self.recorder.observe(event);
    }

    /// Records the end and says what could not be recorded.
    pub fn finish(self, end: RunEnd) {
        let RecordReport { problems } = self.recorder.finish(end);
        for problem in problems {
            eprintln!("warning: {problem}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_record_keeps_settings_and_leaves_outputs_out() {
        let recorded = settings_only(&args(
            "--dataset iris --epochs 3 --export m.safetensors --json --quiet --lr=0.1 --log-target --store s.sqlite",
        ));
        assert_eq!(
            recorded,
            args("--dataset iris --epochs 3 --lr=0.1 --log-target")
        );
    }

    #[test]
    fn overrides_replace_what_they_name() {
        let base = args("--dataset iris --epochs 3 --lr 0.1 --log-target");
        assert_eq!(
            merged(&base, &args("--lr=0.01 --batch-size 8")),
            args("--dataset iris --epochs 3 --log-target --lr=0.01 --batch-size 8")
        );
        assert_eq!(
            non_output_options(&args("--export a --json --lr 2")),
            ["--lr 2"]
        );
        assert_eq!(
            outputs_only(&args("--export a --json --lr 2")),
            args("--export a --json")
        );
    }
}
