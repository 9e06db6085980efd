//! Opens a data directory, presses a button by name with one argument and
//! prints the recorded result. Run: `cargo run -p buttons-exec --example press_by_name`.
#![expect(clippy::print_stdout, reason = "an example prints its result")]
use buttons_exec::{Engine, PressOptions, PressRequest};
use buttons_spec::{ArgDef, Button, ButtonName, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A scratch data directory with one button in it.
    let tmp = tempfile::tempdir()?;
    let store = Store::at(tmp.path())?;
    let mut button = Button::new(&ButtonName::new("greet")?, Timestamp::now());
    button.args.push(ArgDef::parse("name:string:required")?);
    let code = CodeSource::Inline("echo \"Hello, $BUTTONS_ARG_NAME\"".into());
    store.create(NewButton {
        button,
        code,
        prompt: None,
    })?;

    // Press it by name, as any front end would.
    let engine = Engine::from_env(store);
    let request = PressRequest::new("greet").arg("name", "World");
    let ran = engine.press_blocking(&request, PressOptions::default())?;

    let record = ran.record?;
    let stored = engine.store().records(None, 1)?.remove(0);
    assert_eq!(stored.path, record);
    println!("run {} ({}):", ran.id, record);
    println!("{}", serde_json::to_string_pretty(&stored.record)?);
    Ok(())
}
