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
