//! The stdio transport of `buttons mcp`: one JSON-RPC message per line, with
//! a size limit that answers instead of going silent.
//!
//! A line over [`MAX_REQUEST_BYTES`] is skipped without being buffered, and
//! the client gets a JSON-RPC error (`-32600`, with the request's `id` when
//! it appears before `params`); the server keeps serving. Lines are read on
//! a thread of their own and written by another, in order, each flushed.

use std::io::{BufRead, Write};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The largest request line the server reads.
pub(super) const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// JSON-RPC "Invalid Request".
const INVALID_REQUEST: i64 = -32600;

/// Messages from stdin, replies to stdout.
pub(super) struct Stdio {
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleServer>>,
    outgoing: std_mpsc::Sender<String>,
}

/// Waits for the writer to flush what the session sent.
pub(super) struct Flush(std_mpsc::Receiver<()>);

impl Flush {
    /// Returns once every reply has been written, or after `limit` (when
    /// the reader still holds the writer open, e.g. the session ended before
    /// stdin did).
    pub(super) fn wait(self, limit: Duration) {
        let _ = self.0.recv_timeout(limit);
    }
}

/// Starts the reader and writer threads over `input` and `output`.
pub(super) fn stdio<R, W>(input: R, output: W) -> (Stdio, Flush)
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    let (out_tx, out_rx) = std_mpsc::channel::<String>();
    let (done_tx, done_rx) = std_mpsc::channel();
    std::thread::spawn(move || {
        let mut output = output;
        for line in out_rx {
            if output
                .write_all(line.as_bytes())
                .and_then(|()| output.write_all(b"\n"))
                .and_then(|()| output.flush())
                .is_err()
            {
                break;
            }
        }
        let _ = done_tx.send(());
    });
    let (in_tx, in_rx) = mpsc::channel(16);
    let errors = out_tx.clone();
    std::thread::spawn(move || read_lines(input, &in_tx, &errors));
    (
        Stdio {
            incoming: in_rx,
            outgoing: out_tx,
        },
        Flush(done_rx),
    )
}

/// One line read with a bound.
enum Line {
    Message(Vec<u8>),
    /// Over the limit: the first bytes, kept to find the request's id.
    Oversized(Vec<u8>),
    Eof,
}

/// How much of an oversized line is kept to find its `id`.
const ID_PREFIX_BYTES: usize = 64 * 1024;

fn read_line(input: &mut impl BufRead) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut oversized = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(match (oversized, line.is_empty()) {
                (true, _) => Line::Oversized(line),
                (false, true) => Line::Eof,
                (false, false) => Line::Message(line),
            });
        }
        let (chunk, found) = match buf.iter().position(|b| *b == b'\n') {
            Some(at) => (&buf[..at], true),
            None => (buf, false),
        };
        let used = chunk.len() + usize::from(found);
        if oversized {
            let room = ID_PREFIX_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        } else if line.len() + chunk.len() > MAX_REQUEST_BYTES {
            oversized = true;
            line.truncate(ID_PREFIX_BYTES);
            let room = ID_PREFIX_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        } else {
            line.extend_from_slice(chunk);
        }
        input.consume(used);
        if found {
            return Ok(if oversized {
                Line::Oversized(line)
            } else {
                Line::Message(line)
            });
        }
    }
}

fn read_lines(
    mut input: impl BufRead,
    messages: &mpsc::Sender<RxJsonRpcMessage<RoleServer>>,
    errors: &std_mpsc::Sender<String>,
) {
    loop {
        match read_line(&mut input) {
            Ok(Line::Eof) | Err(_) => return,
            Ok(Line::Oversized(prefix)) => {
                let reply = error_reply(
                    id_in_prefix(&prefix),
                    &format!(
                        "request too large: the limit is {} MiB per message",
                        MAX_REQUEST_BYTES / (1024 * 1024)
                    ),
                );
                if errors.send(reply).is_err() {
                    return;
                }
            }
            Ok(Line::Message(line)) => {
                let line = line.strip_suffix(b"\r").unwrap_or(&line);
                let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
                    Ok(message) => {
                        if messages.blocking_send(message).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        // Not JSON: nothing to answer (as rmcp does). JSON
                        // that is not a known message: a request gets an
                        // error; a notification is ignored.
                        let Ok(value) = serde_json::from_slice::<Value>(line) else {
                            continue;
                        };
                        let Some(id) = value.get("id").filter(|id| !id.is_null()) else {
                            continue;
                        };
                        let reply = error_reply(Some(id.clone()), &format!("invalid request: {e}"));
                        if errors.send(reply).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

fn error_reply(id: Option<Value>, message: &str) -> String {
    json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(Value::Null),
        "error": {"code": INVALID_REQUEST, "message": message},
    })
    .to_string()
}

/// The top-level `id` of a cut-off request, when it comes before `params`
/// (as clients write it); `None` rather than a guess otherwise.
fn id_in_prefix(prefix: &[u8]) -> Option<Value> {
    let text = String::from_utf8_lossy(prefix);
    let head = match text.find("\"params\"") {
        Some(at) => &text[..at],
        None => &text,
    };
    let at = head.find("\"id\"")?;
    let rest = head[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    match values.next()?.ok()? {
        id @ (Value::Number(_) | Value::String(_)) => Some(id),
        _ => None,
    }
}

impl Transport<RoleServer> for Stdio {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sent = serde_json::to_string(&item)
            .map_err(std::io::Error::other)
            .and_then(|line| {
                self.outgoing.send(line).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout is closed")
                })
            });
        std::future::ready(sent)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.incoming.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_id_before_params_only() {
        assert_eq!(
            id_in_prefix(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"#),
            Some(json!(7))
        );
        assert_eq!(
            id_in_prefix(br#"{"id" : "a-1", "params": {"id": 9"#),
            Some(json!("a-1"))
        );
        assert_eq!(id_in_prefix(br#"{"params":{"id":9,"x":"xxxx"#), None);
    }

    #[test]
    fn an_oversized_line_is_skipped_and_the_next_one_read() {
        let mut input = Vec::new();
        input.extend_from_slice(br#"{"id":1,"x":""#);
        input.extend(std::iter::repeat_n(b'x', MAX_REQUEST_BYTES));
        input.extend_from_slice(b"\"}\n{\"id\":2}\n");
        let mut reader = std::io::BufReader::new(&input[..]);
        assert!(
            matches!(read_line(&mut reader).unwrap(), Line::Oversized(p) if p.len() <= ID_PREFIX_BYTES)
        );
        assert!(matches!(read_line(&mut reader).unwrap(), Line::Message(m) if m == b"{\"id\":2}"));
        assert!(matches!(read_line(&mut reader).unwrap(), Line::Eof));
    }
}
