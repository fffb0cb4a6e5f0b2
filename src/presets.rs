//! The seed recipes users come from, as ready-made stacks with their training settings, each
//! saying which datasets it was made for.

use crate::data::Augmentation;
use crate::optim::{LrSchedule, OptimizerConfig, Schedule};
use crate::spec::{Layer, ModelSpec};
use crate::train::LossKind;

/// A named starting point: a stack plus the optimizer, batch size, epochs and loss it was
/// tuned with, and the datasets it fits.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    pub spec: ModelSpec,
    pub optimizer: OptimizerConfig,
    pub batch_size: usize,
    /// Epochs of the recipe (the CLI's default when `--epochs` is not given).
    pub epochs: usize,
    /// The recipe's loss; `None` means the task's default (cross-entropy or MSE).
    pub loss: Option<LossKind>,
    /// Train a regression on the logarithm of its target.
    pub log_target: bool,
    /// Built-in datasets the recipe was made for, best first.
    pub datasets: &'static [&'static str],
    /// The learning rate over the run (constant for most recipes).
    pub schedule: LrSchedule,
    /// Random changes to each training image, for the recipes that use them.
    pub augmentation: Option<Augmentation>,
}

pub const PRESET_NAMES: [&str; 13] = [
    "mlp",
    "mlp-deep",
    "cnn",
    "cnn-deep",
    "cnn-bn",
    "mnist-99",
    "digits-cnn",
    "digits-mlp",
    "mlp-regressor",
    "mlp-regressor-robust",
    "text-bow",
    "tabular-mlp",
    "playground",
];

const IMAGES_28: &[&str] = &["mnist", "fashion-mnist"];

/// Looks a preset up by name.
pub fn preset(name: &str) -> Option<Preset> {
    let recipe: fn() -> Preset = match name {
        "mlp" => mlp,
        "mlp-deep" => mlp_deep,
        "cnn" => cnn,
        "cnn-deep" => cnn_deep,
        "cnn-bn" => cnn_bn,
        "mnist-99" => mnist_99,
        "digits-cnn" => digits_cnn,
        "digits-mlp" => digits_mlp,
        "mlp-regressor" => mlp_regressor,
        "mlp-regressor-robust" => mlp_regressor_robust,
        "text-bow" => text_bow,
        "tabular-mlp" => tabular_mlp,
        "playground" => playground,
        _ => return None,
    };
    Some(recipe())
}

/// A recipe of one epoch at a constant rate, the task's own loss and no augmentation: what
/// most presets are, the others changing a field or two.
fn recipe(
    name: &'static str,
    description: &'static str,
    layers: Vec<Layer>,
    optimizer: OptimizerConfig,
    batch_size: usize,
    datasets: &'static [&'static str],
) -> Preset {
    Preset {
        name,
        description,
        spec: ModelSpec::new(layers),
        optimizer,
        batch_size,
        epochs: 1,
        loss: None,
        log_target: false,
        datasets,
        schedule: LrSchedule::default(),
        augmentation: None,
    }
}

// The recipes' building blocks, with PyTorch's defaults.

fn conv(out_channels: usize) -> Layer {
    Layer::Conv2d {
        out_channels,
        kernel_size: 3,
        stride: 1,
        padding: 0,
    }
}

/// A 3x3 convolution padded to keep the map's size.
fn conv_same(out_channels: usize) -> Layer {
    Layer::Conv2d {
        out_channels,
        kernel_size: 3,
        stride: 1,
        padding: 1,
    }
}

fn pool() -> Layer {
    Layer::MaxPool2d {
        kernel_size: 2,
        stride: None,
    }
}

fn linear(out_features: usize) -> Layer {
    Layer::Linear { out_features }
}

fn batch_norm() -> Layer {
    Layer::BatchNorm2d {
        eps: crate::spec::DEFAULT_BATCH_NORM_EPS,
        momentum: crate::spec::DEFAULT_BATCH_NORM_MOMENTUM,
    }
}

fn sgd(lr: f64) -> OptimizerConfig {
    OptimizerConfig::Sgd {
        lr,
        momentum: 0.0,
        dampening: 0.0,
        nesterov: false,
        weight_decay: 0.0,
    }
}

fn adam(lr: f64) -> OptimizerConfig {
    OptimizerConfig::Adam {
        lr,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weight_decay: 0.0,
    }
}

fn mlp() -> Preset {
    recipe(
        "mlp",
        "MLP 784-128-10, ReLU, SGD lr 0.01, batch 64",
        vec![linear(128), Layer::ReLU, linear(10)],
        sgd(0.01),
        64,
        IMAGES_28,
    )
}

fn mlp_deep() -> Preset {
    recipe(
        "mlp-deep",
        "MLP 784-128-64-10, ReLU, Adam lr 1e-3, batch 32",
        vec![
            linear(128),
            Layer::ReLU,
            linear(64),
            Layer::ReLU,
            linear(10),
        ],
        adam(1e-3),
        32,
        IMAGES_28,
    )
}

fn digits_cnn() -> Preset {
    use Layer::{Flatten, ReLU};
    Preset {
        epochs: 30,
        ..recipe(
            "digits-cnn",
            "CNN for the 8x8 digits: Conv32(pad 1)-Pool-Conv64(pad 1)-Pool-Dense64-10, Adam lr 1e-3, batch 32, 30 epochs",
            vec![
                conv_same(32),
                ReLU,
                pool(),
                conv_same(64),
                ReLU,
                pool(),
                Flatten,
                linear(64),
                ReLU,
                linear(10),
            ],
            adam(1e-3),
            32,
            &["digits-8x8"],
        )
    }
}

fn digits_mlp() -> Preset {
    Preset {
        epochs: 50,
        ..recipe(
            "digits-mlp",
            "MLP 64-128-64-10 for the 8x8 digits, ReLU, Adam lr 1e-3, batch 32, 50 epochs",
            vec![
                linear(128),
                Layer::ReLU,
                linear(64),
                Layer::ReLU,
                linear(10),
            ],
            adam(1e-3),
            32,
            &["digits-8x8"],
        )
    }
}

fn cnn() -> Preset {
    use Layer::{Flatten, ReLU};
    recipe(
        "cnn",
        "CNN Conv32-Pool-Conv64-Pool-Dense128-10, Adam lr 1e-3, batch 32",
        vec![
            conv(32),
            ReLU,
            pool(),
            conv(64),
            ReLU,
            pool(),
            Flatten,
            linear(128),
            ReLU,
            linear(10),
        ],
        adam(1e-3),
        32,
        IMAGES_28,
    )
}

fn cnn_deep() -> Preset {
    use Layer::{Flatten, ReLU};
    recipe(
        "cnn-deep",
        "CNN Conv32-Pool-Conv64-Pool-Conv64-Dense64-10, Adam lr 1e-3, batch 32",
        vec![
            conv(32),
            ReLU,
            pool(),
            conv(64),
            ReLU,
            pool(),
            conv(64),
            ReLU,
            Flatten,
            linear(64),
            ReLU,
            linear(10),
        ],
        adam(1e-3),
        32,
        IMAGES_28,
    )
}

fn cnn_bn() -> Preset {
    use Layer::{Flatten, ReLU};
    recipe(
        "cnn-bn",
        "The cnn preset with BatchNorm2d after each convolution: Conv32-BN-Pool-Conv64-BN-Pool-Dense128-10, Adam lr 1e-3, batch 32",
        vec![
            conv(32),
            batch_norm(),
            ReLU,
            pool(),
            conv(64),
            batch_norm(),
            ReLU,
            pool(),
            Flatten,
            linear(128),
            ReLU,
            linear(10),
        ],
        adam(1e-3),
        32,
        IMAGES_28,
    )
}

/// Issue 21's recipe for MNIST in five minutes on 2 cores: batch norm, OneCycle, and affine
/// augmentation (rotation, shift, zoom) as the PyTorch reference
/// (../shared/bench/mnist_5min_torch.py) trains. Unpadded convolutions: padded ones (28x28
/// maps) cost a third of the speed. 20 epochs: 99.61% test accuracy in 2 min 41 s on the
/// 2-core EPYC box (10 epochs gave 99.52%, 30 gave 99.57%; docs/train-better.md).
fn mnist_99() -> Preset {
    use Layer::{Dropout, Flatten, ReLU};
    Preset {
        epochs: 20,
        schedule: LrSchedule {
            schedule: Schedule::one_cycle(),
            ..LrSchedule::default()
        },
        augmentation: Some(Augmentation {
            rotate: 10.0,
            translate: 0.1,
            scale: 0.1,
            ..Augmentation::default()
        }),
        ..recipe(
            "mnist-99",
            "BN-CNN for 99.5% on MNIST in 5 minutes on 2 cores: Conv32-BN-Pool-Conv64-BN-Pool-Dense128-Dropout0.2-10, Adam lr 3e-3 with OneCycle, batch 64, 20 epochs, rotation 10, shift 0.1, zoom 0.1",
            vec![
                conv(32),
                batch_norm(),
                ReLU,
                pool(),
                conv(64),
                batch_norm(),
                ReLU,
                pool(),
                Flatten,
                linear(128),
                ReLU,
                Dropout { p: 0.2 },
                linear(10),
            ],
            adam(3e-3),
            64,
            &["mnist"],
        )
    }
}

fn mlp_regressor() -> Preset {
    Preset {
        epochs: 100,
        loss: Some(LossKind::Mse),
        ..recipe(
            "mlp-regressor",
            "MLP regressor: standardised inputs, Linear 64, ReLU, Linear 1, MSE, SGD lr 0.01, batch 32, 100 epochs",
            vec![linear(64), Layer::ReLU, linear(1)],
            sgd(0.01),
            32,
            &["ames-housing", "diabetes"],
        )
    }
}

fn mlp_regressor_robust() -> Preset {
    Preset {
        epochs: 30,
        loss: Some(LossKind::Mse),
        log_target: true,
        ..recipe(
            "mlp-regressor-robust",
            "MLP regressor made robust to outliers: log target, Linear 64, ReLU, Linear 1, MSE, AdamW lr 3e-4 weight decay 0.05, batch 32, 30 epochs",
            vec![linear(64), Layer::ReLU, linear(1)],
            OptimizerConfig::AdamW {
                lr: 3e-4,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.05,
            },
            32,
            &["ames-housing", "diabetes"],
        )
    }
}

fn text_bow() -> Preset {
    Preset {
        epochs: 3,
        ..recipe(
            "text-bow",
            "Bag of words 10k, Linear 64, ReLU, Dropout 0.5, Linear 2, Adam lr 1e-3, batch 32, 3 epochs",
            vec![linear(64), Layer::ReLU, Layer::Dropout { p: 0.5 }, linear(2)],
            adam(1e-3),
            32,
            &["fine-food-reviews"],
        )
    }
}

fn tabular_mlp() -> Preset {
    Preset {
        epochs: 100,
        ..recipe(
            "tabular-mlp",
            "MLP for small tables: Linear 32, ReLU, Linear k, Adam lr 1e-3, batch 16, 100 epochs",
            vec![linear(32), Layer::ReLU, linear(3)],
            adam(1e-3),
            16,
            &["iris", "wine", "breast-cancer"],
        )
    }
}

fn playground() -> Preset {
    use Layer::Tanh;
    Preset {
        epochs: 100,
        ..recipe(
            "playground",
            "TensorFlow Playground's default: Linear 8, Tanh, Linear 8, Tanh, Linear 2, Adam lr 0.01, batch 10, 100 epochs",
            vec![linear(8), Tanh, linear(8), Tanh, linear(2)],
            adam(0.01),
            10,
            &["circles", "xor", "spiral", "gaussian"],
        )
    }
}

impl Preset {
    /// Whether the recipe was made for built-in dataset `dataset`.
    pub fn fits(&self, dataset: &str) -> bool {
        self.datasets.contains(&dataset)
    }

    /// The preset with its last Linear layer sized for `outputs` values (3 classes of iris
    /// instead of the recipe's 10, say).
    pub fn with_outputs(mut self, outputs: usize) -> Self {
        if let Some(Layer::Linear { out_features }) = self
            .spec
            .layers
            .iter_mut()
            .rev()
            .find(|l| matches!(l, Layer::Linear { .. }))
        {
            *out_features = outputs;
        }
        self
    }
}

/// The presets made for built-in `dataset`: the one it starts from first, then the others
/// made for it in table order.
pub fn presets_for(dataset: &str) -> Vec<Preset> {
    let first = crate::data::builtin(dataset).map(|d| d.preset);
    let mut presets: Vec<Preset> = PRESET_NAMES
        .iter()
        .filter_map(|name| preset(name))
        .filter(|p| p.fits(dataset))
        .collect();
    presets.sort_by_key(|p| Some(p.name) != first);
    presets
}

/// The presets that suit the data `card` describes, best first: a built-in's own recipes
/// ([`presets_for`]); for data of one's own, the recipes of the built-ins it resembles (a
/// table's regression or classification recipes, a text's bag of words, MNIST's for 28x28
/// grey images).
pub fn presets_for_data(card: &crate::data::DataCard) -> Vec<Preset> {
    use crate::data::{ColumnStep, InputPipeline, Task};
    if crate::data::builtin(&card.dataset).is_some() {
        return presets_for(&card.dataset);
    }
    let like = match (&card.preprocessing.input, &card.task) {
        (InputPipeline::Table { columns }, _)
            if columns.iter().any(|c| matches!(c, ColumnStep::Text { .. })) =>
        {
            "fine-food-reviews"
        }
        (InputPipeline::Table { .. }, Task::Regression { .. }) => "ames-housing",
        (InputPipeline::Table { .. }, Task::Classification { .. }) => "iris",
        (
            InputPipeline::Image {
                channels: 1,
                height: 28,
                width: 28,
                ..
            },
            _,
        ) => "mnist",
        (InputPipeline::Image { .. }, _) => return Vec::new(),
    };
    presets_for(like)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_of_ones_own_is_offered_the_recipes_of_the_builtins_it_resembles() {
        let table = |text: &str, target: &str| {
            let raw = crate::data::RawTable::from_reader(text.as_bytes(), "mine.csv").unwrap();
            let options = crate::data::TableOptions {
                target: Some(target.into()),
                ..Default::default()
            };
            let (data, _) =
                crate::data::table_dataset("mine.csv", &raw, Some(&raw), &options).unwrap();
            data.card
        };
        let rows: String = (0..20)
            .map(|i| format!("{i},{},{}\n", i % 2, i * 3))
            .collect();
        let first = |card| presets_for_data(&card).first().map(|p| p.name);
        assert_eq!(
            first(table(&format!("x,k,y\n{rows}"), "k")),
            Some("tabular-mlp")
        );
        assert_eq!(
            first(table(&format!("x,k,y\n{rows}"), "y")),
            Some("mlp-regressor")
        );
        let reviews: String = (0..20)
            .map(|i| {
                format!(
                    "this product was really good and I liked it {i},{}\n",
                    i % 2
                )
            })
            .collect();
        assert_eq!(
            first(table(&format!("review,label\n{reviews}"), "label")),
            Some("text-bow")
        );
        // A built-in keeps its own first recipe.
        let iris = crate::data::load_builtin("iris", &Default::default()).unwrap();
        assert_eq!(first(iris.card), Some("tabular-mlp"));
    }

    #[test]
    fn every_builtin_dataset_has_a_preset_and_every_preset_a_dataset() {
        for data in crate::data::BUILTIN_DATASETS {
            let presets = presets_for(data.name);
            assert_eq!(
                presets.first().map(|p| p.name),
                Some(data.preset),
                "{}",
                data.name
            );
        }
        for name in PRESET_NAMES {
            let preset = preset(name).unwrap();
            assert_eq!(preset.name, name, "the recipe looked up as {name}");
            for data in preset.datasets {
                assert!(crate::data::builtin(data).is_some(), "{name}: {data}");
            }
        }
        let iris = preset("tabular-mlp").unwrap().with_outputs(3);
        assert_eq!(
            iris.spec.layers.last(),
            Some(&Layer::Linear { out_features: 3 })
        );
    }
}
