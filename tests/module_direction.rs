//! The library's modules depend one way: spec -> data -> model -> optim -> train -> the
//! things built on a trained model -> presets -> the clients. This test reads every `crate::`
//! path in `src/` (outside `#[cfg(test)]` modules, where a test may borrow a preset as a
//! fixture) and fails on any that points at a module of the same or a higher layer.

// Tests state what they expect with unwrap; a failure is the report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module of the library and its layer; a module may use only lower layers.
const LAYERS: &[(&str, u8)] = &[
    // Leaves: kernels on dfdx tensors, the canvas digit framing, the settings error type.
    ("config_error", 0),
    ("display", 0),
    ("ops", 0),
    ("preprocess", 0),
    ("plot", 0),
    ("spec", 1),
    ("data", 2),
    ("model", 3),
    ("optim", 4),
    ("train", 5),
    // What is built on a model: explanations and export.
    ("explain", 6),
    ("export", 6),
    ("onnx", 7),
    // The run store: records what the engine's runs did.
    ("store", 7),
    // Recipes: a stack with its optimizer, loss and datasets.
    ("presets", 8),
    ("bench", 9),
    // The window is a client; the command line lives in the binary (`src/cli`, `src/main.rs`).
    ("app", 10),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|&(_, layer)| layer)
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file before its test module, without `//` comments.
fn production_code(text: &str) -> String {
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..end]
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`, in paths and in
/// `use crate::{a::X, b}` groups.
fn crate_modules(code: &str) -> Vec<String> {
    let mut modules = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find("};").unwrap_or(group.len());
            // Top-level items of the group: split on commas outside nested braces.
            let mut depth = 0;
            let mut start = 0;
            let body = &group[..end];
            for (i, c) in body.char_indices().chain([(body.len(), ',')]) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        modules.push(leading_identifier(&body[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            modules.push(leading_identifier(rest));
        }
    }
    modules.retain(|m| !m.is_empty());
    modules
}

fn leading_identifier(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Every `(from, to, file)` where a module uses one of the same or a higher layer.
fn upward_uses(src: &Path) -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let from = first.to_string_lossy().trim_end_matches(".rs").to_string();
        let Some(from_layer) = layer(&from) else {
            // lib.rs, main.rs and the binary's cli/ are above everything.
            continue;
        };
        let code = production_code(&std::fs::read_to_string(&file).unwrap());
        for to in crate_modules(&code) {
            if to == from {
                continue;
            }
            match layer(&to) {
                Some(to_layer) if to_layer < from_layer => {}
                _ => wrong.push((from.clone(), to, relative.display().to_string())),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    wrong
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wrong = upward_uses(&src);
    let listing: Vec<String> = wrong
        .iter()
        .map(|(from, to, file)| format!("{from} -> {to} ({file})"))
        .collect();
    assert!(
        wrong.is_empty(),
        "modules must depend downward only (see LAYERS):\n{}",
        listing.join("\n")
    );
}

#[test]
fn every_library_module_has_a_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let modules: BTreeMap<String, Option<u8>> = lib
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';').to_string())
        .map(|name| (name.clone(), layer(&name)))
        .collect();
    assert!(modules.len() >= 10, "{modules:?}");
    let missing: Vec<&String> = modules
        .iter()
        .filter(|(_, layer)| layer.is_none())
        .map(|(name, _)| name)
        .collect();
    assert!(missing.is_empty(), "add these to LAYERS: {missing:?}");
}

#[test]
fn the_reader_sees_upward_uses_in_paths_and_groups() {
    // The check itself: a path, a group with nested braces, and a test module left out.
    let code = production_code(
        "use crate::train::X;\nuse crate::{model::{A, B}, optim};\nlet y = crate::app::f();\n\
         // crate::bench in a comment\n#[cfg(test)]\nmod tests { use crate::presets; }",
    );
    assert_eq!(crate_modules(&code), ["train", "model", "optim", "app"]);
}
