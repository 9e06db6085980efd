//! Adding and removing a button's triggers, with the checks every front end
//! needs: a valid schedule, an absolute watched path, a webhook path no other
//! trigger or drawer answers (checked and claimed under one lock), a token,
//! arguments the button takes.

use std::path::PathBuf;

use buttons_spec::{
    ButtonName, Timestamp, Trigger, TriggerKind, find_conflict, new_trigger_id,
    normalize_webhook_path, parse_triggers, triggers_value,
};

use super::{Schedule, webhook_paths};
use crate::{ArgInput, Engine, Error, generate_secret};

/// A trigger to add to a button (see [`Engine::add_trigger`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTrigger {
    /// A cron schedule: 5 fields, `@hourly`, `@daily`, … or `@every 30s`
    /// (see [`Schedule`]).
    Cron {
        /// The schedule.
        schedule: String,
    },
    /// A watched file: a change presses the button. A relative path is made
    /// absolute against the current directory.
    Watch {
        /// The file.
        path: PathBuf,
    },
    /// A webhook: a POST to `path` (it must start with `/`; see
    /// [`normalize_webhook_path`]) presses the button.
    Webhook {
        /// The path.
        path: String,
        /// How a call proves it may press.
        token: WebhookToken,
    },
}

/// How a new webhook trigger is authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookToken {
    /// A random token is generated (and returned once, in
    /// [`AddedTrigger::generated_token`]).
    Generate,
    /// This token (surrounding blanks are trimmed; empty is refused).
    Given(String),
    /// No token: anyone who reaches the server can press the button.
    NoAuth,
}

/// A trigger added by [`Engine::add_trigger`].
#[derive(Debug, Clone)]
pub struct AddedTrigger {
    /// The button it belongs to.
    pub button: ButtonName,
    /// The trigger as stored in the button's `triggers`.
    pub trigger: Trigger,
    /// The token generated for a webhook ([`WebhookToken::Generate`]): show
    /// it to the caller now.
    pub generated_token: Option<String>,
}

impl Engine {
    /// Adds a trigger to `button` (a name as a user typed it) with the
    /// arguments each of its presses gets, and returns it with its new id.
    ///
    /// Refused, with nothing written: a schedule [`Schedule::parse`] refuses
    /// (`VALIDATION_ERROR`), a webhook path another button's trigger or a
    /// drawer answers, or that would shadow one (`TRIGGER_CONFLICT`), an
    /// empty token, arguments the button does not take (as a press checks
    /// them), an unknown button (`NOT_FOUND`). A webhook path is checked and
    /// written under the data directory's route lock
    /// ([`buttons_store::Store::lock_webhook_routes`]), so two processes
    /// adding the same path at once cannot both succeed. The id is new among
    /// the button's triggers, read again under the button's own lock.
    pub fn add_trigger(
        &self,
        button: &str,
        new: NewTrigger,
        args: &[(String, String)],
    ) -> Result<AddedTrigger, Error> {
        let loaded = self.load(button)?;
        let now = Timestamp::now();
        let mut generated_token = None;
        // Held until the trigger is written, for webhooks.
        let mut routes = None;
        let mut trigger = match new {
            NewTrigger::Cron { schedule } => {
                Schedule::parse(&schedule)?;
                let mut trigger = Trigger::new(TriggerKind::Cron, now);
                trigger.schedule = Some(schedule.trim().to_owned());
                trigger
            }
            NewTrigger::Watch { path } => {
                let absolute = std::path::absolute(&path).map_err(|e| Error::InvalidTrigger {
                    reason: format!("cannot resolve {}: {e}", path.display()),
                })?;
                let text = absolute.to_str().ok_or_else(|| Error::InvalidTrigger {
                    reason: format!("the path {} is not UTF-8", absolute.display()),
                })?;
                let mut trigger = Trigger::new(TriggerKind::Watch, now);
                trigger.path = Some(text.to_owned());
                trigger
            }
            NewTrigger::Webhook { path, token } => {
                let path = normalize_webhook_path(&path)?;
                routes = Some(self.store().lock_webhook_routes()?);
                let taken = webhook_paths(self.store())?;
                if let Some(conflict) = find_conflict(&path, &taken, None) {
                    return Err(conflict.into());
                }
                let mut trigger = Trigger::new(TriggerKind::Webhook, now);
                trigger.path = Some(path);
                match token {
                    WebhookToken::NoAuth => trigger.no_auth = true,
                    WebhookToken::Given(token) if token.trim().is_empty() => {
                        return Err(Error::InvalidTrigger {
                            reason: "the webhook token is empty".to_owned(),
                        });
                    }
                    WebhookToken::Given(token) => trigger.token = Some(token.trim().to_owned()),
                    WebhookToken::Generate => {
                        let token = generate_secret();
                        generated_token = Some(token.clone());
                        trigger.token = Some(token);
                    }
                }
                trigger
            }
        };
        // The arguments must be ones the button takes, as every press checks.
        loaded.validate(&ArgInput::Text(args.to_vec()))?;
        if !args.is_empty() {
            trigger.args = Some(args.iter().cloned().collect());
        }
        trigger.validate()?;
        self.store()
            .try_update(&loaded.name, now, |spec| -> Result<(), Error> {
                let mut existing = parse_triggers(spec.triggers.as_ref())?;
                while existing.iter().any(|t| t.id == trigger.id) {
                    trigger.id = new_trigger_id();
                }
                existing.push(trigger.clone());
                spec.triggers = Some(triggers_value(&existing));
                Ok(())
            })?;
        drop(routes);
        Ok(AddedTrigger {
            button: loaded.name,
            trigger,
            generated_token,
        })
    }

    /// Removes trigger `id` of `button` (a name as a user typed it), under
    /// the button's lock. An id the button has no trigger of is
    /// [`Error::TriggerNotFound`] (`TRIGGER_NOT_FOUND`, naming the ids it
    /// has), and nothing is written.
    pub fn remove_trigger(&self, button: &str, id: &str) -> Result<ButtonName, Error> {
        let name = ButtonName::from_user(button)?;
        self.store()
            .try_update(&name, Timestamp::now(), |spec| -> Result<(), Error> {
                let mut triggers = parse_triggers(spec.triggers.as_ref())?;
                if !triggers.iter().any(|t| t.id == id) {
                    return Err(Error::TriggerNotFound {
                        button: name.to_string(),
                        id: id.to_owned(),
                        ids: triggers.into_iter().map(|t| t.id).collect(),
                    });
                }
                triggers.retain(|t| t.id != id);
                spec.triggers = Some(triggers_value(&triggers));
                Ok(())
            })?;
        Ok(name)
    }
}
