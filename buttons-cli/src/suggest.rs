//! "Did you mean …?": the closest names to what was typed (commands,
//! buttons, arguments), and the dynamic shell completion of button and
//! argument names.

use std::ffi::OsStr;

use buttons_store::{Location, Store};
use clap_complete::engine::CompletionCandidate;

use crate::error::CliError;

/// Up to three candidates close to `input`, closest first (Jaro similarity
/// above 0.7, as clap's own "a similar subcommand exists").
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter(|c| *c != input)
        .map(|c| (strsim::jaro(input, c), c))
        .filter(|(score, _)| *score > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut names: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names.truncate(3);
    names
}

/// "did you mean `a`?", "did you mean `a` or `b`?", or `None`.
pub(crate) fn did_you_mean(names: &[String]) -> Option<String> {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        [init @ .., last] => Some(format!("did you mean {} or {last}?", init.join(", "))),
    }
}

/// The commands close to `word`, as clap itself suggests them for an
/// unknown subcommand (the `buttons NAME` shortcut would otherwise hide it).
pub(crate) fn commands_like(word: &str) -> Vec<String> {
    use clap::CommandFactory as _;
    use clap::error::{ContextKind, ContextValue};

    // The same subcommands without the `buttons NAME` catch-all, so clap
    // reports the word as an unknown subcommand with its own suggestion.
    let cmd = clap::Command::new("buttons")
        .subcommands(crate::cli::Cli::command().get_subcommands().cloned());
    let Err(err) = cmd.try_get_matches_from(["buttons", word]) else {
        return Vec::new();
    };
    let names = match err.get(ContextKind::SuggestedSubcommand) {
        Some(ContextValue::Strings(names)) => names.clone(),
        Some(ContextValue::String(name)) => vec![name.clone()],
        _ => Vec::new(),
    };
    // `ls or list` says one thing twice: keep an alias only without its command.
    let root = crate::cli::Cli::command();
    names
        .iter()
        .filter(|n| {
            root.get_subcommands().all(|c| {
                c.get_name() == n.as_str()
                    || !c.get_all_aliases().any(|a| a == n.as_str())
                    || !names.iter().any(|m| m == c.get_name())
            })
        })
        .cloned()
        .collect()
}

/// The hint for `UnknownArg`: the closest declared argument, or the list.
pub(crate) fn unknown_arg_hint(button: &str, name: &str, declared: &[String]) -> String {
    let close = closest(name, declared.iter().map(String::as_str));
    match close.first() {
        Some(guess) => {
            format!("did you mean `--arg {guess}=…`? (run 'buttons {button}' to see its arguments)")
        }
        None if declared.is_empty() => format!("{button} takes no arguments"),
        None => format!("{button} takes: {}", declared.join(", ")),
    }
}

/// The names of the buttons in `store` (unreadable specs included: their
/// folder names are still names).
pub(crate) fn button_names(store: &Store) -> Vec<String> {
    store
        .list()
        .map(|listed| listed.into_iter().map(|l| l.name).collect())
        .unwrap_or_default()
}

/// A `NOT_FOUND` for button `name`: says which data directory was searched
/// and suggests the closest button names.
pub(crate) fn button_not_found(store: &Store, name: &str, mut err: CliError) -> CliError {
    err.message = format!("{} in {}", err.message, store.buttons_dir());
    let names = button_names(store);
    let close = closest(name, names.iter().map(String::as_str));
    err.hint = Some(match did_you_mean(&close) {
        Some(guess) => format!("{guess} (run 'buttons list' to see them all)"),
        None if names.is_empty() => {
            "there are no buttons here yet: make one with 'buttons create NAME'".to_owned()
        }
        None => "run 'buttons list' to see the buttons there are".to_owned(),
    });
    err
}

/// Completion candidates: the buttons of the data directory this process
/// resolves to.
pub(crate) fn button_candidates() -> Vec<CompletionCandidate> {
    let Some(store) = Location::from_env().ok().and_then(|l| Store::open(&l).ok()) else {
        return Vec::new();
    };
    button_names(&store)
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// Completion of `--arg NAME=`: the declared arguments of the button named
/// after `press` on the command line being completed.
pub(crate) fn arg_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let words: Vec<String> = std::env::args().collect();
    let Some(name) = words
        .iter()
        .skip_while(|w| *w != "press")
        .skip(1)
        .find(|w| !w.starts_with('-'))
    else {
        return Vec::new();
    };
    let Some(store) = Location::from_env().ok().and_then(|l| Store::open(&l).ok()) else {
        return Vec::new();
    };
    let Ok(name) = buttons_spec::ButtonName::from_user(name) else {
        return Vec::new();
    };
    let Ok(button) = store.load(&name) else {
        return Vec::new();
    };
    button
        .args
        .iter()
        .map(|def| format!("{}=", def.name))
        .filter(|c| c.starts_with(current.as_ref()))
        .map(|c| CompletionCandidate::new(c).help(None))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_closest_first() {
        assert_eq!(closest("lst", ["list", "logs", "press"]), ["list"]);
        assert_eq!(closest("gret", ["greet", "other"]), ["greet"]);
        assert!(closest("zzz", ["list"]).is_empty());
        assert_eq!(
            did_you_mean(&["a".into(), "b".into()]).unwrap(),
            "did you mean `a` or `b`?"
        );
    }
}
