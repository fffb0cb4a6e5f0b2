//! ONNX export: a trained model as an ONNX graph (opset 13) that other runtimes load
//! (onnxruntime, tract, OpenCV, TensorRT...). Linear becomes Gemm (transB=1), Conv2d Conv
//! with PyTorch's weight layout, the pools MaxPool/AveragePool, Flatten and the activations
//! their ONNX ops (GELU as its erf formula: Gelu is opset 20), Dropout nothing, batch norm
//! BatchNormalization with the running statistics (inference mode). The input is
//! what LayerLab's own preprocessing gives (`input`, NCHW or N x features, a batch of any
//! size); the output the logits (`logits`). The preprocessing and the stack travel in the
//! model's metadata_props, under the keys the safetensors file uses.

mod proto;

use std::path::Path;

use prost::Message;

use crate::export::{ExportError, ModelFileError, SavedModel};
use crate::model::{parameter_names, running_statistics_names, NamedTensor};
use crate::spec::{validate, ActivationShape, Layer, LayerPlan};
use proto::*;

/// The opset the graph is written for.
pub const OPSET: i64 = 13;
/// IR version 7 is the one that goes with opset 13 (ONNX 1.8).
const IR_VERSION: i64 = 7;
pub const INPUT_NAME: &str = "input";
pub const OUTPUT_NAME: &str = "logits";

/// Builds the ONNX bytes of `model`.
pub fn to_onnx_bytes(model: &SavedModel) -> Result<Vec<u8>, ExportError> {
    let plan = validate(&model.spec, model.input(), model.classes)?;
    let mut graph = GraphBuilder::default();
    let mut current = INPUT_NAME.to_string();
    for (index, layer) in plan.layers.iter().enumerate() {
        current = layer_nodes(&mut graph, model, index, layer, current)?;
    }
    let input_dims = match plan.input {
        ActivationShape::Spatial {
            channels,
            height,
            width,
        } => vec![channels, height, width],
        ActivationShape::Flat { features } => vec![features],
    };
    let outputs = plan.output().numel();
    let mut nodes = graph.nodes;
    // The last node writes the graph's output under its public name.
    match nodes.last_mut() {
        Some(last) => last.output = vec![OUTPUT_NAME.into()],
        None => {
            nodes.push(NodeProto {
                input: vec![current],
                output: vec![OUTPUT_NAME.into()],
                name: "identity".into(),
                op_type: "Identity".into(),
                attribute: Vec::new(),
            });
        }
    }
    let metadata = crate::export::metadata(model)?
        .into_iter()
        .map(|(key, value)| StringStringEntryProto { key, value })
        .collect();
    let proto = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "LayerLab".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!(
            "LayerLab model: {}",
            model
                .spec
                .layers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        graph: Some(GraphProto {
            node: nodes,
            name: "layerlab".into(),
            initializer: graph.initializers,
            input: vec![value_info(INPUT_NAME, &input_dims)],
            output: vec![value_info(OUTPUT_NAME, &[outputs])],
        }),
        metadata_props: metadata,
    };
    Ok(proto.encode_to_vec())
}

/// Adds layer `index`'s nodes (and its weights) after `current`; the name of its output.
fn layer_nodes(
    graph: &mut GraphBuilder,
    model: &SavedModel,
    index: usize,
    layer: &LayerPlan,
    current: String,
) -> Result<String, ExportError> {
    let name = |what: &str| format!("{index}_{what}");
    Ok(match &layer.layer {
        Layer::Linear { .. } => {
            let [weight, bias] = tensors_of(model, index, parameter_names(index))?;
            let input = if matches!(layer.input, ActivationShape::Spatial { .. }) {
                graph.node(
                    "Flatten",
                    &name("flatten"),
                    &[&current],
                    vec![int("axis", 1)],
                )
            } else {
                current
            };
            let w = graph.initializer(&weight.name, &weight.shape, &weight.values);
            let b = graph.initializer(&bias.name, &bias.shape, &bias.values);
            graph.node(
                "Gemm",
                &name("gemm"),
                &[&input, &w, &b],
                vec![int("transB", 1)],
            )
        }
        Layer::Conv2d {
            kernel_size,
            stride,
            padding,
            ..
        } => {
            let [weight, bias] = tensors_of(model, index, parameter_names(index))?;
            let w = graph.initializer(&weight.name, &weight.shape, &weight.values);
            let b = graph.initializer(&bias.name, &bias.shape, &bias.values);
            let (k, s, p) = (*kernel_size as i64, *stride as i64, *padding as i64);
            graph.node(
                "Conv",
                &name("conv"),
                &[&current, &w, &b],
                vec![
                    ints("kernel_shape", &[k, k]),
                    ints("strides", &[s, s]),
                    ints("pads", &[p, p, p, p]),
                ],
            )
        }
        Layer::MaxPool2d {
            kernel_size,
            stride,
        }
        | Layer::AvgPool2d {
            kernel_size,
            stride,
        } => {
            let op = if matches!(layer.layer, Layer::MaxPool2d { .. }) {
                "MaxPool"
            } else {
                "AveragePool"
            };
            let (k, s) = (*kernel_size as i64, stride.unwrap_or(*kernel_size) as i64);
            graph.node(
                op,
                &name("pool"),
                &[&current],
                vec![ints("kernel_shape", &[k, k]), ints("strides", &[s, s])],
            )
        }
        Layer::Flatten => match layer.input {
            ActivationShape::Spatial { .. } => graph.node(
                "Flatten",
                &name("flatten"),
                &[&current],
                vec![int("axis", 1)],
            ),
            ActivationShape::Flat { .. } => current,
        },
        Layer::ReLU => graph.node("Relu", &name("relu"), &[&current], Vec::new()),
        Layer::LeakyReLU { negative_slope } => graph.node(
            "LeakyRelu",
            &name("leaky_relu"),
            &[&current],
            vec![float("alpha", *negative_slope)],
        ),
        Layer::Sigmoid => graph.node("Sigmoid", &name("sigmoid"), &[&current], Vec::new()),
        Layer::Tanh => graph.node("Tanh", &name("tanh"), &[&current], Vec::new()),
        Layer::GELU => gelu_nodes(graph, index, &current),
        // Identity at inference.
        Layer::Dropout { .. } => current,
        // Inference mode: the running statistics (PyTorch's export writes the same).
        // ONNX's momentum weighs the old value, PyTorch's the batch.
        Layer::BatchNorm1d { eps, momentum } | Layer::BatchNorm2d { eps, momentum } => {
            let [weight, bias] = tensors_of(model, index, parameter_names(index))?;
            let [mean, variance, _] = tensors_of(model, index, running_statistics_names(index))?;
            let inputs = [weight, bias, mean, variance]
                .map(|t| graph.initializer(&t.name, &t.shape, &t.values));
            graph.node(
                "BatchNormalization",
                &name("batch_norm"),
                &[&current, &inputs[0], &inputs[1], &inputs[2], &inputs[3]],
                vec![float("epsilon", *eps), float("momentum", 1.0 - momentum)],
            )
        }
    })
}

/// GELU as 0.5 x (1 + erf(x / sqrt 2)), PyTorch's exact GELU (ONNX's Gelu is opset 20).
fn gelu_nodes(graph: &mut GraphBuilder, index: usize, current: &str) -> String {
    let name = |what: &str| format!("{index}_{what}");
    let sqrt2 = graph.scalar(&name("gelu_sqrt2"), std::f32::consts::SQRT_2);
    let one = graph.scalar(&name("gelu_one"), 1.0);
    let half = graph.scalar(&name("gelu_half"), 0.5);
    let scaled = graph.node("Div", &name("gelu_div"), &[current, &sqrt2], Vec::new());
    let erf = graph.node("Erf", &name("gelu_erf"), &[&scaled], Vec::new());
    let plus = graph.node("Add", &name("gelu_add"), &[&erf, &one], Vec::new());
    let times = graph.node("Mul", &name("gelu_mul"), &[current, &plus], Vec::new());
    graph.node("Mul", &name("gelu"), &[&times, &half], Vec::new())
}

/// The tensors `names` of layer `index`, or which one is missing.
fn tensors_of<const N: usize>(
    model: &SavedModel,
    index: usize,
    names: [String; N],
) -> Result<[&NamedTensor; N], ExportError> {
    let mut found = Vec::with_capacity(N);
    for name in &names {
        match model.weights.get(name) {
            Some(tensor) => found.push(tensor),
            None => {
                return Err(ExportError::MissingTensor {
                    layer: index,
                    name: name.clone(),
                })
            }
        }
    }
    // N names, each found: the vector holds exactly N.
    found.try_into().map_err(|_| ExportError::MissingTensor {
        layer: index,
        name: names.join(", "),
    })
}

/// Writes `model` as an ONNX file at `path`, as safely as the weights file is written.
pub fn save_onnx(model: &SavedModel, path: &Path) -> Result<(), ModelFileError> {
    let bytes = to_onnx_bytes(model).map_err(|e| ModelFileError::Format {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    crate::export::write_atomically(path, &bytes)
}

#[derive(Default)]
struct GraphBuilder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl GraphBuilder {
    /// Adds a node; returns the name of its output.
    fn node(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: &[&str],
        attribute: Vec<AttributeProto>,
    ) -> String {
        let output = name.to_string();
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.clone()],
            name: name.into(),
            op_type: op_type.into(),
            attribute,
        });
        output
    }

    fn initializer(&mut self, name: &str, shape: &[usize], values: &[f32]) -> String {
        self.initializers.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: FLOAT,
            name: name.into(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        name.into()
    }

    fn scalar(&mut self, name: &str, value: f32) -> String {
        self.initializer(name, &[], &[value])
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i: Some(value),
        r#type: ATTRIBUTE_INT,
        ..AttributeProto::default()
    }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: values.to_vec(),
        r#type: ATTRIBUTE_INTS,
        ..AttributeProto::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        f: Some(value),
        r#type: ATTRIBUTE_FLOAT,
        ..AttributeProto::default()
    }
}

/// A float tensor of a batch of any size ("batch") by `dims`.
fn value_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    let mut dim = vec![Dimension {
        dim_value: None,
        dim_param: Some("batch".into()),
    }];
    dim.extend(dims.iter().map(|&d| Dimension {
        dim_value: Some(d as i64),
        dim_param: None,
    }));
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: FLOAT,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::presets::preset;
    use dfdx::prelude::*;

    #[test]
    fn the_graph_has_one_node_per_layer_and_the_weights_as_initializers() {
        let recipe = preset("cnn").unwrap();
        let input = ActivationShape::image(1, 28, 28);
        let plan = validate(&recipe.spec, input, 10).unwrap();
        let model = Model::initialise(recipe.spec.clone(), plan, &Cpu::default(), 0);
        let mut saved = SavedModel {
            spec: recipe.spec.clone(),
            input_shape: [1, 28, 28],
            classes: 10,
            weights: model.weights(),
            card: None,
            training: None,
        };
        saved.card = Some(saved.card_or_mnist());
        let bytes = to_onnx_bytes(&saved).unwrap();
        let decoded = ModelProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.opset_import[0].version, 13);
        let graph = decoded.graph.unwrap();
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(
            ops,
            [
                "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu",
                "Gemm"
            ]
        );
        assert_eq!(graph.node.last().unwrap().output, [OUTPUT_NAME]);
        assert_eq!(graph.initializer.len(), 8);
        let first = &graph.initializer[0];
        assert_eq!(first.dims, [32, 1, 3, 3]);
        assert_eq!(
            first.raw_data[..4],
            model.params[0].values()[0].to_le_bytes()
        );
        let input = &graph.input[0];
        let dims = &input.r#type.as_ref().unwrap().tensor_type.as_ref().unwrap();
        let dims = &dims.shape.as_ref().unwrap().dim;
        assert_eq!(dims[0].dim_param.as_deref(), Some("batch"));
        assert_eq!(
            dims[1..].iter().map(|d| d.dim_value).collect::<Vec<_>>(),
            [Some(1), Some(28), Some(28)]
        );
        assert!(decoded
            .metadata_props
            .iter()
            .any(|p| p.key == "layerlab.spec"));
    }

    #[test]
    fn every_value_in_a_graph_has_one_name() {
        // GELU's constants once shared a name with its last node: a cycle for runtimes.
        let spec = crate::spec::ModelSpec::new(vec![
            Layer::Linear { out_features: 4 },
            Layer::GELU,
            Layer::Dropout { p: 0.1 },
            Layer::GELU,
            Layer::Linear { out_features: 2 },
        ]);
        let input = ActivationShape::Flat { features: 3 };
        let plan = validate(&spec, input, 2).unwrap();
        let model = Model::initialise(spec.clone(), plan, &Cpu::default(), 0);
        let saved = SavedModel {
            spec,
            input_shape: SavedModel::input_shape_of(input),
            classes: 2,
            weights: model.weights(),
            card: None,
            training: None,
        };
        let graph = ModelProto::decode(to_onnx_bytes(&saved).unwrap().as_slice())
            .unwrap()
            .graph
            .unwrap();
        let mut names: Vec<&str> = graph
            .node
            .iter()
            .flat_map(|n| n.output.iter().map(String::as_str))
            .chain(graph.initializer.iter().map(|t| t.name.as_str()))
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "{names:?}");
    }
}
