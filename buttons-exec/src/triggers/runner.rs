//! Loading, running and reloading the triggers of one data directory.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use buttons_spec::{
    ButtonName, RouteOwner, Trigger, TriggerKind, WebhookPath, drawer_webhook,
    normalize_webhook_path, parse_triggers, resolve_routes,
};
use buttons_store::{RunId, Store};
use serde_json::{Map, Value};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::pool::TriggerPool;
use super::schedule::Schedule;
use super::watch::watch_file;
use crate::drawer::{DrawerOptions, DrawerRequest};
use crate::engine::{Engine, PressRequest};
use crate::error::Error;
use crate::webhook::Authenticator;
use crate::{PressEvent, PressOptions};

/// How often triggers are read again.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// How [`Triggers`] runs.
#[derive(Debug, Clone)]
pub struct TriggerOptions {
    /// Run cron and watch triggers (a webhook-only listener sets `false`).
    pub timed: bool,
    /// Serve button webhook triggers.
    pub button_webhooks: bool,
    /// Serve drawer webhooks.
    pub drawer_webhooks: bool,
    /// What drawers' `$ENV{…}` references and webhook secrets read.
    pub env: BTreeMap<String, String>,
    /// Becomes `true` when running presses must end (their records are
    /// still written).
    pub cancel: Option<watch::Receiver<bool>>,
    /// How often triggers are read again.
    pub reload_every: Duration,
}

impl Default for TriggerOptions {
    fn default() -> Self {
        Self {
            timed: true,
            button_webhooks: true,
            drawer_webhooks: true,
            env: BTreeMap::new(),
            cancel: None,
            reload_every: RELOAD_EVERY,
        }
    }
}

/// What serves a webhook path.
#[derive(Debug, Clone)]
pub enum WebhookRoute {
    /// A button's webhook trigger.
    Button {
        /// The button.
        name: ButtonName,
        /// The trigger (its token, args).
        trigger: Box<Trigger>,
    },
    /// A drawer's webhook.
    Drawer {
        /// The drawer.
        name: String,
        /// Its authentication, secrets resolved.
        auth: Arc<Authenticator>,
    },
}

/// Why a trigger press did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum PressRefused {
    /// The pool's line is full.
    Busy,
    /// The press could not start (no such button, bad arguments, …).
    Failed(Error),
}

/// Every trigger of one data directory, running.
///
/// Cloning gives another handle to the same triggers.
#[derive(Debug, Clone)]
pub struct Triggers {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    engine: Engine,
    options: TriggerOptions,
    pool: TriggerPool,
    routes: RwLock<HashMap<String, WebhookRoute>>,
    problems: Mutex<Vec<String>>,
    timed: Mutex<HashMap<String, (String, JoinHandle<()>)>>,
    reloader: Mutex<Option<JoinHandle<()>>>,
}

/// Every webhook path in `store` (button triggers and drawer webhooks), for
/// [`buttons_spec::find_conflict`]. Unreadable buttons and drawers, and
/// paths that are not valid, are left out.
pub fn webhook_paths(store: &Store) -> Result<Vec<WebhookPath>, Error> {
    let mut out = Vec::new();
    for entry in store.list()? {
        let Ok(button) = entry.button else { continue };
        for t in parse_triggers(button.triggers.as_ref()).unwrap_or_default() {
            if t.kind() != Some(TriggerKind::Webhook) {
                continue;
            }
            if let Some(path) = t
                .path
                .as_deref()
                .and_then(|p| normalize_webhook_path(p).ok())
            {
                out.push(WebhookPath {
                    path,
                    owner: RouteOwner::Button {
                        name: button.name.clone(),
                        id: t.id.clone(),
                    },
                });
            }
        }
    }
    for entry in store.list_drawers()? {
        let Ok(drawer) = entry.drawer else { continue };
        if let Ok(Some(hook)) = drawer_webhook(drawer.triggers.as_ref())
            && let Ok(path) = normalize_webhook_path(&hook.path)
        {
            out.push(WebhookPath {
                path,
                owner: RouteOwner::Drawer {
                    name: drawer.name.clone(),
                },
            });
        }
    }
    Ok(out)
}

impl Triggers {
    /// Loads the triggers, starts the cron and watch ones and the reloader.
    /// Must be called inside a tokio runtime.
    pub fn start(engine: Engine, options: TriggerOptions) -> Self {
        let every = options.reload_every;
        let triggers = Self {
            inner: Arc::new(Inner {
                engine,
                options,
                pool: TriggerPool::default(),
                routes: RwLock::new(HashMap::new()),
                problems: Mutex::new(Vec::new()),
                timed: Mutex::new(HashMap::new()),
                reloader: Mutex::new(None),
            }),
        };
        triggers.reload();
        let weak = Arc::downgrade(&triggers.inner);
        let reloader = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let this = Self { inner };
                // Listing files blocks: keep it off the async workers.
                let handle = this.clone();
                let _ = tokio::task::spawn_blocking(move || handle.scan())
                    .await
                    .map(|scanned| this.apply(scanned));
            }
        });
        *lock(&triggers.inner.reloader) = Some(reloader);
        triggers
    }

    /// Reads the triggers again now (the reloader does it every second).
    pub fn reload(&self) {
        let scanned = self.scan();
        self.apply(scanned);
    }

    /// The pool trigger presses run in.
    pub fn pool(&self) -> &TriggerPool {
        &self.inner.pool
    }

    /// The route of a webhook path (compared without regard to case, a
    /// trailing `/` ignored).
    pub fn route(&self, path: &str) -> Option<WebhookRoute> {
        let key = route_key(path);
        self.inner
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned()
    }

    /// The webhook paths served, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .inner
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        paths.sort();
        paths
    }

    /// The cron and watch triggers running.
    pub fn timed_count(&self) -> usize {
        lock(&self.inner.timed).len()
    }

    /// What the last load refused (invalid triggers, colliding paths).
    pub fn problems(&self) -> Vec<String> {
        lock(&self.inner.problems).clone()
    }

    /// Stops the reloader and the cron and watch triggers; presses that
    /// run go on (see [`TriggerPool::wait_idle`]).
    pub fn stop(&self) {
        if let Some(r) = lock(&self.inner.reloader).take() {
            r.abort();
        }
        for (_, (_, task)) in lock(&self.inner.timed).drain() {
            task.abort();
        }
        self.inner
            .routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    fn scan(&self) -> Scanned {
        let options = &self.inner.options;
        let store = self.inner.engine.store();
        let mut scanned = Scanned::default();
        let mut paths = Vec::new();
        let mut buttons: HashMap<RouteOwner, WebhookRoute> = HashMap::new();
        match store.list() {
            Ok(list) => {
                for entry in list {
                    let Ok(button) = entry.button else { continue };
                    let Ok(name) = ButtonName::new(&button.name) else {
                        continue;
                    };
                    let triggers = match parse_triggers(button.triggers.as_ref()) {
                        Ok(t) => t,
                        Err(e) => {
                            scanned.problems.push(format!("button {name}: {e}"));
                            continue;
                        }
                    };
                    for t in triggers {
                        if let Err(e) = t.validate() {
                            scanned
                                .problems
                                .push(format!("button {name}, trigger {}: {e}", t.id));
                            continue;
                        }
                        match t.kind() {
                            Some(TriggerKind::Webhook) if options.button_webhooks => {
                                let path = normalize_webhook_path(t.path.as_deref().unwrap_or(""))
                                    .expect("validated");
                                let owner = RouteOwner::Button {
                                    name: name.to_string(),
                                    id: t.id.clone(),
                                };
                                paths.push(WebhookPath {
                                    path,
                                    owner: owner.clone(),
                                });
                                buttons.insert(
                                    owner,
                                    WebhookRoute::Button {
                                        name: name.clone(),
                                        trigger: Box::new(t),
                                    },
                                );
                            }
                            Some(TriggerKind::Cron | TriggerKind::Watch) if options.timed => {
                                scanned.timed.push((name.clone(), t));
                            }
                            _ => {}
                        }
                    }
                }
            }
            Err(e) => scanned
                .problems
                .push(format!("cannot list the buttons: {e}")),
        }
        if options.drawer_webhooks {
            let batteries = store.merged_batteries().unwrap_or_default();
            for entry in store.list_drawers().unwrap_or_default() {
                let Ok(drawer) = entry.drawer else { continue };
                let hook = match drawer_webhook(drawer.triggers.as_ref()) {
                    Ok(Some(hook)) => hook,
                    Ok(None) => continue,
                    Err(e) => {
                        scanned
                            .problems
                            .push(format!("drawer {}: {e}", drawer.name));
                        continue;
                    }
                };
                let path = match normalize_webhook_path(&hook.path) {
                    Ok(p) => p,
                    Err(e) => {
                        scanned
                            .problems
                            .push(format!("drawer {}: {e}", drawer.name));
                        continue;
                    }
                };
                let owner = RouteOwner::Drawer {
                    name: drawer.name.clone(),
                };
                paths.push(WebhookPath {
                    path,
                    owner: owner.clone(),
                });
                let auth = Authenticator::new(&hook.auth, &options.env, &batteries);
                buttons.insert(
                    owner,
                    WebhookRoute::Drawer {
                        name: drawer.name.clone(),
                        auth: Arc::new(auth),
                    },
                );
            }
        }
        let (served, refused) = resolve_routes(paths);
        scanned
            .problems
            .extend(refused.into_iter().map(|e| e.to_string()));
        for p in served {
            if let Some(route) = buttons.remove(&p.owner) {
                scanned.routes.insert(route_key(&p.path), route);
            }
        }
        scanned
    }

    fn apply(&self, scanned: Scanned) {
        {
            let mut problems = lock(&self.inner.problems);
            for p in &scanned.problems {
                if !problems.contains(p) {
                    tracing::warn!(problem = %p, "a trigger is not served");
                }
            }
            *problems = scanned.problems;
        }
        *self
            .inner
            .routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = scanned.routes;
        let mut timed = lock(&self.inner.timed);
        let mut wanted: HashMap<String, (String, ButtonName, Trigger)> = HashMap::new();
        for (name, t) in scanned.timed {
            let key = format!("{name}/{}", t.id);
            let sig = serde_json::to_string(&t).unwrap_or_default();
            wanted.insert(key, (sig, name, t));
        }
        timed.retain(|key, (sig, task)| {
            let keep = wanted.get(key).is_some_and(|(s, _, _)| s == sig);
            if !keep {
                task.abort();
            }
            keep
        });
        for (key, (sig, name, t)) in wanted {
            if timed.contains_key(&key) {
                continue;
            }
            match self.spawn_timed(name.clone(), t.clone()) {
                Ok(task) => {
                    timed.insert(key, (sig, task));
                }
                Err(e) => {
                    let problem = format!("button {name}, trigger {}: {e}", t.id);
                    let mut problems = lock(&self.inner.problems);
                    if !problems.contains(&problem) {
                        tracing::warn!(problem = %problem, "a trigger is not served");
                        problems.push(problem);
                    }
                }
            }
        }
    }

    fn spawn_timed(&self, name: ButtonName, trigger: Trigger) -> Result<JoinHandle<()>, Error> {
        let weak = Arc::downgrade(&self.inner);
        match trigger.kind() {
            Some(TriggerKind::Cron) => {
                let schedule = Schedule::parse(trigger.schedule.as_deref().unwrap_or(""))?;
                Ok(tokio::spawn(async move {
                    run_cron(weak, name, trigger, schedule).await;
                }))
            }
            _ => {
                let path = PathBuf::from(trigger.path.clone().unwrap_or_default());
                Ok(tokio::spawn(async move {
                    watch_file(path, move || {
                        let Some(inner) = weak.upgrade() else { return };
                        let this = Triggers { inner };
                        this.fire(&name, &trigger, None);
                    })
                    .await;
                }))
            }
        }
    }

    /// Starts a press of a timed trigger in the pool (refused, and logged,
    /// when the line is full). `running` is cleared when it ends.
    fn fire(&self, name: &ButtonName, trigger: &Trigger, running: Option<Arc<AtomicBool>>) {
        let Some(admission) = self.inner.pool.try_admit() else {
            tracing::warn!(button = %name, trigger = %trigger.id, "the trigger pool is full: not pressed");
            if let Some(r) = running {
                r.store(false, Ordering::Release);
            }
            return;
        };
        let request = press_request(name, trigger);
        let engine = self.inner.engine.clone();
        let options = self.press_options();
        let (name, id) = (name.clone(), trigger.id.clone());
        tokio::spawn(async move {
            let _slot = admission.start().await;
            match engine.press(&request, options).await {
                Ok(ran) => {
                    tracing::info!(button = %name, trigger = %id, run = %ran.id.as_str(), "trigger pressed");
                }
                Err(e) => {
                    tracing::warn!(button = %name, trigger = %id, error = %e, "trigger press failed")
                }
            }
            if let Some(r) = running {
                r.store(false, Ordering::Release);
            }
        });
    }

    fn press_options(&self) -> PressOptions {
        let mut options = PressOptions::default();
        if let Some(mut cancel) = self.inner.options.cancel.clone() {
            options = options.cancel_on(async move {
                if cancel.wait_for(|c| *c).await.is_err() {
                    std::future::pending::<()>().await;
                }
            });
        }
        options
    }

    /// Presses a button for its webhook trigger: waits for a pool slot,
    /// starts the press and answers with the run's id as soon as it runs
    /// (the press goes on, and is recorded, whatever the caller does).
    pub async fn press_webhook_button(
        &self,
        name: &ButtonName,
        trigger: &Trigger,
    ) -> Result<String, PressRefused> {
        let admission = self.inner.pool.try_admit().ok_or(PressRefused::Busy)?;
        let request = press_request(name, trigger);
        let engine = self.inner.engine.clone();
        let (tx, rx) = oneshot::channel::<Result<String, Error>>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let started = Arc::clone(&tx);
        let options = self.press_options().on_event(move |event| {
            if let PressEvent::Started { progress_path } = event {
                let id = progress_path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(|n| n.trim_end_matches(".jsonl").to_owned())
                    .unwrap_or_default();
                if let Some(tx) = lock(&started).take() {
                    let _ = tx.send(Ok(id));
                }
            }
        });
        tokio::spawn(async move {
            let _slot = admission.start().await;
            let ran = engine.press(&request, options).await;
            if let Some(tx) = lock(&tx).take() {
                let _ = tx.send(ran.map(|r| r.id.as_str().to_owned()));
            }
        });
        match rx.await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => Err(PressRefused::Failed(e)),
            Err(_) => Err(PressRefused::Failed(Error::Task(
                "the press task ended early".to_owned(),
            ))),
        }
    }

    /// Presses a drawer for its webhook, in the pool: `payload` (see
    /// [`crate::webhook_payload`]) is its `webhook` root and its
    /// `inputs.webhook`. Answers with the run's id as soon as the press is
    /// admitted and its checks pass (a missing drawer or an input it refuses
    /// is the answer instead); the run goes on in the pool and is recorded
    /// under that id.
    pub async fn press_webhook_drawer(
        &self,
        name: &str,
        payload: Value,
    ) -> Result<RunId, PressRefused> {
        let admission = self.inner.pool.try_admit().ok_or(PressRefused::Busy)?;
        let mut inputs = Map::new();
        inputs.insert("webhook".into(), payload.clone());
        let request = DrawerRequest {
            name: name.to_owned(),
            inputs,
            webhook_body: Some(payload),
            env: self.inner.options.env.clone(),
        };
        let engine = self.inner.engine.clone();
        // What would refuse the press refuses the call (nothing runs); then
        // the answer names the run, which goes on in the pool.
        let (drawer, _) = engine
            .load_drawer_for_press(name)
            .map_err(PressRefused::Failed)?;
        crate::check_inputs(&drawer, &request.inputs).map_err(PressRefused::Failed)?;
        let id = RunId::new(buttons_spec::Timestamp::now());
        let cancel = self.inner.options.cancel.clone();
        let run_id = id.clone();
        tokio::spawn(async move {
            let _slot = admission.start().await;
            let options = DrawerOptions {
                cancel: cancel.map(|mut c| -> crate::Cancel {
                    Box::pin(async move {
                        if c.wait_for(|v| *v).await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    })
                }),
                run_id: Some(run_id),
                ..DrawerOptions::default()
            };
            if let Err(e) = engine.press_drawer(&request, options).await {
                tracing::warn!(drawer = %request.name, error = %e, "a webhook's drawer press was refused");
            }
        });
        Ok(id)
    }
}

async fn run_cron(
    weak: std::sync::Weak<Inner>,
    name: ButtonName,
    trigger: Trigger,
    schedule: Schedule,
) {
    let running = Arc::new(AtomicBool::new(false));
    let mut next_every = match &schedule {
        Schedule::Every(d) => Some(tokio::time::Instant::now() + *d),
        Schedule::Cron(_) => None,
    };
    loop {
        match (&schedule, next_every.as_mut()) {
            (Schedule::Every(d), Some(next)) => {
                tokio::time::sleep_until(*next).await;
                *next += *d;
                // A long stall (a suspended machine) skips, it does not burst.
                let now = tokio::time::Instant::now();
                while *next <= now {
                    *next += *d;
                }
            }
            _ => {
                let Some(delay) = schedule.delay_after(chrono::Local::now()) else {
                    tracing::warn!(button = %name, trigger = %trigger.id, "the schedule never fires again");
                    return;
                };
                tokio::time::sleep(delay).await;
            }
        }
        let Some(inner) = weak.upgrade() else { return };
        if running.swap(true, Ordering::AcqRel) {
            tracing::info!(button = %name, trigger = %trigger.id, "the previous run still runs: skipped");
            continue;
        }
        Triggers { inner }.fire(&name, &trigger, Some(Arc::clone(&running)));
    }
}

fn press_request(name: &ButtonName, trigger: &Trigger) -> PressRequest {
    let mut request = PressRequest::new(name.as_str());
    for (k, v) in trigger.args.iter().flatten() {
        request = request.arg(k.clone(), v.clone());
    }
    request
}

fn route_key(path: &str) -> String {
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    trimmed.to_ascii_lowercase()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Default)]
struct Scanned {
    timed: Vec<(ButtonName, Trigger)>,
    routes: HashMap<String, WebhookRoute>,
    problems: Vec<String>,
}
