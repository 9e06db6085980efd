//! Bounded capture of a child's output, and splitting it into lines for a sink.
//!
//! Each stream keeps its first [`OUTPUT_CAP`] bytes and only counts the rest,
//! while the pipe is read to its end through one fixed buffer: a child writing
//! gigabytes neither blocks on a full pipe nor grows the caller's memory.

use std::sync::{Mutex, PoisonError};

use buttons_spec::{OUTPUT_CAP, TRUNCATED_MARKER};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::context::{LineSink, Stream};

/// The longest line handed to a [`LineSink`](crate::LineSink) in one piece: 64 KiB.
pub const MAX_LINE: usize = 64 * 1024;

/// The size of the buffer each pipe is read through.
const READ_BUF: usize = 64 * 1024;

/// The captured output of one stream.
#[derive(Debug)]
pub(crate) struct StreamCapture {
    stream: Stream,
    /// The first `OUTPUT_CAP` bytes.
    kept: Vec<u8>,
    /// Every byte read, kept or not.
    total: u64,
    /// The line being assembled for the sink (at most `MAX_LINE` bytes).
    partial: Vec<u8>,
}

impl StreamCapture {
    pub(crate) fn new(stream: Stream) -> Self {
        Self {
            stream,
            kept: Vec::new(),
            total: 0,
            partial: Vec::new(),
        }
    }

    /// Takes in one chunk: keeps what fits under the cap and hands complete
    /// lines to `sink`.
    pub(crate) fn push(&mut self, chunk: &[u8], sink: Option<&mut LineSink>) {
        self.total = self.total.saturating_add(chunk.len() as u64);
        let room = OUTPUT_CAP.saturating_sub(self.kept.len());
        self.kept
            .extend_from_slice(chunk.get(..room).unwrap_or(chunk));
        if let Some(sink) = sink {
            self.split_lines(chunk, sink);
        }
    }

    fn split_lines(&mut self, mut chunk: &[u8], sink: &mut LineSink) {
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
            let (line, rest) = chunk.split_at(pos);
            if self.partial.is_empty() {
                emit(self.stream, line, sink);
            } else {
                self.partial.extend_from_slice(line);
                emit(self.stream, &self.partial, sink);
                self.partial.clear();
            }
            chunk = &rest[1..];
        }
        while self.partial.len() + chunk.len() >= MAX_LINE {
            let (head, rest) = chunk.split_at(MAX_LINE - self.partial.len());
            self.partial.extend_from_slice(head);
            emit(self.stream, &self.partial, sink);
            self.partial.clear();
            chunk = rest;
        }
        self.partial.extend_from_slice(chunk);
    }

    /// Hands a final line without a newline to `sink`.
    pub(crate) fn finish(&mut self, sink: Option<&mut LineSink>) {
        if let Some(sink) = sink
            && !self.partial.is_empty()
        {
            emit(self.stream, &self.partial, sink);
        }
        self.partial.clear();
    }

    /// How many bytes the stream carried in all.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The kept output as text, and whether anything was cut.
    pub(crate) fn into_text(self) -> (String, bool) {
        let (text, _, cut) = self.into_output();
        (text, cut)
    }

    /// The kept output as text (moved, not copied, when it is UTF-8), the
    /// exact bytes too when the text is lossy, and whether anything was cut.
    pub(crate) fn into_output(self) -> (String, Option<Vec<u8>>, bool) {
        let cut = self.total > self.kept.len() as u64;
        bounded_output(self.kept, cut)
    }
}

/// Hands `line` to `sink`, in pieces of at most [`MAX_LINE`] bytes.
fn emit(stream: Stream, line: &[u8], sink: &mut LineSink) {
    for piece in line.chunks(MAX_LINE) {
        sink(stream, &String::from_utf8_lossy(piece));
    }
    if line.is_empty() {
        sink(stream, "");
    }
}

/// Turns kept bytes into text of at most [`OUTPUT_CAP`] bytes (lossy UTF-8),
/// with [`TRUNCATED_MARKER`] appended when `cut` or when the lossy text had
/// to be shortened. Returns the text and whether it was truncated.
pub(crate) fn bounded_text(kept: &[u8], cut: bool) -> (String, bool) {
    let bytes = if cut {
        trim_incomplete_tail(kept)
    } else {
        kept
    };
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    let mut truncated = cut;
    if text.len() > OUTPUT_CAP {
        let mut end = OUTPUT_CAP;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        truncated = true;
    }
    if truncated {
        text.push_str(TRUNCATED_MARKER);
    }
    (text, truncated)
}

/// [`bounded_text`] of owned bytes: UTF-8 bytes become the text without a
/// copy; otherwise the exact bytes (with [`TRUNCATED_MARKER`] when cut) are
/// returned too, beside their lossy text.
pub(crate) fn bounded_output(mut kept: Vec<u8>, cut: bool) -> (String, Option<Vec<u8>>, bool) {
    let end = if cut {
        trim_incomplete_tail(&kept).len()
    } else {
        kept.len()
    };
    if std::str::from_utf8(&kept[..end]).is_ok() {
        kept.truncate(end);
        let mut text = String::from_utf8(kept).expect("checked to be UTF-8");
        if cut {
            text.push_str(TRUNCATED_MARKER);
        }
        return (text, None, cut);
    }
    let (text, truncated) = bounded_text(&kept, cut);
    if truncated {
        kept.extend_from_slice(TRUNCATED_MARKER.as_bytes());
    }
    (text, Some(kept), truncated)
}

/// Drops a UTF-8 sequence cut short at the end of `bytes`.
fn trim_incomplete_tail(bytes: &[u8]) -> &[u8] {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xC0 == 0x80 {
            continue;
        }
        let needed = match byte {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if needed > back {
            &bytes[..bytes.len() - back]
        } else {
            bytes
        };
    }
    bytes
}

/// Reads `reader` to its end (or first error) into `capture`, handing lines
/// to the sink as they complete.
pub(crate) async fn pump<R: AsyncRead + Unpin>(
    mut reader: R,
    capture: &mut StreamCapture,
    sink: &Mutex<Option<LineSink>>,
) {
    let mut buf = vec![0; READ_BUF];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
                capture.push(&buf[..n], sink.as_mut());
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    type Seen = Arc<Mutex<Vec<(Stream, String)>>>;

    fn collecting() -> (LineSink, Seen) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&lines);
        let sink: LineSink = Box::new(move |s, l| seen.lock().unwrap().push((s, l.to_owned())));
        (sink, lines)
    }

    #[test]
    fn utf8_output_moves_and_other_bytes_are_kept_exactly() {
        let kept = b"plain \xc3\xa9".to_vec();
        let ptr = kept.as_ptr();
        let (text, raw, cut) = bounded_output(kept, false);
        assert_eq!((text.as_str(), raw, cut), ("plain é", None, false));
        assert_eq!(text.as_ptr(), ptr, "UTF-8 output is moved, not copied");

        let (text, raw, cut) = bounded_output(b"a\0\xffb".to_vec(), false);
        assert_eq!(text, "a\0\u{fffd}b");
        assert_eq!(raw.as_deref(), Some(&b"a\0\xffb"[..]));
        assert!(!cut);

        // Cut: the text drops a split sequence; the bytes stay exact.
        let (text, raw, cut) = bounded_output(b"\xff ok \xe2\x82".to_vec(), true);
        assert_eq!(text, format!("\u{fffd} ok {TRUNCATED_MARKER}"));
        let mut exact = b"\xff ok \xe2\x82".to_vec();
        exact.extend_from_slice(TRUNCATED_MARKER.as_bytes());
        assert_eq!(raw, Some(exact));
        assert!(cut);
        let (text, raw, _) = bounded_output(b"ok \xe2\x82".to_vec(), true);
        assert_eq!((text, raw), (format!("ok {TRUNCATED_MARKER}"), None));
    }

    #[test]
    fn keeps_the_first_cap_and_counts_the_rest() {
        let mut c = StreamCapture::new(Stream::Stdout);
        let chunk = vec![b'a'; 300_000];
        for _ in 0..10 {
            c.push(&chunk, None);
        }
        assert_eq!(c.total(), 3_000_000);
        assert_eq!(c.kept.len(), OUTPUT_CAP);
        assert!(c.kept.capacity() <= OUTPUT_CAP * 2);
        let (text, truncated) = c.into_text();
        assert!(truncated);
        assert_eq!(text.len(), OUTPUT_CAP + TRUNCATED_MARKER.len());
        assert!(text.ends_with(TRUNCATED_MARKER));
    }

    #[test]
    fn exactly_the_cap_is_not_truncated() {
        let mut c = StreamCapture::new(Stream::Stdout);
        c.push(&vec![b'a'; OUTPUT_CAP], None);
        let (text, truncated) = c.into_text();
        assert!(!truncated);
        assert_eq!(text.len(), OUTPUT_CAP);
    }

    #[test]
    fn cut_inside_a_character_and_lossy_growth_stay_under_the_cap() {
        let mut c = StreamCapture::new(Stream::Stdout);
        c.push(&vec![b'a'; OUTPUT_CAP - 1], None);
        c.push("é and more".as_bytes(), None);
        let (text, truncated) = c.into_text();
        assert!(truncated);
        assert!(
            !text.contains('\u{fffd}'),
            "a cut character shows as garbage"
        );
        assert_eq!(text.len(), OUTPUT_CAP - 1 + TRUNCATED_MARKER.len());

        let (text, truncated) = bounded_text(&vec![0xFF; OUTPUT_CAP], false);
        assert!(truncated);
        assert!(text.len() <= OUTPUT_CAP + TRUNCATED_MARKER.len());
    }

    #[test]
    fn trims_only_incomplete_tails() {
        assert_eq!(trim_incomplete_tail("aé".as_bytes()), "aé".as_bytes());
        assert_eq!(trim_incomplete_tail(&"aé".as_bytes()[..2]), b"a");
        assert_eq!(trim_incomplete_tail(&"a€".as_bytes()[..3]), b"a");
        assert_eq!(trim_incomplete_tail(&"a😀".as_bytes()[..4]), b"a");
        assert_eq!(trim_incomplete_tail(b""), b"");
    }

    #[test]
    fn splits_lines_across_chunks_and_flushes_the_tail() {
        let (mut sink, lines) = collecting();
        let mut c = StreamCapture::new(Stream::Stderr);
        c.push(b"one\ntw", Some(&mut sink));
        c.push(b"o\n\nthr", Some(&mut sink));
        assert_eq!(lines.lock().unwrap().len(), 3);
        c.push(b"ee", Some(&mut sink));
        c.finish(Some(&mut sink));
        let got: Vec<String> = lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        assert_eq!(got, ["one", "two", "", "three"]);
        assert!(
            lines
                .lock()
                .unwrap()
                .iter()
                .all(|(s, _)| *s == Stream::Stderr)
        );
    }

    #[test]
    fn long_lines_come_in_bounded_pieces() {
        let (mut sink, lines) = collecting();
        let mut c = StreamCapture::new(Stream::Stdout);
        for _ in 0..5 {
            c.push(&vec![b'x'; 50_000], Some(&mut sink));
        }
        assert!(c.partial.len() < MAX_LINE);
        c.push(b"\n", Some(&mut sink));
        c.finish(Some(&mut sink));
        let lines = lines.lock().unwrap();
        assert!(lines.iter().all(|(_, l)| l.len() <= MAX_LINE));
        assert_eq!(lines.iter().map(|(_, l)| l.len()).sum::<usize>(), 250_000);
    }
}
