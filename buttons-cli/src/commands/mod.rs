//! One file per subcommand. Each turns arguments into library calls and
//! returns a [`Reply`].

mod batteries;
mod board;
mod completions;
mod create;
mod delete;
mod drawer;
mod drawer_trigger;
mod history;
mod init;
mod list;
mod logs;
pub(crate) mod mcp;
mod press;
mod serve;
mod show;
mod smash;
mod summary;
mod tail;
mod trigger;
mod version;
mod webhook;

use buttons_spec::ButtonName;
use buttons_store::{Location, Store};

use crate::cli::Command;
use crate::error::CliResult;
use crate::output::{Output, Reply};

/// Runs one command.
pub(crate) fn run(command: Command, out: Output) -> CliResult<Reply> {
    match command {
        Command::Init => init::run(out),
        Command::Create(args) => create::run(*args, out),
        Command::List => list::run(out),
        Command::Press(args) => press::run(args, out),
        Command::Smash(args) => smash::run(args, out),
        Command::History(args) => history::run(args, out),
        Command::Summary(args) => summary::run(args, out),
        Command::Logs(args) => logs::run(args, out),
        Command::Tail(args) => tail::run(args, out),
        Command::Board => board::run(out),
        Command::Delete(args) => delete::run(args, out),
        Command::Batteries(cmd) => batteries::run(cmd, out),
        Command::Version => Ok(version::run()),
        Command::Mcp(args) => match args.command {
            Some(command) => mcp::run(command, out),
            None => unreachable!("main serves `buttons mcp` before rendering any reply"),
        },
        Command::Serve(args) => serve::run(args, out),
        Command::Completions { shell } => completions::run(shell),
        Command::Drawer { words } => drawer::run(&words, out),
        Command::Trigger(command) => trigger::run(command, out),
        Command::Webhook(command) => webhook::run(command, out),
        Command::Show(words) if words.get(1).is_some_and(|w| w == "logs") => {
            logs::run_for_name(&words, out)
        }
        Command::Show(words) => show::run(&words, out),
    }
}

/// Opens the data directory this process resolves to, telling the user once
/// (human mode) if its permissions were tightened.
pub(crate) fn open_store(out: Output) -> CliResult<Store> {
    let location = Location::from_env()?;
    let store = Store::open(&location)?;
    if let Some(notice) = store.notice() {
        out.notice(&notice.to_string());
    }
    Ok(store)
}

/// An engine over `store` with this process's environment whose code presses
/// are supervised by this binary (see `main`): a press's process group dies
/// with this process, even when it is killed.
pub(crate) fn engine(store: Store) -> buttons_exec::Engine {
    buttons_exec::Engine::from_env(store).supervisor(supervisor())
}

/// The press supervisor: `buttons-supervise` beside this binary (small, so
/// cheap to start), else this binary itself (`main` answers the same
/// command line): `/proc/self/exe` where there is one (it still works when
/// the file was replaced), else the path we ran from.
pub(crate) fn supervisor() -> std::path::PathBuf {
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        let small = dir.join("buttons-supervise");
        if small.is_file() {
            return small;
        }
    }
    let proc = std::path::Path::new("/proc/self/exe");
    if proc.exists() {
        return proc.to_path_buf();
    }
    std::env::current_exe().unwrap_or_else(|_| proc.to_path_buf())
}

/// A button name as the user typed it, slugified the way `create` does.
pub(crate) fn button_name(input: &str) -> CliResult<ButtonName> {
    Ok(ButtonName::from_user(input)?)
}

/// A button as `create` and `buttons NAME` report it: the spec plus where its
/// folder and code file are.
pub(crate) fn button_data(
    button: &buttons_spec::Button,
    dir: &camino::Utf8Path,
    code_path: Option<&camino::Utf8Path>,
) -> serde_json::Value {
    let mut data = serde_json::to_value(button).expect("a Button always serializes");
    if let Some(map) = data.as_object_mut() {
        map.insert("button_dir".into(), serde_json::json!(dir));
        if let Some(code) = code_path {
            map.insert("code_path".into(), serde_json::json!(code));
        }
    }
    data
}

/// Shows what a press is waiting for on stderr (human mode).
pub(crate) fn show_press_event(event: &buttons_exec::PressEvent) {
    use std::io::Write as _;
    let line = match event {
        buttons_exec::PressEvent::QueueWait { queue, running } => {
            format!("waiting for queue {queue} ({running} running)")
        }
        buttons_exec::PressEvent::IdempotencyWait { key } => {
            format!("waiting for the press holding idempotency key {key}")
        }
        _ => return,
    };
    let _ = writeln!(std::io::stderr().lock(), "{}", crate::output::escape(&line));
}

/// A clap parse error of words parsed after the top-level command (`buttons
/// drawer …`, `buttons NAME logs …`) as the CLI's `VALIDATION_ERROR`: clap's
/// first line, and `hint` to name the help to read.
pub(crate) fn usage_error(e: &clap::Error, hint: String) -> crate::error::CliError {
    let rendered = e.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or("bad arguments")
        .trim_start_matches("error: ")
        .to_owned();
    crate::error::CliError::validation(message).with_hint(hint)
}
