//! The try-it form of a table model: one field per source column, edited the way the
//! column is read (a slider over the training range for numbers, a choice of the training
//! levels for categories, a text box for text), prefilled from a test row.

use eframe::egui;

use crate::data::{ColumnStep, Dataset, InputPipeline};

/// How one field of the form is edited.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldEditor {
    /// A number within the training split's `min..=max` (`whole`: only whole numbers seen).
    Number {
        min: f64,
        max: f64,
        whole: bool,
    },
    /// One of the levels seen in training.
    Choice(Vec<String>),
    Text,
    /// A column the model does not read (an identifier, or ignored).
    Unused,
}

/// The cells of a raw row as `(column, cell)` pairs ("Lot_Area: 8450 | Street: Pave").
pub fn parse_raw_row(raw: &str) -> Vec<(String, String)> {
    raw.split(" | ")
        .filter_map(|pair| pair.split_once(": "))
        .map(|(c, v)| (c.to_string(), v.to_string()))
        .collect()
}

/// One editor per column of `columns`, from the dataset's recorded preprocessing and its
/// training rows.
pub fn field_editors(dataset: &Dataset, columns: &[String]) -> Vec<FieldEditor> {
    let InputPipeline::Table { columns: steps } = &dataset.card.preprocessing.input else {
        return vec![FieldEditor::Unused; columns.len()];
    };
    let position: std::collections::HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut ranges: Vec<Option<(f64, f64, bool)>> = vec![None; columns.len()];
    for raw in &dataset.train.raw {
        for (column, cell) in parse_raw_row(raw) {
            let Some(&index) = position.get(column.as_str()) else {
                continue;
            };
            if let Some(value) = crate::data::parse_number(&cell).filter(|v| v.is_finite()) {
                let range = ranges[index].get_or_insert((value, value, true));
                range.0 = range.0.min(value);
                range.1 = range.1.max(value);
                range.2 &= value.fract() == 0.0;
            }
        }
    }
    columns
        .iter()
        .zip(ranges)
        .map(|(column, range)| {
            match steps.iter().find(|s| s.name() == column) {
                Some(ColumnStep::Numeric { .. }) => match range {
                    Some((min, max, whole)) if max > min => FieldEditor::Number { min, max, whole },
                    // One value in training (or none): nothing to slide over.
                    Some(_) | None => FieldEditor::Text,
                },
                Some(ColumnStep::Categorical { levels, .. }) => FieldEditor::Choice(levels.clone()),
                Some(ColumnStep::Text { .. }) => FieldEditor::Text,
                Some(ColumnStep::Ignore { .. }) | None => FieldEditor::Unused,
            }
        })
        .collect()
}

/// Draws the fields; whether any changed.
pub fn form_ui(ui: &mut egui::Ui, row: &mut [(String, String)], editors: &[FieldEditor]) -> bool {
    let mut changed = false;
    egui::Grid::new("row-form").num_columns(2).show(ui, |ui| {
        for (index, (column, cell)) in row.iter_mut().enumerate() {
            let label = ui.label(column.as_str());
            let editor = editors.get(index).unwrap_or(&FieldEditor::Text);
            changed |= field_ui(ui, index, cell, editor, label.id);
            ui.end_row();
        }
    });
    changed
}

fn field_ui(
    ui: &mut egui::Ui,
    index: usize,
    cell: &mut String,
    editor: &FieldEditor,
    label: egui::Id,
) -> bool {
    match editor {
        FieldEditor::Number { min, max, whole } => {
            // A missing cell starts at the middle of the range (the model reads it as the
            // training mean either way until it is moved).
            let mut value = crate::data::parse_number(cell).unwrap_or((min + max) / 2.0);
            let mut slider = egui::Slider::new(&mut value, *min..=*max).clamping(
                // Typed values may leave the training range; the slider itself stays in it.
                egui::SliderClamping::Edits,
            );
            if *whole {
                slider = slider.integer();
            }
            let response = ui.add(slider).labelled_by(label);
            if response.changed() {
                *cell = if *whole {
                    format!("{}", value.round())
                } else {
                    format!("{value:.4}")
                };
                return true;
            }
            false
        }
        FieldEditor::Choice(levels) => {
            let mut choice = cell.clone();
            let response = egui::ComboBox::from_id_salt(("row-form-choice", index))
                .selected_text(cell.as_str())
                .width(130.0)
                .show_ui(ui, |ui| {
                    for level in levels {
                        ui.selectable_value(&mut choice, level.clone(), level);
                    }
                })
                .response;
            response.labelled_by(label);
            if choice != *cell {
                *cell = choice;
                return true;
            }
            false
        }
        FieldEditor::Text => ui
            .add(egui::TextEdit::singleline(cell).desired_width(130.0))
            .labelled_by(label)
            .changed(),
        FieldEditor::Unused => {
            ui.weak(format!("{cell} (not used by the model)"));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_column_is_edited_the_way_the_model_reads_it() {
        let mut text = String::from("id,area,street,note,price\n");
        for i in 0..60 {
            let street = if i % 3 == 0 { "Grvl" } else { "Pave" };
            text.push_str(&format!(
                "r{i},{},{street},same,{}\n",
                1000 + i * 10,
                100 + i
            ));
        }
        let table = crate::data::RawTable::from_reader(text.as_bytes(), "t.csv").unwrap();
        let (data, _) = crate::data::table_dataset("t", &table, None, &Default::default()).unwrap();
        let row = parse_raw_row(&data.test.raw[0]);
        let columns: Vec<String> = row.iter().map(|(c, _)| c.clone()).collect();
        assert_eq!(columns, ["id", "area", "street", "note"]);
        let editors = field_editors(&data, &columns);
        assert_eq!(editors[0], FieldEditor::Unused);
        let FieldEditor::Number { min, max, whole } = editors[1] else {
            panic!("{:?}", editors[1]);
        };
        assert!(whole && min >= 1000.0 && max <= 1590.0 && max > min);
        let FieldEditor::Choice(levels) = &editors[2] else {
            panic!("{:?}", editors[2]);
        };
        assert!(levels.contains(&"Pave".to_string()) && levels.contains(&"Grvl".to_string()));
    }
}
