//! Button CRUD: `buttons/<name>/` with `button.json`, code and `AGENTS.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use buttons_spec::{
    Button, ButtonKind, ButtonName, ButtonRuntime, DEFAULT_MAX_RESPONSE_BYTES, Runtime, Timestamp,
};
use camino::Utf8PathBuf;

use crate::error::{Error, Result};
use crate::private_fs::{self, CODE_MODE, Dir, FILE_MODE, Kind, TMP_PREFIX, TempDir};
use crate::store::{BUTTONS_DIR, Store};

/// The largest `--code` accepted: 64 KiB (65,536 bytes).
pub const MAX_CODE_BYTES: usize = 64 * 1024;

/// The largest `button.json` (or `drawer.json`) read: 1 MiB.
pub const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// The largest `--file` copied as a button's code: 1 MiB.
pub const MAX_SOURCE_BYTES: u64 = 1024 * 1024;

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
        let buttons_dir = self.ensure_buttons()?;
        if buttons_dir.kind(name.as_str())?.is_some() {
            return Err(Error::AlreadyExists {
                name: name.to_string(),
            });
        }
        let (tmp, tmp_dir) = TempDir::create(&buttons_dir, &format!("create-{name}"))?;
        for (file, bytes, mode) in &files {
            tmp_dir.create_file(file, bytes, *mode)?;
        }
        tmp_dir.ensure_sub(PRESSED_DIR)?;
        drop(tmp_dir);
        if !buttons_dir.rename_noreplace(tmp.name(), name.as_str())? {
            return Err(Error::AlreadyExists {
                name: name.to_string(),
            });
        }
        tmp.disarm();
        Ok(button)
    }

    /// Every button folder in `buttons/`, sorted by name. A folder whose
    /// `button.json` is missing or broken is listed with its error.
    pub fn list(&self) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        let Some(buttons_dir) = self.handle(&[BUTTONS_DIR])? else {
            return Ok(out);
        };
        for name in buttons_dir.visible_subdirs()? {
            let name = name.as_str();
            let button = ButtonName::new(name)
                .map_err(Error::from)
                .and_then(|n| match buttons_dir.sub(n.as_str())? {
                    Some(dir) => load_in(&dir, &n),
                    None => Err(Error::NotFound {
                        name: n.to_string(),
                    }),
                });
            out.push(Listed {
                name: name.to_owned(),
                button,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// A handle on a button's folder (never through a link); `NOT_FOUND`
    /// when there is no such button.
    pub(crate) fn button_handle(&self, name: &ButtonName) -> Result<Dir> {
        self.handle(&[BUTTONS_DIR, name.as_str()])?
            .ok_or_else(|| Error::NotFound {
                name: name.to_string(),
            })
    }

    /// Reads a button's spec (`NOT_FOUND` when there is no such button).
    ///
    /// # Security
    ///
    /// `button.json` is read through folder handles that never follow a
    /// link, opened non-blocking, and must be a regular file of at most
    /// [`MAX_SPEC_BYTES`] (else `VALIDATION_ERROR` naming it).
    pub fn load(&self, name: &ButtonName) -> Result<Button> {
        load_in(&self.button_handle(name)?, name)
    }

    /// Writes `button` back (atomically), with `updated_at` set to `now`.
    /// Fields this build does not know, kept in [`Button::extra`], are written
    /// back unchanged. It takes the button's lock; for a read-modify-write
    /// use [`Store::update`], which holds it across both.
    pub fn save(&self, button: &Button, now: Timestamp) -> Result<Button> {
        let name = ButtonName::new(&button.name)?;
        let dir = self.button_handle(&name)?;
        dir.lock()?;
        save_in(&dir, &name, button, now)
    }

    /// Read-modify-write of a spec under the button's exclusive lock: loads
    /// it, applies `change`, and saves it with `updated_at` bumped to `now`.
    /// Concurrent updates (in this or other processes) never lose one
    /// another's change.
    pub fn update(
        &self,
        name: &ButtonName,
        now: Timestamp,
        change: impl FnOnce(&mut Button),
    ) -> Result<Button> {
        self.try_update(name, now, |button| {
            change(button);
            Ok::<(), Error>(())
        })
    }

    /// [`Store::update`] with a `change` that may refuse (nothing is written
    /// then): e.g. a change that validates what it adds.
    pub fn try_update<E: From<Error>>(
        &self,
        name: &ButtonName,
        now: Timestamp,
        change: impl FnOnce(&mut Button) -> std::result::Result<(), E>,
    ) -> std::result::Result<Button, E> {
        let dir = self.button_handle(name)?;
        dir.lock()?;
        let mut button = load_in(&dir, name)?;
        change(&mut button)?;
        button.name = name.to_string();
        Ok(save_in(&dir, name, &button, now)?)
    }

    /// Deletes a button and its records. The folder is first renamed aside,
    /// so a half-finished delete never leaves a half button.
    ///
    /// # Security
    ///
    /// Everything goes through handles: a `buttons/` folder or a button
    /// folder that is a link is refused, and a link inside is removed
    /// itself, never followed.
    pub fn delete(&self, name: &ButtonName) -> Result<()> {
        let not_found = || Error::NotFound {
            name: name.to_string(),
        };
        let buttons_dir = self.handle(&[BUTTONS_DIR])?.ok_or_else(not_found)?;
        match buttons_dir.kind(name.as_str())? {
            Some(Kind::Dir) => {}
            Some(Kind::Symlink) => {
                return Err(Error::Symlink {
                    path: buttons_dir.join(name.as_str()),
                });
            }
            Some(_) => {
                return Err(Error::NotADirectory {
                    path: buttons_dir.join(name.as_str()),
                });
            }
            None => return Err(not_found()),
        }
        buttons_dir.sweep_stale_tmp();
        let aside = format!("{TMP_PREFIX}delete-{name}-{}", private_fs::unique_suffix());
        buttons_dir.rename(name.as_str(), &aside)?;
        buttons_dir.remove_tree(&aside)
    }
}

/// Reads and checks the spec in a button's folder.
fn load_in(dir: &Dir, name: &ButtonName) -> Result<Button> {
    let path = dir.join(SPEC_FILE);
    let bytes = dir
        .read(SPEC_FILE, MAX_SPEC_BYTES)?
        .ok_or_else(|| Error::NotFound {
            name: name.to_string(),
        })?;
    let button = Button::from_json(&bytes).map_err(|e| match e {
        buttons_spec::Error::UnsupportedSchema { .. } => Error::Spec(e),
        other => Error::Corrupt {
            path: path.clone(),
            source: Box::new(other),
        },
    })?;
    if button.name != name.as_str() {
        return Err(Error::Corrupt {
            path,
            source: format!("its name is {:?}, not {:?}", button.name, name.as_str()).into(),
        });
    }
    Ok(button)
}

/// Writes a spec into a button's folder (the caller holds its lock).
fn save_in(dir: &Dir, name: &ButtonName, button: &Button, now: Timestamp) -> Result<Button> {
    if dir.kind(SPEC_FILE)?.is_none() {
        return Err(Error::NotFound {
            name: name.to_string(),
        });
    }
    let mut button = button.clone();
    button.updated_at = now;
    dir.write_atomic(SPEC_FILE, button.to_json().as_bytes(), FILE_MODE, true)?;
    Ok(button)
}

/// Reads a `--file` to copy: opened non-blocking, a regular file (a link to
/// one is fine: the user named it) of at most [`MAX_SOURCE_BYTES`].
fn read_source(path: &Path) -> Result<Vec<u8>> {
    match private_fs::read_path(path, MAX_SOURCE_BYTES, true) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(Error::ReadSource {
            path: path.to_owned(),
            source: std::io::ErrorKind::NotFound.into(),
        }),
        Err(Error::Io { source, .. }) => Err(Error::ReadSource {
            path: path.to_owned(),
            source,
        }),
        Err(e) => Err(e),
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
