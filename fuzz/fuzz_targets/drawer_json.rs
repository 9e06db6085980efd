//! Fuzzes `drawer.json` parsing (`Drawer::from_json`) and the validator a
//! drawer goes through before it is saved or pressed.
//!
//! Invariants: no panic on any input; a drawer that parses serialises to
//! JSON that parses again to the same serialisation; validation (with no
//! other buttons or drawers known) and the schema/topology helpers never
//! panic.
#![no_main]

use buttons_spec::{Button, Drawer, DrawerLookup, validate_drawer};
use libfuzzer_sys::fuzz_target;

struct Nothing;

impl DrawerLookup for Nothing {
    fn button(&self, _name: &str) -> Option<Button> {
        None
    }
    fn drawer(&self, _name: &str) -> Option<Drawer> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(drawer) = Drawer::from_json(data) else {
        return;
    };
    let json = drawer.to_json();
    let again = Drawer::from_json(json.as_bytes()).expect("a serialised drawer parses");
    assert_eq!(again.to_json(), json);
    let _ = drawer.kind();
    let _ = drawer.input_schema();
    let _ = drawer.topology();
    let _ = validate_drawer(&drawer, &Nothing);
});
