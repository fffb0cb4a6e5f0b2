//! How numbers, durations and lists of names read in messages, labels and the CLI's output:
//! "1,719", "1m15s", "a, b, c and 999,990 more".

/// `1719` -> "1,719".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `340153.944` with 2 places -> "340,153.94"; negative and non-finite values read as such.
pub fn decimal(value: f64, places: usize) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let text = format!("{:.places$}", value.abs());
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(w, f)| (w, f));
    let whole: usize = whole.parse().unwrap_or(0);
    let sign = if value < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    match fraction {
        "" => format!("{sign}{}", thousands(whole)),
        fraction => format!("{sign}{}.{fraction}", thousands(whole)),
    }
}

/// `75.4` -> "1m15s"; an hour or more as "2h05m".
pub fn format_secs(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs / 60) % 60),
    }
}

/// At most `shown` of `names`, comma-separated, then how many were left out: "a, b, c and
/// 999,990 more" (a header of a million columns must not become megabytes of error text).
pub fn name_list<S: AsRef<str>>(names: &[S], shown: usize) -> String {
    let list: Vec<&str> = names.iter().take(shown).map(AsRef::as_ref).collect();
    let list = list.join(", ");
    match names.len().saturating_sub(shown) {
        0 => list,
        more => format!("{list} and {} more", thousands(more)),
    }
}

/// Names listed in an error message before "and N more".
pub const NAMES_IN_A_MESSAGE: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations_read_naturally() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_719), "1,719");
        assert_eq!(thousands(147_966_707), "147,966,707");
        assert_eq!(format_secs(59.4), "59s");
        assert_eq!(format_secs(75.4), "1m15s");
        assert_eq!(format_secs(4_300.0), "1h11m");
    }

    #[test]
    fn decimals_get_thousands_separators() {
        assert_eq!(decimal(340_153.944, 2), "340,153.94");
        assert_eq!(decimal(-1_234.5, 1), "-1,234.5");
        assert_eq!(decimal(-0.001, 2), "0.00");
        assert_eq!(decimal(999.999, 2), "1,000.00");
        assert_eq!(decimal(42.0, 0), "42");
        assert_eq!(decimal(f64::NAN, 2), "NaN");
    }

    #[test]
    fn a_long_list_of_names_is_cut_with_a_count() {
        let names: Vec<String> = (0..1_000_000).map(|i| format!("c{i}")).collect();
        let list = name_list(&names, 3);
        assert_eq!(list, "c0, c1, c2 and 999,997 more");
        assert_eq!(name_list(&["a", "b"], 3), "a, b");
    }
}
