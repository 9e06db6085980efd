//! The command line, as clap parses it (raw flags; commands validate them).

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, SubcommandCandidates};

use crate::suggest::{arg_candidates, button_candidates};

/// Buttons: named, typed, pressable actions (scripts, HTTP requests, prompts).
///
/// `buttons NAME` shows one button; `buttons press NAME` runs it.
///
/// Output is JSON ({"ok": true, "data": …} or {"ok": false, "error": …})
/// with --json or whenever stdout is not a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "buttons",
    version,
    disable_version_flag = false,
    max_term_width = 100,
    add = SubcommandCandidates::new(button_candidates)
)]
pub(crate) struct Cli {
    /// Print one JSON object instead of human output.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Colour the tool's messages: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub(crate) color: crate::color::ColorWhen,

    /// No command: the summary (`buttons summary`).
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// Every subcommand's arguments are built only when clap needs them
/// (`defer`): a press builds `press`'s, not the whole tree; help, errors and
/// completions build what they show, so they stay clap's own. A new
/// subcommand is one more variant here, nothing else. The nested command
/// enums (`batteries`, `mcp`, `trigger`, `webhook`) are deferred the same way.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum Command {
    /// Set up a data directory: ./.buttons (or BUTTONS_HOME) with its .gitignore.
    Init,
    /// Create a button.
    Create(Box<CreateArgs>),
    /// List the buttons.
    #[command(visible_alias = "ls")]
    List,
    /// Press a button: run it and record the run.
    Press(PressArgs),
    /// Press many buttons at once: smash A B C, or smash a,b,c.
    Smash(SmashArgs),
    /// Show recent presses, newest first.
    History(HistoryArgs),
    /// The overview an agent reads first: buttons, their last runs, presses
    /// under way, recent failures (also `buttons` with no command).
    Summary(SummaryArgs),
    /// Show run records: the newest failures, or one button's runs (`-f` follows).
    Logs(LogsArgs),
    /// Print a press's progress file (JSON lines): the running one, else the newest.
    Tail(TailArgs),
    /// An interactive board of the buttons (not built yet; needs a terminal).
    Board,
    /// Delete a button and its run records.
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
    /// Manage batteries: secrets handed to scripts as $BUTTONS_BAT_KEY.
    #[command(subcommand)]
    Batteries(BatteriesCommand),
    /// Print the version.
    Version,
    /// Serve the MCP-enabled buttons as Model Context Protocol tools on stdio,
    /// or toggle a button with `mcp enable|disable NAME`.
    Mcp(McpArgs),
    /// Serve the buttons as a REST API (loopback only without an API key).
    Serve(ServeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell);
    /// it completes commands, flags, button names and `--arg` names.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// `buttons NAME` shows one button.
    /// Drawers: workflows of buttons (`drawer create|list|schema|rm`,
    /// `drawer NAME [summary|add|connect|set|stage add|press|logs|trigger webhook]`).
    Drawer {
        /// The verb, or the drawer's name and its verb, and their arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// A button's triggers: cron schedules, watched files, webhooks
    /// (`trigger add|list|rm`; `buttons serve` runs them).
    #[command(subcommand)]
    Trigger(TriggerCommand),
    /// Serve the drawer and button webhooks alone, on loopback.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    #[command(external_subcommand)]
    Show(Vec<String>),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The button's name (slugified: "My Button" becomes my-button).
    pub(crate) name: String,
    /// Inline script code (at most 64 KiB).
    #[arg(long, conflicts_with_all = ["file", "prompt"])]
    pub(crate) code: Option<String>,
    /// Copy this script file as the button's code (runtime inferred from it).
    #[arg(short = 'f', long, conflicts_with = "prompt")]
    pub(crate) file: Option<std::path::PathBuf>,
    /// shell | bash | python | node | prompt (default: shell, or inferred from --file).
    #[arg(long)]
    pub(crate) runtime: Option<String>,
    /// Make a prompt button: this text is what a press returns (written to AGENTS.md).
    #[arg(long)]
    pub(crate) prompt: Option<String>,
    /// Declare an argument: name:type:required|optional, or name:enum:required:a|b (repeatable).
    #[arg(long = "arg", value_name = "DEF")]
    pub(crate) args: Vec<String>,
    /// A one-line description.
    #[arg(short = 'd', long)]
    pub(crate) description: Option<String>,
    /// Press timeout: seconds (90), or with a unit (90s, 2m, 1h); default 300 s.
    #[arg(long, value_name = "DURATION")]
    pub(crate) timeout: Option<String>,
    /// Make an HTTP button for this URL template ({{arg}} placeholders in path, query, fragment).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// HTTP method for --url (default GET).
    #[arg(long)]
    pub(crate) method: Option<String>,
    /// HTTP header 'Key: Value' for --url, sent verbatim (repeatable).
    #[arg(long = "header", value_name = "'KEY: VALUE'")]
    pub(crate) headers: Vec<String>,
    /// HTTP body template for --url.
    #[arg(long)]
    pub(crate) body: Option<String>,
    /// Cap on the HTTP response body, e.g. 10M, 1G (default 10M, at most 2G).
    #[arg(long, value_name = "SIZE")]
    pub(crate) max_response_size: Option<String>,
    /// Let this HTTP button reach private and loopback addresses.
    #[arg(long)]
    pub(crate) allow_private_networks: bool,
    /// Expose this button as a tool through `buttons mcp`.
    #[arg(long)]
    pub(crate) mcp: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PressArgs {
    /// The button to press.
    #[arg(add = ArgValueCandidates::new(button_candidates))]
    pub(crate) name: String,
    /// An argument value, key=value (repeatable; split on the first '=').
    #[arg(long = "arg", value_name = "KEY=VALUE", add = ArgValueCompleter::new(arg_candidates))]
    pub(crate) args: Vec<String>,
    /// Override the button's timeout: seconds (90, 1.5) or with a unit (90s, 2m, 1h).
    #[arg(long, value_name = "DURATION")]
    pub(crate) timeout: Option<String>,
    /// Validate and show what would run (batteries masked), without running or recording.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Stream the script's output lines to stderr while it runs (stderr lines prefixed '! ').
    #[arg(short = 'f', long)]
    pub(crate) follow: bool,
    /// Run at most once for this key: a repeat (same button, same arguments) within the TTL
    /// returns the first successful result with "replayed": true.
    #[arg(long, value_name = "KEY")]
    pub(crate) idempotency_key: Option<String>,
    /// How long the key's result is kept (Go duration: 24h, 90m, 1h30m).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "24h",
        requires = "idempotency_key"
    )]
    pub(crate) idempotency_ttl: String,
    /// Write the script's stdout (HTTP: the body) as is, its stderr to stderr, no
    /// envelope; exit with its exit code (HTTP: 0 for 2xx/3xx, else 1).
    #[arg(long, conflicts_with_all = ["dry_run", "follow"])]
    pub(crate) raw: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Only this button's presses.
    #[arg(add = ArgValueCandidates::new(button_candidates))]
    pub(crate) name: Option<String>,
    /// How many to show.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub(crate) last: usize,
    /// Leave out stdout and stderr.
    #[arg(long)]
    pub(crate) no_output: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SummaryArgs {
    /// Parse every record in full and search all of them for failures (slower).
    #[arg(long)]
    pub(crate) deep: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Only this button's runs (all of them, not only failures).
    #[arg(add = ArgValueCandidates::new(button_candidates))]
    pub(crate) name: Option<String>,
    /// Only failed runs (implied without NAME).
    #[arg(long)]
    pub(crate) failed: bool,
    /// How many to show.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub(crate) limit: usize,
    /// Keep printing new runs as they are recorded (one JSON line each when
    /// piped) until interrupted.
    #[arg(short = 'f', long)]
    pub(crate) follow: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TailArgs {
    /// A button (its running press, else its newest) or a progress file path.
    pub(crate) target: String,
    /// Keep printing new lines until that press ends.
    #[arg(short = 'f', long)]
    pub(crate) follow: bool,
}

/// `buttons NAME logs …`, parsed on its own.
#[derive(Debug, Parser)]
#[command(name = "buttons NAME logs")]
pub(crate) struct NameLogs {
    #[command(flatten)]
    pub(crate) args: LogsArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// The button to delete.
    #[arg(add = ArgValueCandidates::new(button_candidates))]
    pub(crate) name: String,
    /// Do not ask for confirmation (implied by --json or when not on a terminal).
    #[arg(short = 'F', long)]
    pub(crate) force: bool,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum BatteriesCommand {
    /// Set a battery.
    Set {
        /// The key: uppercase letters, digits and _, starting with a letter.
        key: String,
        /// The secret value. Leave it out (or give `-`) to type it at a hidden
        /// prompt, or to pipe it in: `echo "$T" | buttons batteries set KEY`
        /// (keeps it out of shell history and `ps`).
        value: Option<String>,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Print a battery's value (local first, then global).
    Get {
        /// The key.
        key: String,
    },
    /// List batteries (values hidden unless --reveal).
    #[command(visible_alias = "ls")]
    List {
        /// Print the values too.
        #[arg(long, visible_alias = "show-values")]
        reveal: bool,
    },
    /// Remove a battery.
    #[command(visible_alias = "delete")]
    Rm {
        /// The key.
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ScopeArgs {
    /// Use ~/.buttons/batteries.json ($BUTTONS_HOME/batteries.json when BUTTONS_HOME is set).
    #[arg(long, conflicts_with = "local")]
    pub(crate) global: bool,
    /// Use the project's .buttons/batteries.json (with BUTTONS_HOME set, its one file).
    #[arg(long)]
    pub(crate) local: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct McpArgs {
    #[command(subcommand)]
    pub(crate) command: Option<McpCommand>,
    /// Also offer the `buttons_create` tool. Created buttons are not
    /// MCP-enabled (a human runs `buttons mcp enable NAME`) unless
    /// `--allow-create=trusted`.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "review", value_name = "MODE")]
    pub(crate) allow_create: Option<AllowCreate>,
}

/// Who may press a button an agent created through `buttons_create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AllowCreate {
    /// Only after a human enables it (`buttons mcp enable NAME`).
    Review,
    /// At once: the created button is MCP-enabled.
    Trusted,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum McpCommand {
    /// Expose a button or an action drawer as an MCP tool.
    Enable {
        /// The button's or drawer's name.
        name: String,
    },
    /// Stop exposing a button or a drawer as an MCP tool.
    Disable {
        /// The button's or drawer's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SmashArgs {
    /// The buttons to press (names, or comma-separated lists of names).
    #[arg(required = true, value_name = "NAME")]
    pub(crate) names: Vec<String>,
    /// key=value for every button declaring `key`, or NAME.key=value for one (repeatable).
    #[arg(long = "arg", value_name = "KEY=VALUE")]
    pub(crate) args: Vec<String>,
    /// After a failure: stop (skip what has not started, cancel what runs) or continue.
    #[arg(long, value_enum, default_value = "stop", value_name = "MODE")]
    pub(crate) on_failure: OnFailureArg,
    /// How many buttons run at once (default: the number of cores; at most 50).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=50))]
    pub(crate) concurrency: Option<u16>,
    /// The timeout of each press, in seconds (else each button's own).
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<String>,
}

/// `--on-failure`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum OnFailureArg {
    /// Skip what has not started and cancel what runs.
    Stop,
    /// Press every button.
    Continue,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (a non-loopback one needs an API key).
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// The port (0 picks a free one and prints it).
    #[arg(long, default_value_t = 8080)]
    pub(crate) port: u16,
    /// Read the API key from this file (mode 0600, owned by you). First of the key sources.
    #[arg(long, value_name = "PATH")]
    pub(crate) api_key_file: Option<std::path::PathBuf>,
    /// The API key (visible in `ps`: prefer --api-key-file, the API_KEY battery or $BUTTONS_API_KEY).
    #[arg(long, value_name = "KEY")]
    pub(crate) api_key: Option<String>,
    /// Also press HTTP buttons (refused with 403 by default).
    #[arg(long)]
    pub(crate) allow_http_buttons: bool,
    /// Do not run triggers: no cron, watch or webhook presses.
    #[arg(long)]
    pub(crate) no_triggers: bool,
}

/// `buttons trigger …`.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum TriggerCommand {
    /// Add a trigger to a button.
    Add(Box<TriggerAddArgs>),
    /// List the triggers (of one button, or of all).
    #[command(visible_alias = "ls")]
    List {
        /// The button (default: every button).
        button: Option<String>,
    },
    /// Remove a trigger by its id.
    #[command(visible_alias = "remove")]
    Rm {
        /// The button.
        button: String,
        /// The trigger's id (8 hex digits, see `trigger list`).
        id: String,
    },
}

/// `buttons trigger add`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("trigger_kind").required(true).args(["cron", "watch", "webhook"])))]
pub(crate) struct TriggerAddArgs {
    /// The button.
    pub(crate) button: String,
    /// Press on a schedule (--schedule).
    #[arg(long, requires = "schedule")]
    pub(crate) cron: bool,
    /// 5 cron fields in local time ('*/5 * * * *'), @hourly, @daily, or @every 30s.
    #[arg(long, value_name = "SPEC")]
    pub(crate) schedule: Option<String>,
    /// Press when a file's content changes (--path).
    #[arg(long, requires = "path")]
    pub(crate) watch: bool,
    /// The file to watch (it may not exist yet).
    #[arg(long, value_name = "FILE")]
    pub(crate) path: Option<std::path::PathBuf>,
    /// Press on `POST /PATH` to `buttons serve` (--webhook-path).
    #[arg(long, requires = "webhook_path")]
    pub(crate) webhook: bool,
    /// The webhook's path, e.g. /hooks/deploy (not under /api/).
    #[arg(long, value_name = "PATH")]
    pub(crate) webhook_path: Option<String>,
    /// The webhook's token, sent as the X-Buttons-Token header (default: a generated one).
    #[arg(long, value_name = "T", conflicts_with = "no_auth")]
    pub(crate) token: Option<String>,
    /// A webhook anyone who reaches the server may call (no token).
    #[arg(long)]
    pub(crate) no_auth: bool,
    /// An argument each press gets: key=value (repeatable).
    #[arg(long = "arg", value_name = "KEY=VALUE")]
    pub(crate) args: Vec<String>,
}

/// `buttons webhook …`.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub(crate) enum WebhookCommand {
    /// Serve the webhooks (drawers' and buttons') on 127.0.0.1 until Ctrl-C.
    Listen {
        /// The port (0 picks a free one and prints it).
        #[arg(long, default_value_t = 8090)]
        port: u16,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    #[test]
    fn the_tree_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_subcommand_s_arguments_are_built_only_when_needed() {
        let mut cmd = Cli::command();
        let names = |cmd: &clap::Command, sub: &str| -> Vec<String> {
            cmd.find_subcommand(sub)
                .unwrap()
                .get_arguments()
                .map(|a| a.get_id().to_string())
                .collect()
        };
        // Names and about texts are there for help and suggestions…
        assert!(cmd.find_subcommand("press").unwrap().get_about().is_some());
        // …but not the arguments, until clap builds what it parses or shows.
        assert!(names(&cmd, "press").is_empty());
        cmd.build();
        assert!(names(&cmd, "press").iter().any(|n| n == "args"));
        assert!(names(&cmd, "create").iter().any(|n| n == "url"));
    }
}
