//! Small files with one job each, functions a reader holds in mind: no file in `src/` over
//! 900 lines, no function over 120 lines (80 in `src/train/`, the run loop people read most).
//! A function's length runs from its `fn` line to its closing brace, comments and blank
//! lines included: what a reader scrolls through.

// Tests state what they expect with unwrap; a failure is the report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 900;
const MAX_FUNCTION_LINES: usize = 120;
const MAX_TRAIN_FUNCTION_LINES: usize = 80;

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

/// Each line's code with comments, strings and character literals blanked, so that the
/// braces left are the code's own.
fn code_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    // Inside a block comment (nesting depth), a string, or a raw string (its hashes).
    let mut block_comment = 0usize;
    let mut in_string = false;
    let mut raw_hashes: Option<usize> = None;
    while let Some(c) = chars.next() {
        if c == '\n' {
            lines.push(std::mem::take(&mut line));
            continue;
        }
        if block_comment > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                block_comment -= 1;
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                block_comment += 1;
            }
            continue;
        }
        if let Some(hashes) = raw_hashes {
            if c == '"' {
                let mut seen = 0;
                while seen < hashes && chars.peek() == Some(&'#') {
                    chars.next();
                    seen += 1;
                }
                if seen == hashes {
                    raw_hashes = None;
                }
            }
            continue;
        }
        if in_string {
            match c {
                '\\' => {
                    // An escaped quote or backslash; an escaped newline still ends a line.
                    if chars.peek() == Some(&'\n') {
                        continue;
                    }
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => {
                // The rest of the line is a comment.
                while chars.peek().is_some_and(|&next| next != '\n') {
                    chars.next();
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                block_comment = 1;
            }
            '"' => in_string = true,
            'r' if matches!(chars.peek(), Some('"') | Some('#'))
                && !line.ends_with(|p: char| p.is_alphanumeric() || p == '_') =>
            {
                let mut hashes = 0;
                while chars.peek() == Some(&'#') {
                    chars.next();
                    hashes += 1;
                }
                if chars.peek() == Some(&'"') {
                    chars.next();
                    raw_hashes = Some(hashes);
                } else {
                    // `r#ident`: a raw identifier, not a string.
                    line.push('r');
                }
            }
            '\'' => {
                // A character literal ('{', '\'', '\u{7b}') or a lifetime ('a).
                let rest: String = chars.clone().take(12).collect();
                let close = if let Some(escaped) = rest.strip_prefix('\\') {
                    escaped.find('\'').map(|i| i + 1)
                } else {
                    rest.char_indices()
                        .nth(1)
                        .filter(|&(_, c)| c == '\'')
                        .map(|(i, _)| i)
                };
                match close {
                    Some(end) => {
                        for _ in 0..rest[..=end].chars().count() {
                            chars.next();
                        }
                        line.push_str("' '");
                    }
                    None => line.push('\''),
                }
            }
            _ => line.push(c),
        }
    }
    lines.push(line);
    lines
}

/// The name of the function a line declares, if it does.
fn declared_function(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = after.trim_start();
        if rest.starts_with('(') {
            rest = rest[rest.find(')')? + 1..].trim_start();
        }
    }
    for qualifier in ["const ", "async ", "unsafe ", "extern \"C\" "] {
        if let Some(after) = rest.strip_prefix(qualifier) {
            rest = after.trim_start();
        }
    }
    let name = rest.strip_prefix("fn ")?;
    let end = name
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(name.len());
    Some(&name[..end])
}

/// `(name, first line, length)` of each function with a body.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines = code_lines(text);
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = declared_function(line) else {
            continue;
        };
        let mut depth = 0i64;
        let mut opened = false;
        'lines: for (offset, body_line) in lines[start..].iter().enumerate() {
            if !opened && body_line.trim_end().ends_with(';') && !body_line.contains('{') {
                break; // A declaration without a body (in a trait).
            }
            for c in body_line.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
                if opened && depth == 0 {
                    found.push((name.to_string(), start + 1, offset + 1));
                    break 'lines;
                }
            }
        }
    }
    found
}

fn source_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files.sort();
    assert!(files.len() > 50, "src/ has {} files", files.len());
    files
}

#[test]
fn no_source_file_is_over_900_lines() {
    let long: Vec<String> = source_files()
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            (lines > MAX_FILE_LINES).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_FILE_LINES} lines: {long:?}");
}

#[test]
fn no_function_is_over_120_lines_or_80_in_the_training_loop() {
    let mut long = Vec::new();
    let mut counted = 0;
    for path in source_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let in_train = path.components().any(|c| c.as_os_str() == "train");
        let limit = if in_train {
            MAX_TRAIN_FUNCTION_LINES
        } else {
            MAX_FUNCTION_LINES
        };
        for (name, line, length) in functions(&text) {
            counted += 1;
            if length > limit {
                long.push(format!(
                    "{}:{line} {name} ({length} lines, at most {limit})",
                    path.display()
                ));
            }
        }
    }
    assert!(counted > 1_000, "only {counted} functions found");
    assert!(long.is_empty(), "functions too long:\n{}", long.join("\n"));
}

#[test]
fn the_scanner_measures_functions_past_braces_in_strings_comments_and_chars() {
    let text = r#####"
pub(crate) fn first() {
    let brace = '{';
    let text = "}}} \" {";
    let raw = r#"}"{"#;
    // }
    /* { /* nested } */ } */
    let lifetime: &'static str = "x";
}
fn declared_in_a_trait(&self);
const fn second<'a>(x: &'a str) -> &'a str {
    x
}
"#####;
    assert_eq!(
        functions(text),
        vec![("first".to_string(), 2, 8), ("second".to_string(), 11, 3)]
    );
}
