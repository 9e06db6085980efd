use std::fs;
use std::os::unix::fs::PermissionsExt;

use buttons_spec::{
    ArgDef, ArgType, Button, ButtonName, ButtonRuntime, ErrorCode, Kind, Method, Runtime, Timestamp,
};
use buttons_store::{CodeSource, Error, MAX_CODE_BYTES, NewButton, SCAFFOLD_MARKER};
use proptest::prelude::*;

use crate::{make, temp_store};

fn new(name: &str) -> Button {
    Button::new(&ButtonName::new(name).unwrap(), Timestamp::UNIX_EPOCH)
}

fn entries(dir: impl AsRef<std::path::Path>) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn scaffold_code_button_with_marker_and_description() {
    let (_t, store) = temp_store();
    let mut button = new("greet");
    button.description = "Says hello".into();
    button
        .args
        .push(ArgDef::parse("who:string:optional").unwrap());
    store
        .create(NewButton {
            button,
            code: CodeSource::Scaffold,
            prompt: None,
        })
        .unwrap();
    let dir = store.buttons_dir().join("greet");
    assert_eq!(
        entries(&dir),
        ["AGENTS.md", "button.json", "main.sh", "pressed"]
    );
    let code = fs::read_to_string(dir.join("main.sh")).unwrap();
    assert!(code.starts_with("#!/bin/sh\n"));
    assert!(code.contains("BUTTONS_ARG_<NAME>") && code.contains("BUTTONS_ARG_WHO"));
    let agents = fs::read_to_string(dir.join("AGENTS.md")).unwrap();
    assert_eq!(agents.lines().next(), Some(SCAFFOLD_MARKER));
    assert!(agents.contains("Says hello"));
    for rt in [Runtime::Python, Runtime::Node, Runtime::Bash] {
        let mut b = new(&format!("s-{}", rt.as_str()));
        b.runtime = rt.into();
        let created = store
            .create(NewButton {
                button: b,
                code: CodeSource::Scaffold,
                prompt: None,
            })
            .unwrap();
        let path = store.code_path(&created).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("#!"), "{rt:?}: {text}");
        assert!(text.contains("BUTTONS_ARG_"), "{rt:?}");
    }
}

#[test]
fn file_copy_infers_runtime_and_explicit_wins() {
    let (tmp, store) = temp_store();
    let src = tmp.path().join("job");
    fs::write(&src, "#!/usr/bin/env python3\nprint('x')\n").unwrap();
    let mut b = new("job");
    b.runtime = ButtonRuntime::Unset;
    let created = store
        .create(NewButton {
            button: b,
            code: CodeSource::File(src.clone()),
            prompt: None,
        })
        .unwrap();
    assert_eq!(created.runtime, ButtonRuntime::Code(Runtime::Python));
    let code = store.buttons_dir().join("job/main.py");
    assert_eq!(fs::read(&code).unwrap(), fs::read(&src).unwrap());
    assert!(
        !fs::symlink_metadata(&code)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    let mut b = new("job2");
    b.runtime = Runtime::Bash.into();
    let created = store
        .create(NewButton {
            button: b,
            code: CodeSource::File(src),
            prompt: None,
        })
        .unwrap();
    assert_eq!(created.runtime, ButtonRuntime::Code(Runtime::Bash));
    assert!(store.buttons_dir().join("job2/main.sh").is_file());

    let mut b = new("gone");
    b.runtime = ButtonRuntime::Unset;
    let err = store
        .create(NewButton {
            button: b,
            code: CodeSource::File(tmp.path().join("missing")),
            prompt: None,
        })
        .unwrap_err();
    assert!(matches!(err, Error::ReadSource { .. }), "{err:?}");
}

#[test]
fn code_size_limit_is_exact_and_failures_leave_nothing() {
    let (_t, store) = temp_store();
    let ok = "#".repeat(MAX_CODE_BYTES);
    store
        .create(NewButton {
            button: new("big"),
            code: CodeSource::Inline(ok),
            prompt: None,
        })
        .unwrap();
    let err = store
        .create(NewButton {
            button: new("bigger"),
            code: CodeSource::Inline("#".repeat(MAX_CODE_BYTES + 1)),
            prompt: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(err.hint().unwrap().contains("--file"));
    assert_eq!(entries(store.buttons_dir()), ["big"]);
}

#[test]
fn existing_name_refused_and_untouched() {
    let (_t, store) = temp_store();
    let name = make(&store, "dup", "echo first");
    let before = fs::read(store.buttons_dir().join("dup/button.json")).unwrap();
    let err = store
        .create(NewButton {
            button: new("dup"),
            code: CodeSource::Inline("echo second".into()),
            prompt: None,
        })
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }));
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert_eq!(
        fs::read(store.buttons_dir().join("dup/button.json")).unwrap(),
        before
    );
    assert_eq!(
        fs::read_to_string(store.buttons_dir().join("dup/main.sh")).unwrap(),
        "echo first"
    );
    assert_eq!(entries(store.buttons_dir()), ["dup"]);
    assert_eq!(store.load(&name).unwrap().name, "dup");
}

#[test]
fn prompt_and_http_buttons() {
    let (_t, store) = temp_store();
    let b = Button::prompt(&ButtonName::new("review").unwrap(), Timestamp::UNIX_EPOCH);
    store
        .create(NewButton {
            button: b,
            code: CodeSource::Scaffold,
            prompt: Some("Review the open PRs".into()),
        })
        .unwrap();
    let dir = store.buttons_dir().join("review");
    assert_eq!(entries(&dir), ["AGENTS.md", "button.json", "pressed"]);
    assert_eq!(
        fs::read_to_string(dir.join("AGENTS.md")).unwrap(),
        "Review the open PRs\n"
    );

    let mut b = new("weather");
    b.runtime = ButtonRuntime::Unset;
    b.url = "https://API.example.com:8443/w/{{city}}".into();
    b.args.push(ArgDef::parse("city:string:required").unwrap());
    let created = store
        .create(NewButton {
            button: b,
            code: CodeSource::Scaffold,
            prompt: None,
        })
        .unwrap();
    assert_eq!(created.allowed_host, "api.example.com:8443");
    assert_eq!(created.runtime, ButtonRuntime::Http);
    assert_eq!(created.max_response_bytes, 10_485_760);
    assert_eq!(
        store.load(&ButtonName::new("weather").unwrap()).unwrap(),
        created
    );
    assert_eq!(
        entries(store.buttons_dir().join("weather")),
        ["AGENTS.md", "button.json", "pressed"]
    );

    let mut b = new("evil");
    b.url = "https://{{host}}/x".into();
    b.runtime = ButtonRuntime::Unset;
    let err = store
        .create(NewButton {
            button: b,
            code: CodeSource::Scaffold,
            prompt: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);

    let mut b = new("cobol");
    b.runtime = ButtonRuntime::Other("cobol".into());
    let err = store
        .create(NewButton {
            button: b,
            code: CodeSource::Scaffold,
            prompt: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert_eq!(entries(store.buttons_dir()), ["review", "weather"]);
}

#[test]
fn list_sorted_and_reports_broken_specs() {
    let (_t, store) = temp_store();
    make(&store, "zeta", "true");
    make(&store, "alpha", "true");
    let broken = store.buttons_dir().join("broken");
    fs::create_dir(&broken).unwrap();
    fs::write(broken.join("button.json"), "{not json").unwrap();
    let listed = store.list().unwrap();
    let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["alpha", "broken", "zeta"]);
    assert!(listed[0].button.is_ok() && listed[2].button.is_ok());
    let err = listed[1].button.as_ref().unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(err.hint().unwrap().contains("broken"));
}

#[test]
fn load_missing_is_not_found() {
    let (_t, store) = temp_store();
    let err = store.load(&ButtonName::new("nope").unwrap()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[test]
fn update_keeps_unknown_fields_and_bumps_updated_at() {
    let (_t, store) = temp_store();
    let name = make(&store, "keep", "true");
    let spec = store.buttons_dir().join("keep/button.json");
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&spec).unwrap()).unwrap();
    value["queue"] = serde_json::json!({"name": "q", "concurrency": 2});
    value["triggers"] = serde_json::json!([{"kind": "cron"}]);
    value["output_schema"] = serde_json::json!({"type": "object"});
    value["from_the_future"] = serde_json::json!({"x": [1, null]});
    fs::write(&spec, serde_json::to_vec_pretty(&value).unwrap()).unwrap();

    let later: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let saved = store
        .update(&name, later, |b| b.description = "changed".into())
        .unwrap();
    assert_eq!(saved.updated_at, later);
    let after: serde_json::Value = serde_json::from_slice(&fs::read(&spec).unwrap()).unwrap();
    for key in [
        "queue",
        "triggers",
        "output_schema",
        "from_the_future",
        "created_at",
    ] {
        assert_eq!(after[key], value[key], "{key}");
    }
    assert_eq!(after["description"], "changed");
    assert_eq!(after["updated_at"], "2030-01-01T00:00:00Z");
    assert_eq!(
        fs::metadata(&spec).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn delete_removes_and_then_not_found() {
    let (_t, store) = temp_store();
    let name = make(&store, "bye", "true");
    store.delete(&name).unwrap();
    assert!(store.list().unwrap().is_empty());
    assert_eq!(fs::read_dir(store.buttons_dir()).unwrap().count(), 0);
    assert_eq!(store.delete(&name).unwrap_err().code(), ErrorCode::NotFound);
}

proptest! {
    /// No accepted name resolves outside the buttons folder.
    #[test]
    fn accepted_names_stay_inside(input in "\\PC{0,40}|[a-z./\\\\-]{0,12}") {
        let store = buttons_store::Store::at("/data").unwrap();
        if let Ok(name) = ButtonName::from_user(&input) {
            let dir = store.button_dir(&name);
            let buttons_dir = store.buttons_dir();
            prop_assert_eq!(dir.parent(), Some(buttons_dir.as_path()));
            prop_assert!(dir.components().all(|c| matches!(
                c,
                camino::Utf8Component::RootDir | camino::Utf8Component::Normal(_)
            )));
            prop_assert!(!name.as_str().starts_with('.'));
        }
    }
}

/// `Store::create` checks argument definitions itself: an embedder that skips
/// the CLI still cannot store two names for one variable, a duplicate or a
/// bad name, and a refused create leaves nothing behind.
#[test]
fn create_refuses_bad_arg_defs_and_leaves_nothing() {
    let (_t, store) = temp_store();
    let def = |name: &str| ArgDef {
        name: name.into(),
        arg_type: ArgType::String,
        required: false,
        values: Vec::new(),
        description: None,
    };
    let cases: [(&str, Vec<ArgDef>, &str); 4] = [
        ("collide", vec![def("a-b"), def("a_b")], "BUTTONS_ARG_A_B"),
        ("dup", vec![def("who"), def("who")], "who"),
        ("badname", vec![def("1st")], "1st"),
        ("badchar", vec![def("x"), def("a$b")], "a$b"),
    ];
    for (button, args, mentioned) in cases {
        let mut b = new(button);
        b.args = args;
        let err = store
            .create(NewButton {
                button: b,
                code: CodeSource::Inline("echo hi".into()),
                prompt: None,
            })
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError, "{button}: {err:?}");
        assert!(matches!(err, Error::Spec(_)), "{button}: {err:?}");
        assert!(err.to_string().contains(mentioned), "{button}: {err}");
        // No button folder, no temporary folder.
        assert_eq!(
            entries(store.buttons_dir()),
            Vec::<String>::new(),
            "{button}"
        );
    }
}

/// `pressed/` is made inside the temporary folder, so it appears with the
/// button: a real, empty, 0700 directory, for every kind of button.
#[test]
fn create_makes_a_private_pressed_folder() {
    let (_t, store) = temp_store();
    make(&store, "code", "true");
    store
        .create(NewButton {
            button: Button::prompt(&ButtonName::new("prompt").unwrap(), Timestamp::UNIX_EPOCH),
            code: CodeSource::Scaffold,
            prompt: None,
        })
        .unwrap();
    store
        .create(NewButton {
            button: Button::http(
                &ButtonName::new("http").unwrap(),
                "https://example.com/",
                Timestamp::UNIX_EPOCH,
            )
            .unwrap(),
            code: CodeSource::Scaffold,
            prompt: None,
        })
        .unwrap();
    for name in ["code", "prompt", "http"] {
        let pressed = store.buttons_dir().join(name).join("pressed");
        let meta = fs::symlink_metadata(&pressed).unwrap();
        assert!(meta.is_dir(), "{name}");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{name}");
        assert_eq!(entries(&pressed), Vec::<String>::new(), "{name}");
    }
    // Records still go there.
    let name = ButtonName::new("code").unwrap();
    let at = Timestamp::UNIX_EPOCH;
    store
        .write_record(
            &name,
            &buttons_spec::RunRecord::from_result(&buttons_spec::PressResult::new("code", at), at),
        )
        .unwrap();
    assert_eq!(store.records(Some(&name), 20).unwrap().len(), 1);
}

/// A read-modify-write through the store keeps `runtime`, `kind` and
/// `method` values this build does not know, exactly as written.
#[test]
fn update_keeps_unknown_runtime_kind_and_method_values() {
    let (_t, store) = temp_store();
    let name = make(&store, "odd", "true");
    let spec = store.buttons_dir().join("odd/button.json");
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&spec).unwrap()).unwrap();
    value["runtime"] = "cobol".into();
    value["kind"] = "widget".into();
    value["method"] = "PURGE".into();
    fs::write(&spec, serde_json::to_vec_pretty(&value).unwrap()).unwrap();

    let loaded = store.load(&name).unwrap();
    assert_eq!(loaded.runtime, ButtonRuntime::Other("cobol".into()));
    assert_eq!(loaded.kind, Some(Kind::Other("widget".into())));
    assert_eq!(loaded.method, Method::Other("PURGE".into()));
    store
        .update(&name, Timestamp::UNIX_EPOCH, |b| b.description = "d".into())
        .unwrap();
    let text = fs::read_to_string(&spec).unwrap();
    for line in [
        r#"  "runtime": "cobol","#,
        r#"  "kind": "widget","#,
        r#"  "method": "PURGE","#,
    ] {
        assert!(
            text.contains(&format!("\n{line}\n")),
            "{line} not in {text}"
        );
    }
}

/// What would fail only at press time is refused at create, leaving nothing.
#[test]
fn create_refuses_foreign_interpreters_and_undeclared_placeholders() {
    let (_tmp, store) = temp_store();
    let mut b = new("rb");
    b.runtime = ButtonRuntime::Unset;
    let err = store
        .create(NewButton {
            button: b,
            code: CodeSource::Inline("#!/usr/bin/env ruby\nputs 1\n".into()),
            prompt: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(err.to_string().contains("ruby"), "{err}");
    assert!(!store.button_dir(&ButtonName::new("rb").unwrap()).exists());

    let mut b = new("api");
    b.runtime = ButtonRuntime::Unset;
    b.url = "https://api.example.com/{{missing}}".into();
    let err = store
        .create(NewButton {
            button: b,
            code: CodeSource::Scaffold,
            prompt: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(err.to_string().contains("{{missing}}"), "{err}");
    assert!(!store.button_dir(&ButtonName::new("api").unwrap()).exists());
}
