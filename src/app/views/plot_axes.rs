//! Grid marks for the plots' x axes that always leave room for labels.
//!
//! egui_plot's default grid steps by powers of ten and fades a label in only once its marks
//! are 60-80 points apart, so an axis whose range is just past a power of ten (600,000 over
//! 500 points: marks 100,000 apart are 60 points apart) shows "0" and nothing else. These
//! marks step by 1, 2 or 5 times a power of ten, the smallest that puts labelled marks at
//! least [`LABEL_SPACING`] points apart, at any plot width.

use egui_plot::{GridInput, GridMark, PlotPoint, PlotResponse};

/// Points between labelled marks: past egui_plot's 80, where a label is drawn at full strength.
const LABEL_SPACING: f64 = 90.0;

/// egui_plot's default `grid_spacing().min`, which `GridInput::base_step_size` is scaled by.
const PLOT_GRID_SPACING_MIN: f64 = 8.0;

/// Marks for any axis: labelled steps of 1, 2 or 5 times a power of ten, with faint lines at
/// a fifth (or half) of the step between them.
pub(super) fn labelled_marks(input: GridInput) -> Vec<GridMark> {
    marks(input, 0.0)
}

/// [`labelled_marks`] on whole numbers only (a step axis: "step 1146.85" means nothing).
pub(super) fn whole_marks(input: GridInput) -> Vec<GridMark> {
    marks(input, 1.0)
}

/// A mark's label with the decimals its value needs: 1.5 and 2.5 on an axis stepping by 0.5
/// (egui_plot's default takes the decimals from the step's power of ten, so 1.5 and 2.5 both
/// read "2"), 0.25, 0.3 rather than 0.30000000000000004, whole numbers without a point.
pub(super) fn mark_text(mark: GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let tolerance = if mark.step_size.is_finite() && mark.step_size > 0.0 {
        mark.step_size * 1e-6
    } else {
        mark.value.abs() * 1e-9
    };
    let decimals = (0..12)
        .find(|&d| {
            let scale = 10f64.powi(d);
            ((mark.value * scale).round() / scale - mark.value).abs() <= tolerance
        })
        .unwrap_or(12);
    format!("{:.*}", decimals as usize, mark.value)
}

fn marks(input: GridInput, smallest_step: f64) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    let per_point = input.base_step_size / PLOT_GRID_SPACING_MIN;
    if !(per_point.is_finite() && per_point > 0.0 && low.is_finite() && high.is_finite()) {
        return Vec::new();
    }
    let label_step = nice_step((per_point * LABEL_SPACING).max(smallest_step));
    // Faint lines between the labels: a fifth of the step (a half on a whole-number axis
    // whose step is 1 or 2, where a fifth would not be whole).
    let fine = [label_step / 5.0, label_step / 2.0, label_step]
        .into_iter()
        .find(|&fine| fine >= smallest_step && (smallest_step == 0.0 || fine.fract() == 0.0))
        .unwrap_or(label_step);
    let mut marks = Vec::new();
    for step in [label_step * 5.0, label_step, fine] {
        push_marks(&mut marks, step, (low, high));
    }
    // Where marks of two sizes fall on one value, the larger step (the label's) is kept.
    marks.sort_by(|a, b| {
        a.value
            .total_cmp(&b.value)
            .then(b.step_size.total_cmp(&a.step_size))
    });
    marks.dedup_by(|later, kept| (later.value - kept.value).abs() < fine * 0.1);
    marks
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `at_least`.
fn nice_step(at_least: f64) -> f64 {
    let power = 10f64.powf(at_least.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| step >= at_least * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

fn push_marks(marks: &mut Vec<GridMark>, step: f64, (low, high): (f64, f64)) {
    // A range no plot can show one mark of per step: nothing, rather than millions of marks.
    if step.is_nan() || step <= 0.0 || (high - low) / step > 10_000.0 {
        return;
    }
    let mut value = (low / step).ceil() * step;
    while value <= high {
        // -0 and 1e-12 read as "0".
        let snapped = if value.abs() < step * 1e-9 {
            0.0
        } else {
            value
        };
        marks.push(GridMark {
            value: snapped,
            step_size: step,
        });
        value += step;
    }
}

/// The tick labels a plot of `width` points showing `bounds` draws at full strength.
#[cfg(test)]
fn labelled_values(bounds: (f64, f64), width: f64, whole: bool) -> Vec<f64> {
    let per_point = (bounds.1 - bounds.0) / width;
    let input = GridInput {
        bounds,
        base_step_size: per_point * PLOT_GRID_SPACING_MIN,
    };
    let marks = if whole {
        whole_marks(input)
    } else {
        labelled_marks(input)
    };
    marks
        .iter()
        .filter(|m| m.step_size / per_point >= 80.0)
        .map(|m| m.value)
        .collect()
}

/// How near (in points) a click must be to a mark to take it.
const MARK_REACH: f32 = 8.0;

/// The mark (x, what it stands for) a click on the plot landed on: the nearest one within
/// [`MARK_REACH`] points of the pointer, if the plot was clicked. The plot's closure returns
/// the pointer's coordinate.
pub(super) fn clicked_mark<T: Copy>(
    response: &PlotResponse<Option<PlotPoint>>,
    marks: &[(f64, T)],
) -> Option<T> {
    let pointer = response.inner.filter(|_| response.response.clicked())?;
    let at = response.transform.position_from_point_x(pointer.x);
    let distance = |x: f64| (response.transform.position_from_point_x(x) - at).abs();
    marks
        .iter()
        .min_by(|a, b| distance(a.0).total_cmp(&distance(b.0)))
        .filter(|mark| distance(mark.0) <= MARK_REACH)
        .map(|mark| mark.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_and_range_gets_at_least_two_full_strength_labels() {
        // Ames' prices over the plot's widths at 1000x640 and 1440x900, a step axis of a
        // long run in a narrow panel, a loss in thousandths.
        for (bounds, whole) in [
            ((-260_000.0, 1_050_000.0), false),
            ((0.0, 615_000.0), false),
            ((0.0, 12_345.0), true),
            ((-0.05, 1.05), true),
            ((0.9, 1.7), false),
            ((-0.002, 0.013), false),
        ] {
            for width in [180.0, 260.0, 350.0, 520.0, 900.0, 1800.0] {
                let labels = labelled_values(bounds, width, whole);
                assert!(
                    labels.len() >= 2,
                    "{bounds:?} over {width} points: {labels:?}"
                );
                if whole {
                    assert!(labels.iter().all(|v| v.fract() == 0.0), "{labels:?}");
                }
            }
        }
        // The case of the issue: 0 to 600,000 over 500 points was labelled "0" only.
        assert_eq!(
            labelled_values((-50_000.0, 650_000.0), 500.0, false),
            [0.0, 200_000.0, 400_000.0, 600_000.0]
        );
    }

    #[test]
    fn labels_of_half_steps_are_not_rounded_onto_their_neighbours() {
        // Four epochs over 650 points step by 0.5: every label is its own.
        let input = GridInput {
            bounds: (0.8, 4.2),
            base_step_size: 3.4 / 650.0 * PLOT_GRID_SPACING_MIN,
        };
        let labels: Vec<String> = labelled_marks(input)
            .into_iter()
            .filter(|m| m.step_size >= 0.5)
            .map(|m| mark_text(m, &(0.8..=4.2)))
            .collect();
        assert_eq!(labels, ["1", "1.5", "2", "2.5", "3", "3.5", "4"]);
        let text = |value, step_size| mark_text(GridMark { value, step_size }, &(0.0..=1.0));
        assert_eq!(text(0.25, 0.05), "0.25");
        assert_eq!(text(0.1 + 0.2, 0.1), "0.3");
        assert_eq!(text(1200.0, 200.0), "1200");
        assert_eq!(text(7.0, 1.0), "7");
        assert_eq!(text(3.0, f64::NAN), "3");
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(6.0), 10.0);
        assert_eq!(nice_step(138_900.0), 200_000.0);
        assert_eq!(nice_step(0.0031), 0.005);
    }

    #[test]
    fn a_huge_or_broken_range_makes_no_marks_rather_than_millions() {
        let input = |bounds, base_step_size| GridInput {
            bounds,
            base_step_size,
        };
        assert!(labelled_marks(input((0.0, f64::INFINITY), 1.0)).is_empty());
        assert!(labelled_marks(input((0.0, 1.0), 0.0)).is_empty());
        assert!(labelled_marks(input((0.0, 1.0), f64::NAN)).is_empty());
        // 8,000 points wide: a mark every 18 points at most.
        assert!(labelled_marks(input((0.0, 1e12), 1e9)).len() <= 8_000 / 18);
        // Bounds no plot shows (a zoom gone wild): no marks at all.
        assert!(labelled_marks(input((-1e300, 1e300), 1e-300)).is_empty());
    }
}
