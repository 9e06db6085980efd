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
    /// The `--color` the command line gives (`--color WHEN` or
    /// `--color=WHEN`, the last one before `--`), looked up before clap
    /// parses it so that clap's own help and errors follow it too; `auto`
    /// when absent or not a valid choice (clap then reports the value).
    pub(crate) fn from_argv(argv: &[std::ffi::OsString]) -> Self {
        let mut when = Self::Auto;
        let mut words = argv.iter().skip(1).map(|w| w.to_str());
        while let Some(word) = words.next() {
            let value = match word {
                Some("--") => break,
                Some("--color") => words.next().flatten(),
                Some(w) => w.strip_prefix("--color="),
                None => None,
            };
            if let Some(value) = value {
                when = <Self as clap::ValueEnum>::from_str(value, false).unwrap_or(Self::Auto);
            }
        }
        when
    }

    /// The same choice for clap's own help and error messages.
    pub(crate) fn clap(self) -> clap::ColorChoice {
        match self {
            Self::Auto => clap::ColorChoice::Auto,
            Self::Always => clap::ColorChoice::Always,
            Self::Never => clap::ColorChoice::Never,
        }
    }

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

    fn when(words: &[&str]) -> ColorWhen {
        let argv: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
        ColorWhen::from_argv(&argv)
    }

    #[test]
    fn color_is_found_before_parsing() {
        assert_eq!(when(&["buttons", "list"]), ColorWhen::Auto);
        assert_eq!(
            when(&["buttons", "--color", "never", "x"]),
            ColorWhen::Never
        );
        assert_eq!(
            when(&["buttons", "press", "x", "--color=always"]),
            ColorWhen::Always
        );
        assert_eq!(when(&["buttons", "--color", "bogus"]), ColorWhen::Auto);
        assert_eq!(
            when(&["buttons", "--", "--color", "never"]),
            ColorWhen::Auto
        );
    }

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
