//! Triggers: button presses fired by schedules, files and webhooks, and
//! drawer presses fired by webhooks, for any long-running front end.
//!
//! - [`Schedule`]: a cron spec (5 fields, `@hourly`, `@daily`, …) in local
//!   time, or `@every 30s`.
//! - [`TriggerPool`]: at most [`MAX_TRIGGER_PRESSES`] trigger presses run
//!   at once; up to [`MAX_TRIGGER_WAITING`] more wait, the rest are refused.
//! - [`Triggers`]: reads every button's `triggers` and every drawer's
//!   webhook, runs the cron and watch triggers, keeps the webhook routes
//!   ([`Triggers::route`]) and reloads all of it every second, so triggers
//!   added or removed while it runs take effect within 2 s. Every press
//!   goes through the [`Engine`](crate::Engine).
//! - [`webhook_paths`]: every webhook path in a data directory, for
//!   collision checks when a trigger is added.
//! - [`Engine::add_trigger`](crate::Engine::add_trigger) and
//!   [`Engine::remove_trigger`](crate::Engine::remove_trigger): a button's
//!   triggers added ([`NewTrigger`]) and removed with every check;
//!   [`Engine::set_drawer_webhook`](crate::Engine::set_drawer_webhook) and
//!   [`Engine::remove_drawer_webhook`](crate::Engine::remove_drawer_webhook)
//!   for a drawer's webhook.

mod drawer_hook;
mod manage;
mod pool;
mod runner;
mod schedule;
mod watch;

pub use drawer_hook::{DrawerWebhookSet, GeneratedSecret};
pub use manage::{AddedTrigger, NewTrigger, WebhookToken};
pub use pool::{Admission, MAX_TRIGGER_PRESSES, MAX_TRIGGER_WAITING, TriggerPool, TriggerSlot};
pub use runner::{
    PressRefused, RELOAD_EVERY, TriggerOptions, Triggers, WebhookRoute, webhook_paths,
};
pub use schedule::Schedule;
pub use watch::WATCH_DEBOUNCE;
