//! Button CRUD: `buttons/<name>/` with `button.json`, code and `AGENTS.md`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use buttons_spec::{
    Button, ButtonKind, ButtonName, ButtonRuntime, DEFAULT_MAX_RESPONSE_BYTES, Runtime, Timestamp,
};
use camino::Utf8PathBuf;

use crate::error::{Error, Result};
use crate::private_fs::{self, CODE_MODE, FILE_MODE, TMP_PREFIX};
use crate::store::Store;

/// The largest `--code` accepted: 64 KiB (65,536 bytes).
pub const MAX_CODE_BYTES: usize = 64 * 1024;

/// The spec file in a button folder.
pub const SPEC_FILE: &str = "button.json";

pub use buttons_spec::{AGENTS_FILE, SCAFFOLD_MARKER};

/// The folder of run records inside a button folder.
pub const PRESSED_DIR: &str = "pressed";

/// Where a new code button's code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeSource {
    /// A generated script with a shebang and a comment on where arguments arrive.
    Scaffold,
    /// Inline code (`--code`), at most [`MAX_CODE_BYTES`].
    Inline(String),
    /// A file to copy (`--file`); the runtime is inferred from it when the
    /// spec leaves `runtime` [unset](ButtonRuntime::Unset).
    File(PathBuf),
}

/// Everything `create` needs.
#[derive(Debug, Clone)]
pub struct NewButton {
    /// The spec. An [unset](ButtonRuntime::Unset) `runtime` (with no `url`)
    /// means "infer from the code file, else shell". For an HTTP button, an
    /// empty `allowed_host` is derived here from the URL (as
    /// [`Button::http`] does), an unset runtime becomes `http` and a 0
    /// `max_response_bytes` the default.
    pub button: Button,
    /// The code, for code buttons (must be [`CodeSource::Scaffold`] otherwise).
    pub code: CodeSource,
    /// The prompt text of a prompt button (a scaffold when `None`).
    pub prompt: Option<String>,
}

/// One entry of [`Store::list`]: a button, or why its spec could not be read.
#[derive(Debug)]
pub struct Listed {
    /// The folder name.
    pub name: String,
    /// The parsed spec, or the error reading it.
    pub button: Result<Button>,
}

impl Store {
    /// The folder of a button. Never outside [`Store::buttons_dir`]: a
    /// `ButtonName` is a single safe path component.
    pub fn button_dir(&self, name: &ButtonName) -> Utf8PathBuf {
        self.buttons_dir().join(name.as_str())
    }

    /// The code file of a code button, `None` for other kinds.
    pub fn code_path(&self, button: &Button) -> Option<Utf8PathBuf> {
        match button.kind() {
            ButtonKind::Code(rt) => ButtonName::new(&button.name)
                .ok()
                .map(|n| self.button_dir(&n).join(rt.code_file())),
            _ => None,
        }
    }

    /// Creates a button atomically: everything is written into a temporary
    /// folder inside `buttons/`, which is then renamed into place, so a failure
    /// leaves nothing half-made: `button.json`, the code file (code buttons),
    /// `AGENTS.md` and the empty `pressed/` folder appear together. An
    /// existing button of that name is refused (`VALIDATION_ERROR`) and left
    /// untouched. Returns the spec as written.
    ///
    /// # Security
    ///
    /// The name must be a valid [`ButtonName`] (one path component), and no
    /// write follows a symbolic link.
    pub fn create(&self, new: NewButton) -> Result<Button> {
        let NewButton {
            mut button,
            code,
            prompt,
        } = new;
        let name = ButtonName::new(&button.name)?;
        buttons_spec::validate_arg_defs(&button.args)?;

        let mut files: Vec<(&'static str, Vec<u8>, u32)> = Vec::new();
        if !button.url.is_empty() {
            buttons_spec::check_placeholders(&button)?;
            buttons_spec::check_http(&button)?;
        }
        if button.url.is_empty() && button.runtime == ButtonRuntime::Unset {
            // An interpreter outside the runtime table is refused here, not
            // at the first press (exit 127); an explicit runtime forces one.
            let inferred = match &code {
                CodeSource::File(path) => {
                    let bytes = read_source(path)?;
                    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    buttons_spec::detect_runtime(file_name.as_deref().unwrap_or(""), &bytes)?
                }
                CodeSource::Inline(text) => buttons_spec::detect_runtime("", text.as_bytes())?,
                CodeSource::Scaffold => None,
            };
            button.runtime = inferred.unwrap_or(Runtime::Shell).into();
        }
        match button.kind() {
            ButtonKind::Code(rt) => {
                button.runtime = rt.into();
                let bytes = match code {
                    CodeSource::Scaffold => scaffold_code(rt, &button).into_bytes(),
                    CodeSource::Inline(text) => {
                        if text.len() > MAX_CODE_BYTES {
                            return Err(Error::CodeTooLarge { len: text.len() });
                        }
                        text.into_bytes()
                    }
                    CodeSource::File(path) => read_source(&path)?,
                };
                files.push((rt.code_file(), bytes, CODE_MODE));
                files.push((
                    AGENTS_FILE,
                    scaffold_agents(&button).into_bytes(),
                    FILE_MODE,
                ));
            }
            ButtonKind::Http => {
                if code != CodeSource::Scaffold {
                    return Err(Error::CodeNotAllowed { kind: "http" });
                }
                let lock = buttons_spec::lock_url_template(&button.url)?;
                if button.allowed_host.is_empty() {
                    button.allowed_host = lock.allowed_host;
                }
                if button.runtime == ButtonRuntime::Unset {
                    button.runtime = ButtonRuntime::Http;
                }
                if button.max_response_bytes == 0 {
                    button.max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;
                }
                files.push((
                    AGENTS_FILE,
                    scaffold_agents(&button).into_bytes(),
                    FILE_MODE,
                ));
            }
            ButtonKind::Prompt => {
                if code != CodeSource::Scaffold {
                    return Err(Error::CodeNotAllowed { kind: "prompt" });
                }
                let text = match prompt {
                    Some(text) => {
                        let mut text = text;
                        if !text.ends_with('\n') {
                            text.push('\n');
                        }
                        text
                    }
                    None => format!(
                        "{SCAFFOLD_MARKER}\nWrite here what an agent should do when it presses {}.\n",
                        button.name
                    ),
                };
                files.push((AGENTS_FILE, text.into_bytes(), FILE_MODE));
            }
            ButtonKind::Unknown(runtime) => {
                return Err(buttons_spec::Error::InvalidRuntime { runtime }.into());
            }
            ButtonKind::App => {
                return Err(Error::UnsupportedKind {
                    kind: "app".to_owned(),
                });
            }
        }
        files.insert(0, (SPEC_FILE, button.to_json().into_bytes(), FILE_MODE));

        if self.drawer_exists(&name) {
            return Err(Error::NameTaken {
                name: name.to_string(),
                by: "drawer",
            });
        }
        let buttons_dir = self.ensure_root()?;
        let target = buttons_dir.join(name.as_str());
        if fs::symlink_metadata(&target).is_ok() {
            return Err(Error::AlreadyExists {
                name: name.to_string(),
            });
        }
        let tmp = TempDir::create(&buttons_dir, &name)?;
        for (file, bytes, mode) in &files {
            private_fs::create_file(&tmp.0.join(file), bytes, *mode)?;
        }
        private_fs::ensure_dir(&tmp.0.join(PRESSED_DIR))?;
        let dir = private_fs::open_dir(&buttons_dir)?;
        let from = tmp
            .0
            .strip_prefix(&buttons_dir)
            .expect("the temp dir is in buttons/");
        match nix::fcntl::renameat2(
            &dir,
            from,
            &dir,
            name.as_str(),
            nix::fcntl::RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => tmp.disarm(),
            Err(nix::errno::Errno::EEXIST | nix::errno::Errno::ENOTEMPTY) => {
                return Err(Error::AlreadyExists {
                    name: name.to_string(),
                });
            }
            Err(e) => return Err(Error::io("rename into place", &target)(e.into())),
        }
        Ok(button)
    }

    /// Every button folder in `buttons/`, sorted by name. A folder whose
    /// `button.json` is missing or broken is listed with its error.
    pub fn list(&self) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for name in private_fs::visible_subdirs(self.buttons_dir().as_std_path())? {
            let name = name.as_str();
            let button = ButtonName::new(name)
                .map_err(Error::from)
                .and_then(|n| self.load(&n));
            out.push(Listed {
                name: name.to_owned(),
                button,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Reads a button's spec (`NOT_FOUND` when there is no such button).
    pub fn load(&self, name: &ButtonName) -> Result<Button> {
        let path = self.button_dir(name).join(SPEC_FILE);
        let bytes =
            private_fs::read_optional(path.as_std_path())?.ok_or_else(|| Error::NotFound {
                name: name.to_string(),
            })?;
        let button = Button::from_json(&bytes).map_err(|e| match e {
            buttons_spec::Error::UnsupportedSchema { .. } => Error::Spec(e),
            other => Error::Corrupt {
                path: path.clone().into(),
                source: Box::new(other),
            },
        })?;
        if button.name != name.as_str() {
            return Err(Error::Corrupt {
                path: path.into(),
                source: format!("its name is {:?}, not {name:?}", button.name).into(),
            });
        }
        Ok(button)
    }

    /// Writes `button` back (atomically), with `updated_at` set to `now`.
    /// Fields this build does not know, kept in [`Button::extra`], are written
    /// back unchanged.
    pub fn save(&self, button: &Button, now: Timestamp) -> Result<Button> {
        let name = ButtonName::new(&button.name)?;
        let dir = self.button_dir(&name);
        private_fs::open_dir(self.buttons_dir().as_std_path())?;
        if fs::symlink_metadata(dir.join(SPEC_FILE)).is_err() {
            return Err(Error::NotFound {
                name: name.to_string(),
            });
        }
        let mut button = button.clone();
        button.updated_at = now;
        private_fs::write_atomic(
            dir.as_std_path(),
            SPEC_FILE,
            button.to_json().as_bytes(),
            FILE_MODE,
            true,
        )?;
        Ok(button)
    }

    /// Read-modify-write of a spec: loads it, applies `change`, and saves it
    /// with `updated_at` bumped to `now`.
    pub fn update(
        &self,
        name: &ButtonName,
        now: Timestamp,
        change: impl FnOnce(&mut Button),
    ) -> Result<Button> {
        let mut button = self.load(name)?;
        change(&mut button);
        button.name = name.to_string();
        self.save(&button, now)
    }

    /// Deletes a button and its records. The folder is first renamed aside,
    /// so a half-finished delete never leaves a half button.
    pub fn delete(&self, name: &ButtonName) -> Result<()> {
        let dir = self.button_dir(name);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(Error::NotADirectory { path: dir.into() });
            }
            Err(_) => {
                return Err(Error::NotFound {
                    name: name.to_string(),
                });
            }
        }
        let aside = self.buttons_dir().join(format!(
            "{TMP_PREFIX}delete-{name}-{}",
            private_fs::unique_suffix()
        ));
        fs::rename(&dir, &aside).map_err(Error::io("move aside", &dir))?;
        fs::remove_dir_all(&aside).map_err(Error::io("remove", &aside))
    }
}

fn read_source(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| Error::ReadSource {
        path: path.to_owned(),
        source,
    })
}

/// A temporary folder in `buttons/`, removed on drop unless disarmed.
struct TempDir(PathBuf);

impl TempDir {
    fn create(buttons_dir: &Path, name: &ButtonName) -> Result<Self> {
        let path = buttons_dir.join(format!(
            "{TMP_PREFIX}create-{name}-{}",
            private_fs::unique_suffix()
        ));
        private_fs::ensure_dir(&path)?;
        Ok(Self(path))
    }

    fn disarm(mut self) {
        self.0 = PathBuf::new();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

fn arg_lines(button: &Button, comment: &str, example: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for def in &button.args {
        let var = def.env_var();
        let req = if def.required { "required" } else { "optional" };
        let _ = writeln!(
            out,
            "{comment}   {}: {} ({req}) -> {}",
            def.name,
            def.arg_type,
            example(&var)
        );
    }
    out
}

/// The generated script of a code button: a shebang, where arguments
/// arrive, and a placeholder line. Only validated names go into it (never the
/// free-text description), so nothing a user typed becomes code.
fn scaffold_code(rt: Runtime, button: &Button) -> String {
    let name = &button.name;
    match rt {
        Runtime::Shell | Runtime::Bash => {
            let shebang = if rt == Runtime::Bash {
                "#!/usr/bin/env bash"
            } else {
                "#!/bin/sh"
            };
            format!(
                "{shebang}\n# Button: {name}\n# Arguments arrive as environment variables BUTTONS_ARG_<NAME> \
                 (uppercased, '-' as '_'),\n# batteries (secrets) as BUTTONS_BAT_<KEY>.\n{}\
                 set -eu\necho \"{name}: edit $0 to make this button do something\"\n",
                arg_lines(button, "#", |v| format!("\"${{{v}:-}}\""))
            )
        }
        Runtime::Python => format!(
            "#!/usr/bin/env python3\n# Button: {name}\n# Arguments arrive as environment variables BUTTONS_ARG_<NAME> \
             (uppercased, '-' as '_'),\n# batteries (secrets) as BUTTONS_BAT_<KEY>.\n{}\
             import os\n\nprint(\"{name}: edit main.py to make this button do something\")\n",
            arg_lines(button, "#", |v| format!("os.environ.get(\"{v}\")"))
        ),
        Runtime::Node => format!(
            "#!/usr/bin/env node\n// Button: {name}\n// Arguments arrive as environment variables BUTTONS_ARG_<NAME> \
             (uppercased, '-' as '_'),\n// batteries (secrets) as BUTTONS_BAT_<KEY>.\n{}\
             console.log(\"{name}: edit main.js to make this button do something\");\n",
            arg_lines(button, "//", |v| format!("process.env.{v}"))
        ),
    }
}

/// The generated `AGENTS.md` of a code or HTTP button: the scaffold marker,
/// then the description and how to press it.
fn scaffold_agents(button: &Button) -> String {
    let mut out = format!("{SCAFFOLD_MARKER}\n# {}\n\n", button.name);
    if button.description.is_empty() {
        out.push_str("No description yet.\n");
    } else {
        out.push_str(button.description.trim());
        out.push('\n');
    }
    let mut press = format!("buttons press {}", button.name);
    for def in button.args.iter().filter(|d| d.required) {
        let _ = write!(press, " --arg {}=<{}>", def.name, def.arg_type);
    }
    let _ = write!(out, "\nPress it with `{press}`.\n");
    if !button.args.is_empty() {
        out.push_str("\nArguments:\n");
        for def in &button.args {
            let req = if def.required { "required" } else { "optional" };
            let _ = writeln!(out, "- `{}` ({}, {req})", def.name, def.arg_type);
        }
    }
    out.push_str(
        "\nReplace this file with notes for agents; once the first line above is gone, \
         a press returns these notes with its result.\n",
    );
    out
}
