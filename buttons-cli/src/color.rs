//! Colour for the tool's own words, as clap colours its messages: `error:`
//! red, `warning:` yellow, `✓` green and `✗` red at the start of a line.
//! Written through `anstream`, which drops the colour when stderr is not a
//! terminal, when `NO_COLOR` is set, or with `--color never`.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const GOOD: Style = AnsiColor::Green.on_default().bold();

/// `--color`: when to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always, even in a pipe.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    /// Makes this the choice of every `anstream` stream of the process.
    pub(crate) fn apply(self) {
        anstream::ColorChoice::write_global(match self {
            Self::Auto => anstream::ColorChoice::Auto,
            Self::Always => anstream::ColorChoice::Always,
            Self::Never => anstream::ColorChoice::Never,
        });
    }
}

/// `text` with the marks that start its lines coloured.
pub(crate) fn paint(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let marked = [
            ("error:", ERROR),
            ("warning:", WARNING),
            ("✓", GOOD),
            ("✗", ERROR),
        ]
        .into_iter()
        .find_map(|(mark, style)| line.strip_prefix(mark).map(|rest| (mark, style, rest)));
        match marked {
            Some((mark, style, rest)) => {
                let _ = write!(out, "{style}{mark}{style:#}");
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_at_line_starts_are_coloured() {
        let painted = paint("out\n✓ x ok\n");
        assert!(painted.starts_with("out\n\u{1b}["), "{painted:?}");
        assert!(painted.ends_with(" x ok\n"), "{painted:?}");
        assert_eq!(paint("no ✓ here"), "no ✓ here");
        assert!(paint("error: bad").starts_with("\u{1b}["));
        assert!(paint("error: bad").ends_with(" bad"));
    }
}
