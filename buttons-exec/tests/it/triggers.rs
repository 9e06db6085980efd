//! [`Triggers`] over a real store: webhook routes, timed presses through the
//! engine, reloads, and webhook presses in the pool.

use std::time::{Duration, Instant};

use buttons_exec::{Engine, TriggerOptions, Triggers, WebhookRoute, webhook_paths};
use buttons_spec::{
    Button, ButtonName, Timestamp, Trigger, TriggerKind, find_conflict, triggers_value,
};
use buttons_store::{CodeSource, NewButton, Store};

fn button(store: &Store, name: &str, code: &str, triggers: &[Trigger]) {
    let mut button = Button::new(&ButtonName::new(name).unwrap(), Timestamp::now());
    button.triggers = Some(triggers_value(triggers));
    store
        .create(NewButton {
            button,
            code: CodeSource::Inline(code.into()),
            prompt: None,
        })
        .unwrap();
}

fn webhook(path: &str, token: &str) -> Trigger {
    let mut t = Trigger::new(TriggerKind::Webhook, Timestamp::now());
    t.path = Some(path.into());
    t.token = Some(token.into());
    t
}

fn engine(store: Store) -> Engine {
    Engine::new(store).base_env([("PATH".into(), "/usr/bin:/bin".into())])
}

#[tokio::test]
async fn routes_follow_the_files_and_presses_go_through_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path()).unwrap();
    button(
        &store,
        "hook",
        "echo hooked",
        &[webhook("/hooks/a/", "tok")],
    );
    let mut cron = Trigger::new(TriggerKind::Cron, Timestamp::now());
    cron.schedule = Some("@every 1s".into());
    button(&store, "tick", "echo tick", &[cron]);

    let taken = webhook_paths(&store).unwrap();
    assert!(find_conflict("/hooks/a", &taken, None).is_some());

    let triggers = Triggers::start(engine(store.clone()), TriggerOptions::default());
    assert_eq!(triggers.paths(), ["/hooks/a"]);
    assert_eq!(triggers.timed_count(), 1);
    let Some(WebhookRoute::Button { name, trigger }) = triggers.route("/HOOKS/a") else {
        panic!("no route");
    };
    let run_id = triggers
        .press_webhook_button(&name, &trigger)
        .await
        .unwrap();
    assert!(!run_id.is_empty());

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let hook = store
            .records(Some(&ButtonName::new("hook").unwrap()), 10)
            .unwrap();
        let tick = store
            .records(Some(&ButtonName::new("tick").unwrap()), 10)
            .unwrap();
        if hook.len() == 1 && !tick.is_empty() {
            assert_eq!(hook[0].id.as_str(), run_id);
            assert_eq!(hook[0].record.stdout, "hooked\n");
            break;
        }
        assert!(Instant::now() < deadline, "no presses recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Removing the triggers from the files removes the route and the timer.
    for name in ["hook", "tick"] {
        store
            .update(&ButtonName::new(name).unwrap(), Timestamp::now(), |b| {
                b.triggers = Some(triggers_value(&[]));
            })
            .unwrap();
    }
    triggers.reload();
    assert!(triggers.route("/hooks/a").is_none());
    assert_eq!(triggers.timed_count(), 0);
    triggers.stop();
    assert!(triggers.pool().wait_idle(Duration::from_secs(20)).await);
}

#[test]
fn concurrent_adds_of_one_webhook_path_leave_one_owner() {
    // Sixteen buttons try to claim the same path at once: the route lock lets
    // exactly one in (without it, every adder lists the routes before any
    // writes, and several win).
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path()).unwrap();
    let names: Vec<String> = (0..16).map(|i| format!("b{i}")).collect();
    for name in &names {
        button(&store, name, "true", &[]);
    }
    let barrier = std::sync::Barrier::new(names.len());
    let outcomes: Vec<Result<buttons_exec::AddedTrigger, buttons_exec::Error>> =
        std::thread::scope(|s| {
            let handles: Vec<_> = names
                .iter()
                .map(|name| {
                    let engine = Engine::new(Store::at(tmp.path()).unwrap());
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        engine.add_trigger(
                            name,
                            buttons_exec::NewTrigger::Webhook {
                                path: "/hooks/shared".into(),
                                token: buttons_exec::WebhookToken::Generate,
                            },
                            &[],
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(refused.code(), buttons_spec::ErrorCode::TriggerConflict);
    }
    let paths = webhook_paths(&store).unwrap();
    assert_eq!(paths.len(), 1, "{paths:?}");
}

#[test]
fn triggers_are_added_with_their_checks_and_removed_by_id() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path()).unwrap();
    button(&store, "job", "true", &[]);
    let engine = Engine::new(store);
    let cron = |schedule: &str| buttons_exec::NewTrigger::Cron {
        schedule: schedule.into(),
    };
    // A bad schedule, an empty token or an argument the button does not take
    // are refused, and nothing is written.
    let bad = engine
        .add_trigger("job", cron("every tuesday"), &[])
        .unwrap_err();
    assert_eq!(
        bad.code(),
        buttons_spec::ErrorCode::ValidationError,
        "{bad}"
    );
    let empty = buttons_exec::NewTrigger::Webhook {
        path: "/hooks/job".into(),
        token: buttons_exec::WebhookToken::Given("  ".into()),
    };
    let bad = engine.add_trigger("job", empty, &[]).unwrap_err();
    assert!(
        matches!(bad, buttons_exec::Error::InvalidTrigger { .. }),
        "{bad}"
    );
    let bad = engine
        .add_trigger("job", cron("@hourly"), &[("nope".into(), "1".into())])
        .unwrap_err();
    assert_eq!(
        bad.code(),
        buttons_spec::ErrorCode::ValidationError,
        "{bad}"
    );
    let stored = |engine: &Engine| {
        let spec = engine
            .store()
            .load(&ButtonName::new("job").unwrap())
            .unwrap();
        buttons_spec::parse_triggers(spec.triggers.as_ref()).unwrap()
    };
    assert!(stored(&engine).is_empty());

    // Added: a schedule trimmed, a watched path made absolute, a token made.
    let added = engine.add_trigger("job", cron(" @hourly "), &[]).unwrap();
    assert_eq!(added.trigger.schedule.as_deref(), Some("@hourly"));
    let watch = buttons_exec::NewTrigger::Watch {
        path: "relative/file.txt".into(),
    };
    let watched = engine.add_trigger("job", watch, &[]).unwrap();
    let path = watched.trigger.path.clone().unwrap();
    assert!(std::path::Path::new(&path).is_absolute(), "{path}");
    let hook = buttons_exec::NewTrigger::Webhook {
        path: "/hooks/job".into(),
        token: buttons_exec::WebhookToken::Generate,
    };
    let hooked = engine.add_trigger("job", hook, &[]).unwrap();
    assert_eq!(hooked.trigger.path.as_deref(), Some("/hooks/job"));
    let token = hooked.generated_token.clone().unwrap();
    assert_eq!(hooked.trigger.token.as_deref(), Some(token.as_str()));
    assert_eq!(stored(&engine).len(), 3);

    // Removed by id; an unknown id names the ones there are.
    let missing = engine.remove_trigger("job", "nope").unwrap_err();
    assert_eq!(missing.code(), buttons_spec::ErrorCode::TriggerNotFound);
    let hint = missing.hint().unwrap();
    assert!(hint.contains(&added.trigger.id), "{hint}");
    engine.remove_trigger("job", &added.trigger.id).unwrap();
    let left = stored(&engine);
    let ids: Vec<&str> = left.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [watched.trigger.id.as_str(), hooked.trigger.id.as_str()]
    );
}

#[test]
fn a_drawer_webhook_claims_its_path_and_keeps_its_secret_as_a_battery() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path()).unwrap();
    button(&store, "job", "true", &[webhook("/hooks/taken", "t0ken")]);
    let name = ButtonName::new("release").unwrap();
    let blank = buttons_spec::Drawer::new(
        "release",
        buttons_spec::DrawerKind::Action,
        Timestamp::now(),
    );
    store.create_drawer(&blank).unwrap();
    let engine = Engine::new(store);
    let header = || buttons_spec::WebhookAuth {
        kind: "header".into(),
        ..buttons_spec::WebhookAuth::default()
    };
    // A path a button trigger answers is refused; nothing is written.
    let taken = engine
        .set_drawer_webhook("release", Some("/hooks/taken"), header())
        .unwrap_err();
    assert_eq!(
        taken.code(),
        buttons_spec::ErrorCode::TriggerConflict,
        "{taken}"
    );
    let unknown = buttons_spec::WebhookAuth {
        kind: "magic".into(),
        ..buttons_spec::WebhookAuth::default()
    };
    let bad = engine
        .set_drawer_webhook("release", None, unknown)
        .unwrap_err();
    assert_eq!(
        bad.code(),
        buttons_spec::ErrorCode::ValidationError,
        "{bad}"
    );
    let spec = engine.store().load_drawer(&name).unwrap();
    assert!(
        buttons_spec::drawer_webhook(spec.triggers.as_ref())
            .unwrap()
            .is_none()
    );

    // The default path; the generated value lives in a battery, drawer.json
    // names it.
    let set = engine
        .set_drawer_webhook("release", None, header())
        .unwrap();
    assert_eq!(set.hook.path, "/hooks/release");
    let secret = set.generated.unwrap();
    assert_eq!(secret.battery, "WEBHOOK_RELEASE_TOKEN");
    let batteries = engine.store().merged_batteries().unwrap();
    assert_eq!(batteries.get(&secret.battery), Some(secret.value.as_str()));
    let text = std::fs::read_to_string(tmp.path().join("drawers/release/drawer.json")).unwrap();
    assert!(!text.contains(&secret.value), "{text}");
    assert!(text.contains("$BATTERY{WEBHOOK_RELEASE_TOKEN}"), "{text}");
    // Its own path again is no conflict; then it is removed.
    engine
        .set_drawer_webhook("release", Some("/hooks/release"), header())
        .unwrap();
    engine.remove_drawer_webhook("release").unwrap();
    let spec = engine.store().load_drawer(&name).unwrap();
    assert!(
        buttons_spec::drawer_webhook(spec.triggers.as_ref())
            .unwrap()
            .is_none()
    );
}
