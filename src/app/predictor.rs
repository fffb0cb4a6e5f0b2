//! Live prediction on a worker thread: preprocessing and the forward pass never run on the
//! UI thread. Only the newest request is served; older ones are dropped unseen.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{unbounded, Receiver, Sender};
use image::DynamicImage;

use crate::export::SavedModel;
use crate::model::InferenceModel;
use crate::preprocess::{preprocess_digit, preprocess_strokes, DigitInput, Stroke};
use crate::train::softmax;

/// What to classify.
pub enum PredictInput {
    Strokes {
        strokes: Vec<Stroke>,
        brush_radius: f32,
    },
    Image(Arc<DynamicImage>),
}

pub struct PredictRequest {
    pub generation: u64,
    pub model: Arc<SavedModel>,
    pub input: PredictInput,
}

/// The 28x28 input the model saw and its class probabilities, or why there are none.
pub struct PredictResponse {
    pub generation: u64,
    pub result: Result<Prediction, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub input: DigitInput,
    pub probabilities: Vec<f32>,
}

impl Prediction {
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
    pub fn spawn(waker: Box<dyn Fn() + Send>) -> std::io::Result<Self> {
        let (request_tx, request_rx) = unbounded::<PredictRequest>();
        let (response_tx, response_rx) = unbounded();
        let thread = std::thread::Builder::new()
            .name("layerlab-predict".into())
            .spawn(move || {
                let mut built: Option<(Arc<SavedModel>, Result<InferenceModel, String>)> = None;
                while let Ok(mut request) = request_rx.recv() {
                    // Skip to the newest request.
                    while let Ok(newer) = request_rx.try_recv() {
                        request = newer;
                    }
                    let reuse = built
                        .as_ref()
                        .is_some_and(|(m, _)| Arc::ptr_eq(m, &request.model));
                    if !reuse {
                        let model = SavedModel::clone(&request.model)
                            .into_model(&Default::default(), "the model")
                            .map(|model| InferenceModel::new(&model))
                            .map_err(|e| e.to_string());
                        built = Some((request.model.clone(), model));
                    }
                    let result = match &built {
                        Some((_, Ok(model))) => predict(model, request.input),
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

    /// Queues a prediction; returns its generation number.
    pub fn request(&mut self, model: Arc<SavedModel>, input: PredictInput) -> u64 {
        self.generation += 1;
        if let Some(requests) = &self.requests {
            let _ = requests.send(PredictRequest {
                generation: self.generation,
                model,
                input,
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

fn predict(model: &InferenceModel, input: PredictInput) -> Result<Prediction, String> {
    let digit = match input {
        PredictInput::Strokes {
            strokes,
            brush_radius,
        } => preprocess_strokes(&strokes, brush_radius),
        PredictInput::Image(image) => preprocess_digit(&image),
    }
    .map_err(|e| e.to_string())?;
    if digit.pixels.len() != model.input_len() {
        return Err(format!(
            "this model expects {} inputs, a digit has {}",
            model.input_len(),
            digit.pixels.len()
        ));
    }
    let logits = model.predict(&digit.pixels, 1);
    Ok(Prediction {
        input: digit,
        probabilities: softmax(&logits),
    })
}
