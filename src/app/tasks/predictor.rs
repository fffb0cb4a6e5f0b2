//! Live prediction on a worker thread: preprocessing and the forward pass never run on the
//! UI thread. Only the newest request is served; older ones are dropped unseen.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{unbounded, Receiver, Sender};
use image::DynamicImage;

use crate::data::{image_input, table_inputs, text_input, DataCard, InputPipeline, RawTable};
use crate::explain::{filters, randomised_copy, Explanation, Filters, Occlusion};
use crate::export::SavedModel;
use crate::model::{InferenceModel, Model};
use crate::preprocess::{rasterise_strokes, Stroke, RASTER_SIDE};

/// What to predict from, in the form a person gives it; the model's own recorded
/// preprocessing turns it into model input.
pub enum PredictInput {
    Strokes {
        strokes: Vec<Stroke>,
        brush_radius: f32,
    },
    Image(Arc<DynamicImage>),
    /// A sentence, for text models.
    Text(String),
    /// One table row as `(column, cell)` pairs, for table models.
    Row(Vec<(String, String)>),
    /// A `resolution` x `resolution` grid over the square [-extent, extent]² of a 2-D set's
    /// (standardised) plane: the decision regions.
    Plane {
        extent: f32,
        resolution: usize,
    },
    /// No input yet: only what needs none (the filters, for the Inside tab).
    Nothing,
}

/// A model ready to predict with, and the card that prepares its input (or why it is not).
type Built = Result<BuiltModel, String>;

/// A snapshot's model in the forms the predictor needs, built once per snapshot.
struct BuiltModel {
    inference: InferenceModel,
    card: DataCard,
    /// With its tape-able parameters, for the Inside view's gradients.
    model: Model,
}

pub struct PredictRequest {
    pub generation: u64,
    pub model: Arc<SavedModel>,
    pub input: PredictInput,
    /// Also look inside (the Inside tab is open): explain `class`, or the predicted one.
    pub explain: Option<ExplainRequest>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExplainRequest {
    pub class: Option<usize>,
    /// Activations and saliency maps too, not only the filters (the views that show them
    /// are open): 28 ms a snapshot for the cnn preset, on the cores training uses.
    pub maps: bool,
}

/// The 28x28 input the model saw and its class probabilities, or why there are none.
pub struct PredictResponse {
    pub generation: u64,
    pub result: Result<LivePrediction, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LivePrediction {
    /// The model input the raw input became.
    pub input: Vec<f32>,
    /// `(width, height)` of the first channel when the input is an image, to show it.
    pub image_size: Option<(usize, usize)>,
    /// Class probabilities (empty for regression).
    pub probabilities: Vec<f32>,
    pub class_names: Vec<String>,
    /// "Sale_Price = 181,234.50 USD" for regression.
    pub value: Option<String>,
    /// For a plane: the probability of class 1 at each grid point, row by row from the top.
    pub plane: Option<(usize, Vec<f32>)>,
    /// For text: each distinct word and how much it pushed toward the predicted class (the
    /// predicted probability with the text as typed minus without that word: occlusion).
    pub words: Vec<(String, f32)>,
    /// Activations and saliency maps, when asked for; or why there are none.
    pub explanation: Option<Result<Arc<Explanation>, String>>,
    /// The first learning layer's filters, when an explanation was asked for.
    pub filters: Option<Arc<Filters>>,
}

impl LivePrediction {
    /// Nothing predicted yet, for a model of `card`.
    fn empty(card: &DataCard) -> Self {
        Self {
            input: Vec::new(),
            image_size: None,
            probabilities: Vec::new(),
            class_names: card.task.class_names().to_vec(),
            value: None,
            plane: None,
            words: Vec::new(),
            explanation: None,
            filters: None,
        }
    }

    /// Whether this answers an empty input (only the filters are worth showing).
    pub fn is_empty(&self) -> bool {
        self.probabilities.is_empty() && self.value.is_none() && self.plane.is_none()
    }

    /// The name of class `index` ("Ankle boot"), or its number.
    pub fn class_name(&self, index: usize) -> String {
        self.class_names
            .get(index)
            .cloned()
            .unwrap_or_else(|| index.to_string())
    }

    pub fn class(&self) -> usize {
        self.probabilities
            .iter()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |best, (i, &p)| if p > best.1 { (i, p) } else { best },
            )
            .0
    }
}

pub struct Predictor {
    requests: Option<Sender<PredictRequest>>,
    responses: Receiver<PredictResponse>,
    thread: Option<JoinHandle<()>>,
    generation: u64,
    answered: u64,
}

impl Predictor {
    pub fn spawn(waker: crate::train::Waker) -> std::io::Result<Self> {
        let (request_tx, request_rx) = unbounded::<PredictRequest>();
        let (response_tx, response_rx) = unbounded();
        let thread = std::thread::Builder::new()
            .name("layerlab-predict".into())
            .spawn(move || {
                let mut built: Option<(Arc<SavedModel>, Built)> = None;
                // The sanity check's random copy, kept while the stack stays the same.
                let mut random: Option<Model> = None;
                while let Ok(mut request) = request_rx.recv() {
                    // Skip to the newest request.
                    while let Ok(newer) = request_rx.try_recv() {
                        request = newer;
                    }
                    let reuse = built
                        .as_ref()
                        .is_some_and(|(m, _)| Arc::ptr_eq(m, &request.model));
                    if !reuse {
                        let card = request.model.card_or_mnist();
                        let model = SavedModel::clone(&request.model)
                            .into_model(&Default::default(), "the model")
                            .map(|model| BuiltModel {
                                inference: InferenceModel::new(&model),
                                card,
                                model,
                            })
                            .map_err(|e| e.to_string());
                        built = Some((request.model.clone(), model));
                    }
                    let result = match &built {
                        Some((_, Ok(model))) => {
                            let explain = request.explain.map(|how| {
                                let same_stack =
                                    random.as_ref().is_some_and(|r| r.spec == model.model.spec);
                                if !same_stack {
                                    random = Some(randomised_copy(&model.model, RANDOM_SEED));
                                }
                                (how, random.as_ref().unwrap_or(&model.model))
                            });
                            predict(model, request.input, explain)
                        }
                        Some((_, Err(error))) => Err(error.clone()),
                        None => Err("no model".into()),
                    };
                    let response = PredictResponse {
                        generation: request.generation,
                        result,
                    };
                    if response_tx.send(response).is_err() {
                        break;
                    }
                    waker();
                }
            })?;
        Ok(Self {
            requests: Some(request_tx),
            responses: response_rx,
            thread: Some(thread),
            generation: 0,
            answered: 0,
        })
    }

    /// Queues a prediction (and an explanation when `explain`); returns its generation.
    pub fn request(
        &mut self,
        model: Arc<SavedModel>,
        input: PredictInput,
        explain: Option<ExplainRequest>,
    ) -> u64 {
        self.generation += 1;
        if let Some(requests) = &self.requests {
            let _ = requests.send(PredictRequest {
                generation: self.generation,
                model,
                input,
                explain,
            });
        }
        self.generation
    }

    /// The newest response for the newest request, if it has arrived.
    pub fn poll(&mut self) -> Option<PredictResponse> {
        let mut latest = None;
        while let Ok(response) = self.responses.try_recv() {
            if response.generation == self.generation {
                self.answered = response.generation;
                latest = Some(response);
            }
        }
        latest
    }

    /// Whether the newest request is still being worked on.
    pub fn is_pending(&self) -> bool {
        self.answered != self.generation
    }
}

impl Drop for Predictor {
    fn drop(&mut self) {
        self.requests = None; // closes the channel: the worker's recv fails and it exits
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Seed of the sanity check's random weights.
const RANDOM_SEED: u64 = 1;

fn predict(
    built: &BuiltModel,
    input: PredictInput,
    explain: Option<(ExplainRequest, &Model)>,
) -> Result<LivePrediction, String> {
    let (model, card) = (&built.inference, &built.card);
    let filters = explain.map(|_| Arc::new(filters(&built.model)));
    if let PredictInput::Nothing = input {
        return Ok(LivePrediction {
            filters,
            ..LivePrediction::empty(card)
        });
    }
    if let PredictInput::Plane { extent, resolution } = input {
        return predict_plane(model, card, extent, resolution)
            .map(|p| LivePrediction { filters, ..p });
    }
    let typed = if let PredictInput::Text(text) = &input {
        Some(text.clone())
    } else {
        None
    };
    let values = match input {
        PredictInput::Plane { .. } | PredictInput::Nothing => unreachable!("answered above"),
        PredictInput::Strokes {
            strokes,
            brush_radius,
        } => {
            let raster = rasterise_strokes(&strokes, brush_radius, RASTER_SIDE);
            image_input(card, &DynamicImage::ImageLuma8(raster))
        }
        PredictInput::Image(image) => image_input(card, &image),
        PredictInput::Text(text) => text_input(card, &text),
        PredictInput::Row(cells) => {
            let table = RawTable::from_rows(
                "the form".into(),
                cells.iter().map(|(c, _)| c.clone()).collect(),
                &[cells.into_iter().map(|(_, v)| v).collect()],
            );
            table_inputs(card, &table, 0..1)
        }
    }
    .map_err(|e| e.to_string())?;
    if values.len() != model.input_len() {
        return Err(format!(
            "this model expects {} inputs, the input gives {}",
            model.input_len(),
            values.len()
        ));
    }
    let outputs = model.predict(&values, 1);
    let image_size = match card.preprocessing.input {
        InputPipeline::Image { height, width, .. } => Some((width, height)),
        InputPipeline::Table { .. } => None,
    };
    let (probabilities, value) = match crate::model::Prediction::from_outputs(card, &outputs) {
        crate::model::Prediction::Class { probabilities, .. } => (probabilities, None),
        crate::model::Prediction::Value {
            value,
            target,
            unit,
        } => (
            Vec::new(),
            Some(
                format!(
                    "{target} = {} {unit}",
                    crate::display::decimal(f64::from(value), 2)
                )
                .trim_end()
                .to_string(),
            ),
        ),
    };
    if probabilities.iter().any(|p| !p.is_finite())
        || value
            .as_ref()
            .is_some_and(|v| v.contains("NaN") || v.contains("inf"))
    {
        return Err("the model's output is not a finite number".into());
    }
    let words = match typed {
        Some(text) if !probabilities.is_empty() => {
            word_influence(model, card, &text, &probabilities)
        }
        _ => Vec::new(),
    };
    let explanation = explain.filter(|(how, _)| how.maps).map(|(how, random)| {
        Explanation::compute(
            &built.model,
            model,
            random,
            &values,
            how.class,
            Occlusion::DEFAULT,
        )
        .map(Arc::new)
        .map_err(|e| e.to_string())
    });
    Ok(LivePrediction {
        input: values,
        image_size,
        probabilities,
        class_names: card.task.class_names().to_vec(),
        words,
        value,
        plane: None,
        explanation,
        filters,
    })
}

/// Occlusion over words: for each distinct word, the text without it in one batched pass;
/// its influence is how much the predicted class's probability drops when it is removed.
fn word_influence(
    model: &InferenceModel,
    card: &DataCard,
    text: &str,
    probabilities: &[f32],
) -> Vec<(String, f32)> {
    let class = probabilities
        .iter()
        .enumerate()
        .fold(
            (0, f32::MIN),
            |best, (i, &p)| if p > best.1 { (i, p) } else { best },
        )
        .0;
    let tokens = crate::data::tokenize(text);
    let mut words: Vec<String> = Vec::new();
    for word in &tokens {
        if !words.contains(word) && words.len() < 200 {
            words.push(word.clone());
        }
    }
    let mut batch = Vec::with_capacity(words.len() * model.input_len());
    for word in &words {
        let without: Vec<&str> = tokens
            .iter()
            .filter(|w| *w != word)
            .map(String::as_str)
            .collect();
        match text_input(card, &without.join(" ")) {
            Ok(values) if values.len() == model.input_len() => batch.extend(values),
            _ => return Vec::new(),
        }
    }
    if words.is_empty() {
        return Vec::new();
    }
    let outputs = model.predict(&batch, words.len());
    let classes = probabilities.len();
    words
        .into_iter()
        .zip(outputs.chunks_exact(classes))
        .map(|(word, logits)| {
            let without = crate::model::softmax(logits)[class];
            (word, probabilities[class] - without)
        })
        .collect()
}

/// The model over a grid of the plane, one batched forward pass.
fn predict_plane(
    model: &InferenceModel,
    card: &DataCard,
    extent: f32,
    resolution: usize,
) -> Result<LivePrediction, String> {
    if model.input_len() != 2 || card.task.outputs() < 2 {
        return Err("the decision regions need a 2-D classification model".into());
    }
    let resolution = resolution.clamp(2, 200);
    let step = 2.0 * extent / (resolution - 1) as f32;
    let mut grid = Vec::with_capacity(resolution * resolution * 2);
    for row in 0..resolution {
        for column in 0..resolution {
            grid.push(-extent + column as f32 * step);
            grid.push(extent - row as f32 * step);
        }
    }
    let classes = card.task.outputs();
    let outputs = model.predict(&grid, resolution * resolution);
    let plane: Vec<f32> = outputs
        .chunks_exact(classes)
        .map(|logits| crate::model::softmax(logits)[1])
        .collect();
    if plane.iter().any(|p| !p.is_finite()) {
        return Err("the model's output is not a finite number".into());
    }
    Ok(LivePrediction {
        plane: Some((resolution, plane)),
        ..LivePrediction::empty(card)
    })
}
