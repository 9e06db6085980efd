//! Argument values reach the script only through `BUTTONS_ARG_*`, byte for byte.

use buttons_exec::PressOptions;
use buttons_spec::Status;

use crate::util::Fixture;

/// Values that would run commands if they were ever pasted into a shell line.
/// Each one that could execute would create a marker file.
fn hostile_values(markers: &std::path::Path) -> Vec<String> {
    let m = |n: u32| markers.join(format!("m{n}")).display().to_string();
    vec![
        format!("$(touch {})", m(1)),
        format!("`touch {}`", m(2)),
        format!("; touch {}", m(3)),
        format!("x' ; touch {} ; echo '", m(4)),
        format!("\" && touch {} && \"", m(5)),
        format!("| touch {}", m(6)),
        format!("\ntouch {}\n", m(7)),
        "'\"\n\\ $HOME ${PATH} %s {{v0}} \u{1} é".to_owned(),
    ]
}

fn defs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("v{i}:string:required")).collect()
}

/// Presses a button whose script copies each `BUTTONS_ARG_V<i>` into a file
/// `out<i>`, and checks the files hold the values exactly and no marker exists.
async fn check_runtime(runtime: &str, file: &str, code: &str) {
    let markers = tempfile::tempdir().unwrap();
    let values = hostile_values(markers.path());
    let defs = defs(values.len());
    let defs: Vec<&str> = defs.iter().map(String::as_str).collect();
    let fx = Fixture::code(runtime, file, code).with_args(&defs);
    let names: Vec<String> = (0..values.len()).map(|i| format!("v{i}")).collect();
    let pairs: Vec<(&str, &str)> = names
        .iter()
        .zip(&values)
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let args = fx.args(&pairs);
    let result = buttons_exec::press(&fx.ctx(&args), PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.status, Status::Ok, "{runtime}: {result:?}");
    for (i, value) in values.iter().enumerate() {
        let got = std::fs::read(fx.path().join(format!("out{i}"))).unwrap();
        assert_eq!(got, value.as_bytes(), "{runtime}: value {i} changed");
    }
    let ran: Vec<_> = std::fs::read_dir(markers.path()).unwrap().collect();
    assert!(ran.is_empty(), "{runtime}: a value was executed: {ran:?}");
    assert_eq!(result.args.len(), values.len());
}

const SH: &str = r#"i=0
for v in "$BUTTONS_ARG_V0" "$BUTTONS_ARG_V1" "$BUTTONS_ARG_V2" "$BUTTONS_ARG_V3" \
         "$BUTTONS_ARG_V4" "$BUTTONS_ARG_V5" "$BUTTONS_ARG_V6" "$BUTTONS_ARG_V7"; do
  printf '%s' "$v" > "out$i"
  i=$((i + 1))
done
"#;

#[tokio::test]
async fn shell_and_bash_receive_values_verbatim() {
    check_runtime("shell", "main.sh", SH).await;
    check_runtime("bash", "main.sh", SH).await;
}

#[tokio::test]
async fn python_receives_values_verbatim() {
    let code = "import os\nfor i in range(8):\n    open(f'out{i}', 'wb').write(os.environb[f'BUTTONS_ARG_V{i}'.encode()])\n";
    check_runtime("python", "main.py", code).await;
}

#[tokio::test]
async fn node_receives_values_verbatim() {
    let code = "const fs = require('fs');\nfor (let i = 0; i < 8; i++) fs.writeFileSync(`out${i}`, process.env[`BUTTONS_ARG_V${i}`]);\n";
    check_runtime("node", "main.js", code).await;
}

/// The command line is the interpreter and the code file, nothing else.
#[tokio::test]
async fn values_never_reach_the_command_line() {
    let fx = Fixture::sh("cat /proc/$$/cmdline > cmdline\n").with_args(&["v:string:required"]);
    let args = fx.args(&[("v", "$(id)")]);
    let result = buttons_exec::press(&fx.ctx(&args), PressOptions::default())
        .await
        .unwrap();
    assert_eq!(result.status, Status::Ok, "{result:?}");
    let code = std::path::absolute(fx.path().join("main.sh")).unwrap();
    assert_eq!(fx.read("cmdline"), format!("/bin/sh\0{}\0", code.display()));
}
