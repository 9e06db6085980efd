//! Integration tests of buttons-store.

mod batteries;
mod crud;
mod hardening;
mod init;
mod perms;
mod record_format;
mod records;

use buttons_spec::{Button, ButtonName, Timestamp};
use buttons_store::{CodeSource, NewButton, Store};

/// A store in a fresh temporary directory (kept alive by the returned guard).
fn temp_store() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::at(tmp.path().join("data")).unwrap();
    store.init().unwrap();
    (tmp, store)
}

/// Creates a shell button `name` with inline `code`.
fn make(store: &Store, name: &str, code: &str) -> ButtonName {
    let name = ButtonName::new(name).unwrap();
    let button = Button::new(&name, Timestamp::UNIX_EPOCH);
    store
        .create(NewButton {
            button,
            code: CodeSource::Inline(code.into()),
            prompt: None,
        })
        .unwrap();
    name
}
