//! A drawer's webhook set or removed, with the checks every front end needs:
//! a path no button trigger or other drawer answers (checked and claimed
//! under the route lock), valid credentials, and a generated secret kept as
//! a battery rather than in `drawer.json`.

use buttons_spec::{
    AuthKind, ButtonName, DEFAULT_AUTH_HEADER, DrawerWebhook, RouteOwner, Timestamp, WebhookAuth,
    drawer_webhook, find_conflict, normalize_webhook_path, set_drawer_webhook,
};

use super::webhook_paths;
use crate::{Engine, Error, generate_secret};

/// A drawer webhook set by [`Engine::set_drawer_webhook`].
#[derive(Debug, Clone)]
pub struct DrawerWebhookSet {
    /// The drawer.
    pub drawer: ButtonName,
    /// The webhook as written in `drawer.json`.
    pub hook: DrawerWebhook,
    /// The `header` value generated for it, if one was: show it now.
    pub generated: Option<GeneratedSecret>,
}

/// A secret generated for a drawer webhook, kept as a battery (the webhook
/// names it as `$BATTERY{KEY}`).
#[derive(Debug, Clone)]
pub struct GeneratedSecret {
    /// The battery's key, `WEBHOOK_<NAME>_TOKEN`.
    pub battery: String,
    /// The value (32 random bytes, hex).
    pub value: String,
}

impl Engine {
    /// Sets the webhook of `drawer` (a name as a user typed it): `path`
    /// (default `/hooks/NAME`), authenticated as `auth` says (its `kind`
    /// `none`, `basic`, `header` or `jwt`).
    ///
    /// A `header` auth with no `header_name` uses [`DEFAULT_AUTH_HEADER`];
    /// with no `header_value` it gets a generated 32-byte value, kept as the
    /// battery `WEBHOOK_<NAME>_TOKEN` (in the store's default scope) and
    /// written as `$BATTERY{WEBHOOK_<NAME>_TOKEN}`. A `jwt` auth with no
    /// algorithm uses `HS256`. Fields of an earlier webhook this build does
    /// not know are kept.
    ///
    /// Refused, with nothing written: an unknown drawer (`NOT_FOUND`), a bad
    /// path, a path a button trigger or another drawer answers
    /// (`TRIGGER_CONFLICT`), an unknown auth kind or incomplete credentials
    /// (`VALIDATION_ERROR`). The path is checked and written under the data
    /// directory's route lock
    /// ([`buttons_store::Store::lock_webhook_routes`]).
    pub fn set_drawer_webhook(
        &self,
        drawer: &str,
        path: Option<&str>,
        mut auth: WebhookAuth,
    ) -> Result<DrawerWebhookSet, Error> {
        let name = ButtonName::from_user(drawer)?;
        let existing = self.store().load_drawer(&name)?;
        let path =
            normalize_webhook_path(&path.map_or_else(|| format!("/hooks/{name}"), str::to_owned))?;
        let _routes = self.store().lock_webhook_routes()?;
        let taken = webhook_paths(self.store())?;
        let me = RouteOwner::Drawer {
            name: name.to_string(),
        };
        if let Some(conflict) = find_conflict(&path, &taken, Some(&me)) {
            return Err(conflict.into());
        }
        let kind = AuthKind::parse(&auth.kind).ok_or_else(|| Error::InvalidTrigger {
            reason: format!("unknown webhook auth {:?}", auth.kind),
        })?;
        auth.kind = kind.as_str().to_owned();
        let mut generated = None;
        match kind {
            AuthKind::Header => {
                auth.header_name
                    .get_or_insert_with(|| DEFAULT_AUTH_HEADER.to_owned());
                if auth.header_value.is_none() {
                    let battery = format!(
                        "WEBHOOK_{}_TOKEN",
                        name.as_str().to_ascii_uppercase().replace('-', "_")
                    );
                    auth.header_value = Some(format!("$BATTERY{{{battery}}}"));
                    generated = Some(GeneratedSecret {
                        battery,
                        value: generate_secret(),
                    });
                }
            }
            AuthKind::Jwt => {
                auth.jwt_algorithm.get_or_insert_with(|| "HS256".to_owned());
            }
            AuthKind::None | AuthKind::Basic => {}
        }
        auth.validate()?;
        // The value is never in drawer.json: a battery holds it.
        if let Some(secret) = &generated {
            let scope = self.store().default_scope();
            self.store()
                .set_battery(scope, &secret.battery, &secret.value)?;
        }
        let now = Timestamp::now();
        let hook = DrawerWebhook {
            path,
            auth,
            created_at: Some(now),
            extra: drawer_webhook(existing.triggers.as_ref())
                .ok()
                .flatten()
                .map(|h| h.extra)
                .unwrap_or_default(),
        };
        self.store().update_drawer(&name, now, |d| {
            set_drawer_webhook(&mut d.triggers, Some(&hook));
            Ok::<_, Error>(())
        })?;
        Ok(DrawerWebhookSet {
            drawer: name,
            hook,
            generated,
        })
    }

    /// Removes the webhook of `drawer` (a name as a user typed it); an
    /// unknown drawer is `NOT_FOUND`.
    pub fn remove_drawer_webhook(&self, drawer: &str) -> Result<ButtonName, Error> {
        let name = ButtonName::from_user(drawer)?;
        self.store().update_drawer(&name, Timestamp::now(), |d| {
            set_drawer_webhook(&mut d.triggers, None);
            Ok::<_, Error>(())
        })?;
        Ok(name)
    }
}
