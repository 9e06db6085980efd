//! The command line, as clap parses it (raw flags; commands validate them).

use clap::{Args, Parser, Subcommand};

/// Buttons: named, typed, pressable actions (scripts, HTTP requests, prompts).
///
/// Output is JSON ({"ok": true, "data": …} or {"ok": false, "error": …})
/// with --json or whenever stdout is not a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "buttons",
    version,
    disable_version_flag = false,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Print one JSON object instead of human output.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// No command: the summary (`buttons summary`).
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// `buttons NAME` shows one button.
    /// Drawers: workflows of buttons (`drawer create|list|schema|rm`,
    /// `drawer NAME [summary|add|connect|set|stage add|press|logs]`).
    Drawer {
        /// The verb, or the drawer's name and its verb, and their arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
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
    /// Press timeout in seconds (default 300).
    #[arg(long, value_name = "SECS")]
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
    pub(crate) name: String,
    /// An argument value, key=value (repeatable; split on the first '=').
    #[arg(long = "arg", value_name = "KEY=VALUE")]
    pub(crate) args: Vec<String>,
    /// Override the button's timeout, in seconds.
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<String>,
    /// Validate and show what would run (batteries masked), without running or recording.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Stream the script's output lines to stderr while it runs (stderr lines prefixed '! ').
    #[arg(short = 'f', long)]
    pub(crate) follow: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Only this button's presses.
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
    pub(crate) name: String,
    /// Do not ask for confirmation (implied by --json or when not on a terminal).
    #[arg(short = 'F', long)]
    pub(crate) force: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BatteriesCommand {
    /// Set a battery.
    Set {
        /// The key: uppercase letters, digits and _, starting with a letter.
        key: String,
        /// The secret value.
        value: String,
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
}

#[derive(Debug, Subcommand)]
pub(crate) enum McpCommand {
    /// Expose a button as an MCP tool.
    Enable {
        /// The button's name.
        name: String,
    },
    /// Stop exposing a button as an MCP tool.
    Disable {
        /// The button's name.
        name: String,
    },
}
