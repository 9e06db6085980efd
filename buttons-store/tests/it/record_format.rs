//! The bytes of a record file: streaming the record to its file must write
//! exactly what `serde_json::to_string_pretty` plus a newline wrote before
//! (`golden/record.json` was written by that older code for this record).

use std::collections::BTreeMap;

use buttons_spec::{ErrorCode, PressResult, RunRecord, Status, Timestamp};
use buttons_store::RunId;

use crate::{make, temp_store};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A record with everything awkward a press can produce: NULs, control
/// characters, the replacement characters of invalid UTF-8, quotes,
/// backslashes, non-ASCII text, every optional field set.
pub(crate) fn awkward_record() -> RunRecord {
    let started = at("2026-04-10T14:32:11.123456789Z");
    let mut r = PressResult::new("golden", started);
    let stdout_bytes: &[u8] = b"a\0b\0\0c\xff\xfe tab\t \"quoted\" back\\slash \x01\x1b[31m\x7f \xc3\xa9t\xc3\xa9 \xf0\x9f\x94\x98 cut \xe2\x82\n";
    r.stdout = String::from_utf8_lossy(stdout_bytes).into_owned();
    r.stderr = "warn\0ing\r\n\u{2028}\u{fffd}".to_owned();
    r.exit_code = 3;
    r.status = Status::Error;
    r.error_type = Some(ErrorCode::ScriptError);
    r.duration_ms = 1234;
    r.args = BTreeMap::from([
        ("name".to_owned(), "Ada\0Lovelace".to_owned()),
        ("z".to_owned(), String::new()),
    ]);
    r.progress_path = Some("/data/buttons/golden/pressed/x.jsonl".to_owned());
    let mut record = RunRecord::from_result(&r, at("2026-04-10T14:32:12.357Z"));
    record.http_status_code = Some(502);
    record.drawer_run = Some("deploy/2026-04-10T14-32-11.000000000Z-1-000000".to_owned());
    record
}

#[test]
fn a_streamed_record_is_byte_identical_to_the_golden_one() {
    let (_t, store) = temp_store();
    let name = make(&store, "golden", "true");
    let record = awkward_record();
    let id = RunId::new(record.started_at);
    let path = store.write_run_record(&name, &id, &record).unwrap();
    let written = std::fs::read(&path).unwrap();
    let golden: &[u8] = include_bytes!("golden/record.json");
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(golden)
    );
    assert_eq!(written, golden);
    // And it reads back as the same record.
    let back = store.records(Some(&name), 1).unwrap();
    assert_eq!(back[0].record, record);
}

#[test]
fn a_megabyte_of_nuls_is_written_as_the_pretty_printer_wrote_it() {
    let (_t, store) = temp_store();
    let name = make(&store, "golden", "true");
    let mut record = awkward_record();
    record.stdout = "\0".repeat(buttons_spec::OUTPUT_CAP);
    record.stderr = "\u{fffd}\0".repeat(1000);
    let id = RunId::new(record.started_at);
    let path = store.write_run_record(&name, &id, &record).unwrap();
    let written = std::fs::read(&path).unwrap();
    let mut old = serde_json::to_string_pretty(&record).unwrap();
    old.push('\n');
    assert_eq!(written.len(), old.len());
    assert!(
        written == old.as_bytes(),
        "the record file differs from the old format"
    );
}

#[test]
fn pruning_is_due_only_when_the_count_nears_the_limit() {
    let (_t, store) = temp_store();
    let name = make(&store, "golden", "true");
    let pressed = store.pressed(&name).unwrap();
    // No count kept yet: pruning is what establishes it.
    assert!(pressed.prune_due());
    pressed.make_room().unwrap();
    assert!(!pressed.prune_due());
    let mut record = awkward_record();
    for i in 0..buttons_store::MAX_RECORDS - 1 {
        record.duration_ms = i as u64;
        pressed
            .write_record(&RunId::new(Timestamp::now()), &record)
            .unwrap();
    }
    assert!(!pressed.prune_due(), "99 records: the next one still fits");
    pressed
        .write_record(&RunId::new(Timestamp::now()), &record)
        .unwrap();
    assert!(
        pressed.prune_due(),
        "100 records: the next press makes room"
    );
    pressed.make_room().unwrap();
    assert!(!pressed.prune_due());
    assert_eq!(
        store.records(Some(&name), 1000).unwrap().len(),
        buttons_store::MAX_RECORDS - 1
    );
}
