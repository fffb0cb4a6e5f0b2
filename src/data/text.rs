//! Text to a vector: lower-case, letters only, a vocabulary fitted on the training split, then
//! a bag of words (multi-hot as Keras' IMDB recipe, or TF-IDF as scikit-learn's
//! `TfidfVectorizer` with its defaults: smooth idf, L2-normalised rows).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Vocabulary size when the user does not choose one.
pub const DEFAULT_VOCABULARY_SIZE: usize = 10_000;

/// How a document's words become feature values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum TextWeighting {
    /// 1 for every vocabulary word present in the document.
    #[default]
    MultiHot,
    /// Term count times smoothed inverse document frequency, each row scaled to length 1.
    TfIdf,
}

/// A fitted vocabulary and weighting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextVectoriser {
    /// The kept words in alphabetical order; a word's feature index is its position.
    pub vocabulary: Vec<String>,
    pub weighting: TextWeighting,
    /// Inverse document frequency of each vocabulary word (TF-IDF only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idf: Vec<f32>,
}

/// Text read of one document: the first MiB (about 150,000 words; a review is a few hundred).
/// A 100 MB cell took 1.4 GB to tokenise whole.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// `text` cut to at most [`MAX_TEXT_BYTES`], at a character boundary.
pub fn text_limit(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Lower-case words made of letters only: HTML line breaks, digits and punctuation split
/// words. Only the first [`MAX_TEXT_BYTES`] are read.
pub fn tokenize(text: &str) -> Vec<String> {
    let text = text_limit(text)
        .replace("<br />", " ")
        .replace("<br/>", " ");
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl TextVectoriser {
    /// Keeps the `size` most frequent words of the training documents (ties broken
    /// alphabetically, so the same data always gives the same vocabulary).
    pub fn fit(documents: &[Vec<String>], size: usize, weighting: TextWeighting) -> Self {
        let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
        for document in documents {
            let mut seen = std::collections::HashSet::new();
            for word in document {
                let entry = counts.entry(word).or_default();
                entry.0 += 1;
                if seen.insert(word.as_str()) {
                    entry.1 += 1;
                }
            }
        }
        let mut ranked: Vec<(&str, (usize, usize))> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        ranked.truncate(size);
        ranked.sort_by(|a, b| a.0.cmp(b.0));
        let n = documents.len() as f64;
        let idf = match weighting {
            TextWeighting::MultiHot => Vec::new(),
            TextWeighting::TfIdf => ranked
                .iter()
                .map(|(_, (_, df))| (((1.0 + n) / (1.0 + *df as f64)).ln() + 1.0) as f32)
                .collect(),
        };
        Self {
            vocabulary: ranked.into_iter().map(|(w, _)| w.to_string()).collect(),
            weighting,
            idf,
        }
    }

    /// Feature index of `word`, if it is in the vocabulary.
    pub fn index_of(&self, word: &str) -> Option<usize> {
        self.vocabulary
            .binary_search_by(|w| w.as_str().cmp(word))
            .ok()
    }

    /// The document's features as (index, value) pairs in index order.
    pub fn vectorise(&self, words: &[String]) -> Vec<(u32, f32)> {
        let mut counts: Vec<(u32, f32)> = Vec::new();
        for word in words {
            if let Some(index) = self.index_of(word) {
                counts.push((index as u32, 1.0));
            }
        }
        counts.sort_by_key(|(i, _)| *i);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(counts.len());
        for (index, count) in counts {
            match merged.last_mut() {
                Some((last, total)) if *last == index => *total += count,
                _ => merged.push((index, count)),
            }
        }
        match self.weighting {
            TextWeighting::MultiHot => merged.iter_mut().for_each(|(_, v)| *v = 1.0),
            TextWeighting::TfIdf => {
                for (index, value) in &mut merged {
                    *value *= self.idf.get(*index as usize).copied().unwrap_or(1.0);
                }
                let norm = merged.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
                if norm > 0.0 {
                    merged.iter_mut().for_each(|(_, v)| *v /= norm);
                }
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_lower_case_letters_only() {
        assert_eq!(
            tokenize("I LOVE it!<br />Best snack-ever, 10/10."),
            ["i", "love", "it", "best", "snack", "ever"]
        );
    }

    #[test]
    fn vocabulary_keeps_the_most_frequent_words_and_tf_idf_matches_scikit_learn() {
        let docs: Vec<Vec<String>> = ["good good tea", "bad tea", "good coffee"]
            .iter()
            .map(|d| tokenize(d))
            .collect();
        let multi = TextVectoriser::fit(&docs, 2, TextWeighting::MultiHot);
        assert_eq!(multi.vocabulary, ["good", "tea"]);
        assert_eq!(
            multi.vectorise(&tokenize("tea tea good")),
            [(0, 1.0), (1, 1.0)]
        );
        assert_eq!(multi.vectorise(&tokenize("unknown words")), []);

        // scikit-learn: TfidfVectorizer().fit(docs).transform(["good good tea"]) with
        // vocabulary [bad, coffee, good, tea]: idf = ln(4/2)+1, ln(4/2)+1, ln(4/3)+1, ln(4/3)+1
        // -> good 0.8944272, tea 0.4472136 (tf 2 and 1, equal idf, L2-normalised).
        let tfidf = TextVectoriser::fit(&docs, 10, TextWeighting::TfIdf);
        assert_eq!(tfidf.vocabulary, ["bad", "coffee", "good", "tea"]);
        let row = tfidf.vectorise(&tokenize("good good tea"));
        assert_eq!(row.len(), 2);
        assert!(
            (row[0].1 - 0.894_427_2).abs() < 1e-6 && row[0].0 == 2,
            "{row:?}"
        );
        assert!(
            (row[1].1 - 0.447_213_6).abs() < 1e-6 && row[1].0 == 3,
            "{row:?}"
        );
    }
}
