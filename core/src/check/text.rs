//! Small text helpers shared by evaluation (evidence) and reports.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::time::Duration;

/// Left-aligned columns separated by two spaces, one line per row, no trailing blanks.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    std::iter::once(&header_row)
        .chain(rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| pad(cell, *width))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pads to a width counted in characters (names and marks may be non-ASCII).
pub fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.chars().count());
    format!("{text}{}", " ".repeat(fill))
}

/// `{a, b, c}` in sorted order; `{}` when empty.
pub fn set<T: Display + Ord>(items: &BTreeSet<T>) -> String {
    format!("{{{}}}", list(items))
}

/// `a, b, c`.
pub fn list<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `-` for a value the daemon did not report.
pub fn or_dash<T: Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// A session or BFD age the way routers print it: `45s`, `3m20s`, `2h05m`, `3d04h`.
pub fn age(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match () {
        _ if d > 0 => format!("{d}d{h:02}h"),
        _ if h > 0 => format!("{h}h{m:02}m"),
        _ if m > 0 => format!("{m}m{s:02}s"),
        _ => format!("{s}s"),
    }
}

/// How long a check took, for people: `0.4s`, `3.2s` under ten seconds (where the tenth
/// matters), whole seconds up to 99 (so a 60 s deadline reads `60s`), then `2m05s`.
pub fn elapsed(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.1}s")
    } else if secs < 99.5 {
        format!("{}s", secs.round() as u64)
    } else {
        age(secs.round() as u64)
    }
}

/// Indents every non-empty line.
pub fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{by}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_trims_trailing_blanks() {
        let rows = vec![
            vec![
                "10.0.0.3".to_string(),
                "established".to_string(),
                "".to_string(),
            ],
            vec!["10.0.0.14".to_string(), "idle".to_string(), "x".to_string()],
        ];
        assert_eq!(
            table(&["peer", "state", "err"], &rows),
            "peer       state        err\n10.0.0.3   established\n10.0.0.14  idle         x"
        );
    }

    #[test]
    fn ages_and_elapsed_times_read_like_router_output() {
        assert_eq!(age(45), "45s");
        assert_eq!(age(200), "3m20s");
        assert_eq!(age(7500), "2h05m");
        assert_eq!(age(3 * 86_400 + 4 * 3600), "3d04h");
        assert_eq!(elapsed(Duration::from_millis(3240)), "3.2s");
        assert_eq!(elapsed(Duration::from_secs(42)), "42s");
        assert_eq!(elapsed(Duration::from_millis(60_004)), "60s");
        assert_eq!(elapsed(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn indent_leaves_blank_lines_blank() {
        assert_eq!(indent("a\n\nb", "  "), "  a\n\n  b");
    }
}
