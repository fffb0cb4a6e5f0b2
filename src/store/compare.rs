//! What differs between runs: their settings as paths with only the values that differ, and
//! their layer stacks aligned layer by layer (an inserted Dropout is one insertion, a changed
//! `out_channels` one change), then their metrics side by side.

use serde::Serialize;
use serde_json::Value;

use super::{RunRow, RunStore, StoreError};
use crate::spec::Layer;

/// One setting that is not the same in every run: `optimizer.lr`, with each run's value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    pub path: String,
    pub values: Vec<Value>,
}

/// One step of a structural diff of two stacks.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LayerOp {
    Same {
        a: usize,
        b: usize,
        layer: Layer,
    },
    Insert {
        b: usize,
        layer: Layer,
    },
    Delete {
        a: usize,
        layer: Layer,
    },
    /// The same kind of layer with different fields (only those listed).
    Change {
        a: usize,
        b: usize,
        kind: String,
        fields: Vec<Difference>,
    },
}

/// Two or more runs compared.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub runs: Vec<RunRow>,
    pub differences: Vec<Difference>,
    /// The first run's stack against each other run's, in order (one list for two runs).
    pub layers: Vec<Vec<LayerOp>>,
}

/// Compares the runs `ids` (two or more).
pub fn compare_runs(store: &RunStore, ids: &[String]) -> Result<Comparison, StoreError> {
    let mut runs = Vec::new();
    let mut settings = Vec::new();
    let mut stacks = Vec::new();
    for id in ids {
        let record = store.record(id)?;
        runs.push(store.row(id)?);
        // Who trained it: LayerLab, or PyTorch from an export (brought back by `runs import`).
        let trained_by = record
            .host
            .torch
            .as_ref()
            .map_or_else(|| "LayerLab".to_string(), |torch| torch.describe());
        settings.push(serde_json::json!({
            "settings": record.settings,
            "data": record.card,
            "preset": record.preset,
            "trained_by": trained_by,
        }));
        stacks.push(record.stack.layers);
    }
    let layers = stacks[1..]
        .iter()
        .map(|other| diff_layers(&stacks[0], other))
        .collect();
    Ok(Comparison {
        runs,
        differences: diff_settings(&settings),
        layers,
    })
}

/// The paths where the values are not all equal: objects are walked key by key, arrays of
/// up to 16 items element by element, longer arrays (fitted means per feature) as one value.
pub fn diff_settings(values: &[Value]) -> Vec<Difference> {
    let mut out = Vec::new();
    walk("", &values.iter().collect::<Vec<_>>(), &mut out);
    out
}

const ARRAY_ITEMS_WALKED: usize = 16;

fn walk(path: &str, values: &[&Value], out: &mut Vec<Difference>) {
    if values.windows(2).all(|w| w[0] == w[1]) {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    let objects: Option<Vec<&serde_json::Map<String, Value>>> =
        values.iter().map(|v| v.as_object()).collect();
    if let Some(objects) = objects {
        let mut keys: Vec<&String> = objects.iter().flat_map(|o| o.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let children: Vec<&Value> = objects
                .iter()
                .map(|o| o.get(key.as_str()).unwrap_or(&Value::Null))
                .collect();
            walk(&join(key), &children, out);
        }
        return;
    }
    let arrays: Option<Vec<&Vec<Value>>> = values.iter().map(|v| v.as_array()).collect();
    if let Some(arrays) = arrays {
        let length = arrays[0].len();
        if length <= ARRAY_ITEMS_WALKED && arrays.iter().all(|a| a.len() == length) {
            for index in 0..length {
                let children: Vec<&Value> = arrays.iter().map(|a| &a[index]).collect();
                walk(&format!("{path}[{index}]"), &children, out);
            }
            return;
        }
    }
    out.push(Difference {
        path: path.to_string(),
        values: values.iter().map(|v| (*v).clone()).collect(),
    });
}

/// Aligns two stacks by their longest common subsequence of equal layers; a deletion next to
/// an insertion of the same kind of layer is one change, naming the fields that differ.
pub fn diff_layers(a: &[Layer], b: &[Layer]) -> Vec<LayerOp> {
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push(LayerOp::Same {
                a: i,
                b: j,
                layer: a[i].clone(),
            });
            i += 1;
            j += 1;
        } else if i < a.len()
            && j < b.len()
            && a[i].kind_name() == b[j].kind_name()
            && lcs[i + 1][j + 1] == lcs[i][j]
        {
            // Changing this layer in place loses nothing of the alignment.
            ops.push(LayerOp::Change {
                a: i,
                b: j,
                kind: a[i].kind_name().to_string(),
                fields: layer_fields(&a[i], &b[j]),
            });
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(LayerOp::Insert {
                b: j,
                layer: b[j].clone(),
            });
            j += 1;
        } else {
            ops.push(LayerOp::Delete {
                a: i,
                layer: a[i].clone(),
            });
            i += 1;
        }
    }
    ops
}

/// The fields of two layers of one kind that differ.
fn layer_fields(a: &Layer, b: &Layer) -> Vec<Difference> {
    let (a, b) = (
        serde_json::to_value(a).unwrap_or(Value::Null),
        serde_json::to_value(b).unwrap_or(Value::Null),
    );
    diff_settings(&[a, b])
        .into_iter()
        .filter(|d| d.path != "type")
        .collect()
}

#[cfg(test)]
#[allow(clippy::wildcard_enum_match_arm)]
mod tests {
    use super::*;

    fn conv(out_channels: usize) -> Layer {
        Layer::Conv2d {
            out_channels,
            kernel_size: 3,
            stride: 1,
            padding: 0,
        }
    }

    fn pool() -> Layer {
        Layer::MaxPool2d {
            kernel_size: 2,
            stride: None,
        }
    }

    fn cnn() -> Vec<Layer> {
        vec![
            conv(32),
            Layer::ReLU,
            pool(),
            conv(64),
            Layer::ReLU,
            pool(),
            Layer::Flatten,
            Layer::Linear { out_features: 128 },
            Layer::ReLU,
            Layer::Linear { out_features: 10 },
        ]
    }

    fn ops_of(ops: &[LayerOp]) -> Vec<&'static str> {
        ops.iter()
            .map(|op| match op {
                LayerOp::Same { .. } => "same",
                LayerOp::Insert { .. } => "insert",
                LayerOp::Delete { .. } => "delete",
                LayerOp::Change { .. } => "change",
            })
            .collect()
    }

    #[test]
    fn an_inserted_dropout_is_one_insertion() {
        let mut b = cnn();
        b.insert(8, Layer::Dropout { p: 0.5 });
        let ops = diff_layers(&cnn(), &b);
        let kinds = ops_of(&ops);
        assert_eq!(kinds.iter().filter(|k| **k == "insert").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "same").count(), 10);
        assert!(matches!(
            ops[8],
            LayerOp::Insert {
                b: 8,
                layer: Layer::Dropout { .. }
            }
        ));
    }

    #[test]
    fn a_changed_width_is_one_change_naming_the_field() {
        let mut b = cnn();
        b[3] = conv(48);
        let ops = diff_layers(&cnn(), &b);
        assert_eq!(ops_of(&ops).iter().filter(|k| **k == "same").count(), 9);
        match &ops[3] {
            LayerOp::Change {
                a: 3,
                b: 3,
                kind,
                fields,
            } => {
                assert_eq!(kind, "Conv2d");
                assert_eq!(fields.len(), 1, "{fields:?}");
                assert!(fields[0].path.ends_with("out_channels"), "{fields:?}");
                assert_eq!(
                    fields[0].values,
                    [serde_json::json!(64), serde_json::json!(48)]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_removed_block_is_deletions_and_a_new_kind_is_not_a_change() {
        let a = cnn();
        let mut b = cnn();
        b.drain(3..6); // the second conv block
        b[5] = Layer::GELU; // ReLU -> GELU after the dense layer
        let ops = diff_layers(&a, &b);
        let kinds = ops_of(&ops);
        assert_eq!(
            kinds.iter().filter(|k| **k == "delete").count(),
            4,
            "{kinds:?}"
        );
        assert_eq!(
            kinds.iter().filter(|k| **k == "insert").count(),
            1,
            "{kinds:?}"
        );
        assert!(!kinds.contains(&"change"));
    }

    #[test]
    fn settings_differences_are_paths_with_every_runs_value() {
        let a = serde_json::json!({"optimizer": {"kind": "Adam", "lr": 0.001}, "batch_size": 32,
            "seed": 0, "mean": vec![0.5; 784]});
        let mut b = a.clone();
        b["optimizer"]["lr"] = serde_json::json!(0.01);
        b["batch_size"] = serde_json::json!(64);
        b["mean"][3] = serde_json::json!(0.25);
        let differences = diff_settings(&[a.clone(), b]);
        let paths: Vec<&str> = differences.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["batch_size", "mean", "optimizer.lr"]);
        assert_eq!(
            differences[2].values,
            [serde_json::json!(0.001), serde_json::json!(0.01)]
        );
        assert!(diff_settings(&[a.clone(), a]).is_empty());
    }
}
