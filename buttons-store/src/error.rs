//! The crate's error type.

use std::io;
use std::path::PathBuf;

use buttons_spec::ErrorCode;

/// Everything that can go wrong while reading or writing the data directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A button spec or input failed validation.
    #[error(transparent)]
    Spec(#[from] buttons_spec::Error),
    /// No data directory could be found: neither `BUTTONS_HOME` nor a home directory is known.
    #[error("find a data directory: neither BUTTONS_HOME nor HOME is set")]
    NoDataDir,
    /// The named button does not exist.
    #[error("button {name:?} not found")]
    NotFound {
        /// The name looked up.
        name: String,
    },
    /// A button with this name already exists.
    #[error("button {name:?} already exists")]
    AlreadyExists {
        /// The name.
        name: String,
    },
    /// A drawer does not exist.
    #[error("drawer {name:?} not found")]
    DrawerNotFound {
        /// The name looked up.
        name: String,
    },
    /// A name is already taken by a button or a drawer (they share names).
    #[error("the name {name:?} is taken by a {by}")]
    NameTaken {
        /// The name.
        name: String,
        /// `button` or `drawer`.
        by: &'static str,
    },
    /// A battery does not exist.
    #[error("battery {key:?} not found")]
    BatteryNotFound {
        /// The key looked up.
        key: String,
    },
    /// Inline code is larger than [`crate::MAX_CODE_BYTES`].
    #[error("inline code is {len} bytes, more than the 65536 allowed")]
    CodeTooLarge {
        /// Its size in bytes.
        len: usize,
    },
    /// Code was given for a button kind that has none (HTTP or prompt).
    #[error("{kind} buttons take no code")]
    CodeNotAllowed {
        /// `http` or `prompt`.
        kind: &'static str,
    },
    /// A button kind that `create` cannot make (e.g. `app`).
    #[error("cannot create {kind} buttons")]
    UnsupportedKind {
        /// The kind.
        kind: String,
    },
    /// The `--file` to copy could not be read.
    #[error("read {path}")]
    ReadSource {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A `button.json` or `batteries.json` on disk is not valid.
    #[error("read {path}: the file is not valid")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A symbolic link stands where the store creates, writes or opens a
    /// folder inside the data directory.
    #[error("refuse to follow the symbolic link {path}")]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// Something other than a directory stands where a directory belongs.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The data directory belongs to another user.
    #[error("the data directory {path} belongs to uid {owner}, not to you (uid {me})")]
    ForeignOwner {
        /// The data directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The current effective uid.
        me: u32,
    },
    /// The data directory's path is not valid UTF-8 (paths are handed back
    /// and printed as UTF-8).
    #[error("the data directory's path {} is not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// A queue or idempotency name that cannot name a file.
    #[error("{name:?} cannot name a lock file")]
    InvalidLockName {
        /// The name.
        name: String,
    },
    /// A file the store reads (a spec, a record, batteries, a `--file`) is
    /// not a regular file: a link, FIFO, device or folder is never read.
    #[error("{path} is not a regular file (it is a {kind})")]
    NotRegularFile {
        /// The file.
        path: PathBuf,
        /// What it is instead, e.g. `FIFO`.
        kind: &'static str,
    },
    /// A file the store reads is larger than its cap.
    #[error("{path} is larger than the {limit} bytes allowed")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap in bytes.
        limit: u64,
    },
    /// A filesystem operation failed.
    #[error("{action} {path}")]
    Io {
        /// What was being done, e.g. `write`.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Spec(e) => e.code(),
            Self::NotFound { .. } | Self::BatteryNotFound { .. } => ErrorCode::NotFound,
            Self::Io { .. } => ErrorCode::InternalError,
            Self::DrawerNotFound { .. } => ErrorCode::DrawerNotFound,
            _ => ErrorCode::ValidationError,
        }
    }

    /// A sentence naming the fix, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Spec(e) => e.hint(),
            Self::NoDataDir => {
                Some("set BUTTONS_HOME to a directory, e.g. BUTTONS_HOME=~/.buttons".to_owned())
            }
            Self::NotFound { .. } => {
                Some("run 'buttons list' to see the buttons there are".to_owned())
            }
            Self::AlreadyExists { name } => Some(format!(
                "pick another name, or run 'buttons delete {name}' first"
            )),
            Self::DrawerNotFound { .. } => {
                Some("run 'buttons drawer list' to see the drawers there are".to_owned())
            }
            Self::NameTaken { .. } => {
                Some("buttons and drawers share names: pick another name".to_owned())
            }
            Self::BatteryNotFound { key } => {
                Some(format!("set it with 'buttons batteries set {key} VALUE'"))
            }
            Self::CodeTooLarge { .. } => {
                Some("put the code in a file and pass --file PATH".to_owned())
            }
            Self::CodeNotAllowed { .. } => {
                Some("drop --code/--file, or drop --url/--prompt to make a code button".to_owned())
            }
            Self::UnsupportedKind { .. } => {
                Some("use --runtime shell|bash|python|node|prompt or --url".to_owned())
            }
            Self::ReadSource { .. } => Some("check the path given to --file".to_owned()),
            Self::Corrupt { path, .. } => Some(format!("fix or remove {}", path.display())),
            Self::Symlink { path } => Some(format!(
                "remove the link {} (buttons never writes through symbolic links)",
                path.display()
            )),
            Self::NotADirectory { path } => Some(format!("move {} out of the way", path.display())),
            Self::ForeignOwner { path, .. } => Some(format!(
                "run 'chown -R $(id -u) {}' if it is yours, or set BUTTONS_HOME to a directory you own",
                path.display()
            )),
            Self::NonUtf8Path { .. } => Some(
                "move the data directory to a path that is valid UTF-8 (or point BUTTONS_HOME at one)"
                    .to_owned(),
            ),
            Self::InvalidLockName { .. } => Some(
                "use 1 to 128 ASCII letters, digits, '-', '_' or '.', not starting with '.'"
                    .to_owned(),
            ),
            Self::NotRegularFile { path, .. } => {
                Some(format!("replace {} with a regular file", path.display()))
            }
            Self::TooLarge { path, .. } => Some(format!("shorten or remove {}", path.display())),
            Self::Io { .. } => None,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
