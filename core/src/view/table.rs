//! Aligned text tables and the few colours the terminal views use (pure).
//!
//! Colour is a handful of SGR codes, not a crate: the views need five tones, and the
//! column alignment must measure what the eye sees, so every width here ignores escape
//! sequences.

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

/// Whether stdout gets colours (pure): `always`/`never` as told; `auto` only on a
/// terminal, outside CI (some CI systems pretend to be terminals), without `NO_COLOR`
/// (<https://no-color.org>: set and non-empty) and not on a dumb terminal.
pub fn use_color(mode: ColorMode, env: &ColorEnv) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => env.stdout_is_terminal && !env.no_color && !env.ci && !env.dumb_term,
    }
}

/// What the colour decision looks at, read once from the process environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColorEnv {
    pub stdout_is_terminal: bool,
    pub no_color: bool,
    pub ci: bool,
    pub dumb_term: bool,
}

impl ColorEnv {
    pub fn from_process() -> ColorEnv {
        use std::io::IsTerminal;
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        ColorEnv {
            stdout_is_terminal: std::io::stdout().is_terminal(),
            no_color: set("NO_COLOR"),
            ci: set("CI") && std::env::var_os("CI").is_some_and(|v| v != "false"),
            dumb_term: std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
        }
    }
}

/// The meaning a piece of text carries; the painter picks the colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Healthy: established, up, running, present.
    Good,
    /// Broken: down, missing, stopped, a problem line.
    Bad,
    /// Neither: transitional states, not-yet-known values.
    Warn,
    /// Secondary detail (sources, counts of nothing).
    Dim,
    /// Headings and names worth finding at a glance.
    Bold,
    /// Marks cluster nodes among next hops.
    Node,
}

impl Tone {
    fn sgr(self) -> &'static str {
        match self {
            Tone::Good => "32",
            Tone::Bad => "31",
            Tone::Warn => "33",
            Tone::Dim => "2",
            Tone::Bold => "1",
            Tone::Node => "36",
        }
    }

    /// Good when `ok`, bad otherwise: the common case of a state column.
    pub fn ok(ok: bool) -> Tone {
        if ok { Tone::Good } else { Tone::Bad }
    }
}

/// Paints text in a tone, or leaves it alone when colours are off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Painter {
    pub enabled: bool,
}

impl Painter {
    pub const PLAIN: Painter = Painter { enabled: false };
    pub const COLOR: Painter = Painter { enabled: true };

    pub fn new(enabled: bool) -> Painter {
        Painter { enabled }
    }

    pub fn paint(&self, tone: Tone, text: impl AsRef<str>) -> String {
        let text = text.as_ref();
        if !self.enabled || text.is_empty() {
            return text.to_string();
        }
        format!("\x1b[{}m{text}\x1b[0m", tone.sgr())
    }
}

/// Width of text as shown: escape sequences take no room.
pub fn visible_width(text: &str) -> usize {
    strip_ansi(text).chars().count()
}

/// Removes CSI escape sequences (`ESC [` parameters, final byte `@`..`~`) and lone ESCs.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// Aligned columns, two spaces apart, headers first, no trailing blanks. Cells may carry
/// colour; widths are measured without it. Rows shorter than the header leave the last
/// columns empty.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| visible_width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(visible_width(cell));
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate().take(widths.len()) {
            text.push_str(cell);
            if i + 1 < cells.len() {
                text.push_str(&" ".repeat(widths[i] - visible_width(cell) + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&headers.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for row in rows {
        line(row);
    }
    out
}

/// Every line of `text` indented by `by` spaces (empty lines stay empty).
pub fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_only_a_plain_terminal() {
        let tty = ColorEnv {
            stdout_is_terminal: true,
            ..ColorEnv::default()
        };
        assert!(use_color(ColorMode::Auto, &tty));
        for env in [
            ColorEnv::default(),
            ColorEnv {
                no_color: true,
                ..tty
            },
            ColorEnv { ci: true, ..tty },
            ColorEnv {
                dumb_term: true,
                ..tty
            },
        ] {
            assert!(!use_color(ColorMode::Auto, &env), "{env:?}");
        }
        // An explicit flag wins over the environment, both ways.
        assert!(use_color(
            ColorMode::Always,
            &ColorEnv {
                no_color: true,
                ci: true,
                ..ColorEnv::default()
            }
        ));
        assert!(!use_color(ColorMode::Never, &tty));
    }

    #[test]
    fn widths_ignore_escape_sequences() {
        let red = Painter::COLOR.paint(Tone::Bad, "down");
        assert_eq!(red, "\x1b[31mdown\x1b[0m");
        assert_eq!(visible_width(&red), 4);
        assert_eq!(strip_ansi("\x1b[1;31mA\x1b[0mB\x1b[K"), "AB");
        assert_eq!(Painter::PLAIN.paint(Tone::Bad, "down"), "down");
    }

    #[test]
    fn coloured_and_plain_tables_line_up_the_same() {
        let rows = |p: Painter| {
            vec![
                vec![
                    "frr1".to_string(),
                    p.paint(Tone::Good, "established"),
                    "3".into(),
                ],
                vec!["bird-long".into(), p.paint(Tone::Bad, "idle"), "".into()],
            ]
        };
        let plain = table(&["ROUTER", "STATE", "PFX"], &rows(Painter::PLAIN));
        let colored = table(&["ROUTER", "STATE", "PFX"], &rows(Painter::COLOR));
        assert_eq!(
            plain,
            "ROUTER     STATE        PFX\nfrr1       established  3\nbird-long  idle\n"
        );
        assert_eq!(strip_ansi(&colored), plain);
        assert_ne!(colored, plain);
    }

    #[test]
    fn indent_keeps_blank_lines_blank() {
        assert_eq!(indent("a\n\nb\n", 2), "  a\n\n  b\n");
    }
}
