//! The child's environment and interpreter lookup.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use buttons_spec::Runtime;

use crate::context::PressContext;

/// What [`dry_run_env`] shows instead of a battery's value.
pub const MASK: &str = "********";

/// The environment variable that carries the progress file's path.
pub const PROGRESS_ENV: &str = "BUTTONS_PROGRESS_PATH";

/// Where a variable the press adds comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Battery,
    Button,
    Arg,
    Progress,
}

/// The variables a press adds on top of the base environment, in the order
/// they are applied (later wins): batteries, the button's `env`, arguments,
/// the progress file.
fn added(ctx: &PressContext<'_>) -> Vec<(OsString, OsString, Origin)> {
    let mut vars = Vec::new();
    for (key, value) in ctx.batteries.env_vars() {
        vars.push((key.into(), value.into(), Origin::Battery));
    }
    for (key, value) in &ctx.button.env {
        vars.push((key.into(), value.into(), Origin::Button));
    }
    for (key, value) in ctx.args.env_vars() {
        vars.push((key.into(), value.into(), Origin::Arg));
    }
    if let Some(path) = &ctx.progress_path {
        vars.push((PROGRESS_ENV.into(), path.into(), Origin::Progress));
    }
    vars
}

/// The variables a press of a code button would add to the caller's
/// environment, with their final values (later layers win), battery values
/// replaced by [`MASK`]. This is what `buttons press --dry-run` shows.
///
/// # Security
///
/// Battery values are secrets and never appear in the returned map; values
/// from the button's `env` and the arguments appear as they are.
pub fn dry_run_env(ctx: &PressContext<'_>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (key, value, origin) in added(ctx) {
        let shown = if origin == Origin::Battery {
            MASK.to_owned()
        } else {
            value.to_string_lossy().into_owned()
        };
        env.insert(key.to_string_lossy().into_owned(), shown);
    }
    env
}

/// The complete environment of the child: the base environment, then the
/// added variables. Refuses variable names that are empty or contain `=` or
/// NUL, and values that contain NUL (they cannot be passed faithfully).
pub(crate) fn child_env(ctx: &PressContext<'_>) -> Result<BTreeMap<OsString, OsString>, String> {
    let mut env: BTreeMap<OsString, OsString> = ctx.base_env.iter().cloned().collect();
    for (key, value, origin) in added(ctx) {
        let bytes = key.as_bytes();
        if bytes.is_empty() || bytes.contains(&b'=') || bytes.contains(&0) {
            return Err(format!(
                "invalid environment variable name {:?} in the button's env",
                key.to_string_lossy()
            ));
        }
        if value.as_bytes().contains(&0) {
            let what = match origin {
                Origin::Arg => "argument value",
                Origin::Battery => "battery value",
                Origin::Button | Origin::Progress => "value",
            };
            return Err(format!(
                "the {what} for {} contains a NUL byte, which cannot reach a script",
                key.to_string_lossy()
            ));
        }
        env.insert(key, value);
    }
    check_size(ctx, &env)?;
    Ok(env)
}

/// The most bytes one environment variable (`NAME=value` and its NUL) may
/// take: Linux's `MAX_ARG_STRLEN`, 128 KiB. A longer one fails `execve` with
/// "Argument list too long".
pub const MAX_ENV_VAR: usize = 128 << 10;

/// The most bytes the whole environment of a script (every `NAME=value`, its
/// NUL and pointer) may take: 1 MiB, half of Linux's usual `ARG_MAX`, so the
/// interpreter's own command line and the kernel's share always fit.
pub const MAX_ENV_TOTAL: usize = 1 << 20;

/// Refuses an environment `execve` would refuse, before anything is
/// spawned, naming the largest argument (or variable) and the limit.
fn check_size(ctx: &PressContext<'_>, env: &BTreeMap<OsString, OsString>) -> Result<(), String> {
    let size = |key: &OsStr, value: &OsStr| key.len() + value.len() + 2;
    let mut total = 0;
    let mut largest: Option<(&OsString, usize)> = None;
    for (key, value) in env {
        let n = size(key, value);
        total += n + size_of::<usize>();
        if largest.is_none_or(|(_, m)| n > m) {
            largest = Some((key, n));
        }
    }
    if total <= MAX_ENV_TOTAL && largest.is_none_or(|(_, n)| n <= MAX_ENV_VAR) {
        return Ok(());
    }
    // Over a limit (rare): name arguments by their own names.
    let args = ctx.args.to_map();
    let arg_of = |var: &OsStr| {
        args.keys()
            .find(|name| OsStr::new(&buttons_spec::arg_env_var(name)) == var)
            .cloned()
    };
    if let Some((var, n)) = largest
        && n > MAX_ENV_VAR
    {
        let what = match arg_of(var) {
            Some(arg) => format!("argument {arg:?} ({})", var.to_string_lossy()),
            None => format!("environment variable {}", var.to_string_lossy()),
        };
        return Err(format!(
            "{what} is {n} bytes, over the limit of {MAX_ENV_VAR} bytes (128 KiB) for one value a script receives; pass large data in a file instead"
        ));
    }
    let largest_arg = args
        .iter()
        .max_by_key(|(_, v)| v.len())
        .map(|(name, v)| format!("; the largest argument is {name:?} ({} bytes)", v.len()))
        .unwrap_or_default();
    Err(format!(
        "the script's environment would be {total} bytes, over the limit of {MAX_ENV_TOTAL} bytes (1 MiB){largest_arg}; pass large data in a file instead"
    ))
}

/// Finds the interpreter of `runtime`: `/bin/sh` for shell; `bash`,
/// `python3` (then `python`) or `node` from the `PATH` of `base_env`.
///
/// Only absolute `PATH` entries are searched: an empty or relative entry would
/// resolve against whatever directory the press happens to run in. Returns
/// `None` when no executable file is found.
pub fn find_interpreter(runtime: Runtime, base_env: &[(OsString, OsString)]) -> Option<PathBuf> {
    let names: &[&str] = match runtime {
        Runtime::Shell => {
            let sh = Path::new("/bin/sh");
            return is_executable(sh).then(|| sh.to_path_buf());
        }
        Runtime::Bash => &["bash"],
        Runtime::Python => &["python3", "python"],
        Runtime::Node => &["node"],
    };
    let path = base_env
        .iter()
        .rev()
        .find(|(key, _)| key == OsStr::new("PATH"))
        .map(|(_, value)| value)?;
    names.iter().find_map(|name| {
        std::env::split_paths(path)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    })
}

/// The message of a `RUNTIME_MISSING` result for `runtime`.
pub(crate) fn missing_message(runtime: Runtime) -> String {
    match runtime {
        Runtime::Shell => "/bin/sh not found".to_owned(),
        Runtime::Bash => "bash not found on PATH".to_owned(),
        Runtime::Python => "python not found on PATH (looked for python3, then python)".to_owned(),
        Runtime::Node => "node not found on PATH".to_owned(),
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use buttons_spec::{ArgDef, Args, Batteries, Button, ButtonName, Timestamp};

    use super::*;

    fn exe(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn path_env(value: impl Into<OsString>) -> Vec<(OsString, OsString)> {
        vec![("PATH".into(), value.into())]
    }

    #[test]
    fn python3_first_then_python() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let python = exe(a.path(), "python");
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        assert_eq!(
            find_interpreter(Runtime::Python, &path_env(path.clone())),
            Some(python)
        );
        let python3 = exe(b.path(), "python3");
        assert_eq!(
            find_interpreter(Runtime::Python, &path_env(path)),
            Some(python3)
        );
    }

    #[test]
    fn relative_path_entries_and_non_executables_are_skipped() {
        let a = tempfile::tempdir().unwrap();
        exe(a.path(), "node");
        let not_exec = a.path().join("bash");
        std::fs::write(&not_exec, "").unwrap();
        let cwd = std::env::current_dir().unwrap();
        let relative = pathdiff(a.path(), &cwd);
        assert!(find_interpreter(Runtime::Node, &path_env(relative)).is_none());
        assert!(find_interpreter(Runtime::Node, &path_env(a.path())).is_some());
        assert!(find_interpreter(Runtime::Bash, &path_env(a.path())).is_none());
        assert!(find_interpreter(Runtime::Node, &[]).is_none());
    }

    /// A relative path from `base` to `target` (both absolute).
    fn pathdiff(target: &Path, base: &Path) -> PathBuf {
        let mut up = PathBuf::new();
        for _ in base.components().skip(1) {
            up.push("..");
        }
        up.join(target.strip_prefix("/").unwrap())
    }

    #[test]
    fn layers_and_masking() {
        let name = ButtonName::new("b").unwrap();
        let mut button = Button::new(&name, Timestamp::UNIX_EPOCH);
        button
            .args
            .push(ArgDef::parse("who:string:optional").unwrap());
        button
            .env
            .insert("BUTTONS_BAT_TOKEN".into(), "from-button".into());
        button
            .env
            .insert("BUTTONS_ARG_WHO".into(), "from-button".into());
        let mut batteries = Batteries::new();
        batteries.insert("TOKEN", "secret-1").unwrap();
        batteries.insert("OTHER", "secret-2").unwrap();
        let args = Args::validate(&button.args, [("who", "from-arg")]).unwrap();
        let dir = Path::new("/nonexistent");
        let mut ctx = PressContext::new(&button, dir, &args, &batteries);
        ctx.base_env = vec![("BUTTONS_BAT_OTHER".into(), "from-base".into())];
        ctx.progress_path = Some("/p/x.jsonl".into());

        let env = child_env(&ctx).unwrap();
        assert_eq!(env[OsStr::new("BUTTONS_BAT_TOKEN")], "from-button");
        assert_eq!(env[OsStr::new("BUTTONS_BAT_OTHER")], "secret-2");
        assert_eq!(env[OsStr::new("BUTTONS_ARG_WHO")], "from-arg");
        assert_eq!(env[OsStr::new(PROGRESS_ENV)], "/p/x.jsonl");

        let shown = dry_run_env(&ctx);
        assert_eq!(shown["BUTTONS_BAT_OTHER"], MASK);
        assert_eq!(shown["BUTTONS_BAT_TOKEN"], "from-button");
        assert_eq!(shown["BUTTONS_ARG_WHO"], "from-arg");
        assert_eq!(shown[PROGRESS_ENV], "/p/x.jsonl");
        assert!(!format!("{shown:?}").contains("secret"));
    }

    #[test]
    fn refuses_unpassable_variables() {
        let name = ButtonName::new("b").unwrap();
        let mut button = Button::new(&name, Timestamp::UNIX_EPOCH);
        button
            .args
            .push(ArgDef::parse("v:string:optional").unwrap());
        let batteries = Batteries::new();
        let args = Args::validate(&button.args, [("v", "a\0b")]).unwrap();
        let ctx = PressContext::new(&button, Path::new("/x"), &args, &batteries);
        assert!(child_env(&ctx).unwrap_err().contains("NUL"));

        button.env.insert("A=B".into(), "x".into());
        let args = Args::default();
        let ctx = PressContext::new(&button, Path::new("/x"), &args, &batteries);
        assert!(child_env(&ctx).unwrap_err().contains("\"A=B\""));
    }
}
