//! Bounded capture and the line sink.

use std::sync::{Arc, Mutex};

use buttons_exec::{PressOptions, Stream};
use buttons_spec::{OUTPUT_CAP, Status, TRUNCATED_MARKER};

use crate::util::Fixture;

/// 50 MiB on stdout and 3 MiB on stderr: each keeps exactly the first 1 MiB,
/// says so, and the child is drained to its end (it exits 0, it does not block).
#[tokio::test]
async fn output_is_capped_per_stream_and_the_child_is_drained() {
    let fx = Fixture::sh(
        "head -c 52428800 /dev/zero | tr '\\0' a\n\
         head -c 3145728 /dev/zero | tr '\\0' b >&2\n\
         echo finished > done\n",
    );
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.status, Status::Ok, "{}", result.stderr.len());
    assert!(result.truncated);
    for (text, c) in [(&result.stdout, 'a'), (&result.stderr, 'b')] {
        assert_eq!(text.len(), OUTPUT_CAP + TRUNCATED_MARKER.len());
        assert!(text.ends_with(TRUNCATED_MARKER));
        assert!(text[..OUTPUT_CAP].chars().all(|x| x == c));
    }
    assert_eq!(fx.read("done"), "finished\n");
}

#[tokio::test]
async fn output_under_the_cap_is_whole_and_not_truncated() {
    let fx = Fixture::sh("head -c 1048576 /dev/zero | tr '\\0' a\n");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.stdout.len(), OUTPUT_CAP);
    assert!(!result.truncated);
}

#[tokio::test]
async fn invalid_utf8_is_converted_lossily() {
    let fx = Fixture::sh("printf 'ok \\377 end\\n'\n");
    let result = fx.press(PressOptions::default()).await;
    assert_eq!(result.stdout, "ok \u{fffd} end\n");
}

/// Lines are tagged by stream, in order per stream, and a last line without a
/// newline is delivered at the end.
#[tokio::test]
async fn sink_gets_every_line_tagged_and_the_partial_tail() {
    let fx = Fixture::sh("echo one\necho e1 >&2\necho two\nprintf 'tail'\n");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let opts =
        PressOptions::default().sink(move |s, l| log.lock().unwrap().push((s, l.to_owned())));
    let result = fx.press(opts).await;
    assert_eq!(result.stdout, "one\ntwo\ntail");
    let seen = seen.lock().unwrap();
    let out: Vec<&str> = seen
        .iter()
        .filter(|(s, _)| *s == Stream::Stdout)
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(out, ["one", "two", "tail"]);
    assert!(seen.contains(&(Stream::Stderr, "e1".to_owned())));
    assert_eq!(seen.len(), 4);
}

/// The sink sees everything, also what the result no longer keeps.
#[tokio::test]
async fn sink_sees_lines_past_the_cap() {
    let fx = Fixture::sh(
        "i=0\nwhile [ $i -lt 40000 ]; do echo 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; i=$((i+1)); done\necho last\n",
    );
    let count = Arc::new(Mutex::new((0_usize, String::new())));
    let log = Arc::clone(&count);
    let opts = PressOptions::default().sink(move |_, l| {
        let mut c = log.lock().unwrap();
        c.0 += 1;
        c.1 = l.to_owned();
    });
    let result = fx.press(opts).await;
    assert!(result.truncated);
    assert_eq!(*count.lock().unwrap(), (40_001, "last".to_owned()));
}
