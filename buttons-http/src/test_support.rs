//! A loopback HTTP/1.1 server that records the raw requests it reads, for tests.
//!
//! Compiled only with the `test-support` feature, which the tests of this
//! crate, `buttons-exec` and `buttons-cli` turn on through their
//! dev-dependencies; nothing here is part of a press. It uses the standard
//! library only: a listener thread, and one thread per connection.
//!
//! - [`Server`] binds a loopback address (`127.0.0.1`, any other `127.x`, or
//!   `::1`) at a free port, answers each request with the [`Reply`] a closure
//!   picks ([`response`] and [`redirect`] build the bytes, [`Reply::Stall`]
//!   never answers), records every request as [`Recorded`] (the raw bytes and
//!   their request line, headers and body) and counts connections.
//! - [`Tripwire`] is a listener nothing may connect to, and [`closed_addr`]
//!   an address nothing listens on.
//!
//! Every constructor panics rather than returning an error: a test that cannot
//! bind its server has nothing to test.
//!
//! # Example
//!
//! ```
//! use buttons_http::test_support::{Reply, Server, redirect, response};
//! use buttons_http::{HttpClient, HttpRequest, NetPolicy, Options};
//!
//! let server = Server::start("127.0.0.1", |request| match request.target() {
//!     "/old" => Reply::Send(redirect(301, "/new")),
//!     _ => Reply::Send(response(200, &[("X-Reply", "yes")], b"hello")),
//! });
//! let client = HttpClient::new(Options {
//!     policy: NetPolicy::new().allow(server.addr().ip()),
//!     ..Options::default()
//! });
//! let mut request = HttpRequest::new("POST", url::Url::parse(&server.url("/old"))?);
//! request.headers.push(("X-Token".into(), "{{kept}}".into()));
//! request.body = Some(b"payload".to_vec());
//! let answer = client.send_blocking(&request)?;
//! assert_eq!((answer.status, answer.body.as_slice()), (200, &b"hello"[..]));
//!
//! let [first, second] = &server.requests()[..] else {
//!     panic!("expected the request and its redirect: {:?}", server.requests());
//! };
//! assert_eq!(first.request_line, "POST /old HTTP/1.1");
//! assert_eq!(first.header("x-token"), Some("{{kept}}"));
//! assert_eq!(first.body, b"payload");
//! assert!(first.raw.starts_with(b"POST /old HTTP/1.1\r\n"));
//! // A 301 turns the POST into a GET without a body.
//! assert_eq!((second.method(), second.target()), ("GET", "/new"));
//! assert_eq!(server.connections(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

#[cfg(test)]
mod tests;

/// How long the server waits for the rest of a request before dropping the connection.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a stalled connection is held open at most, if its client never closes it.
const STALL_LIMIT: Duration = Duration::from_secs(30);

/// One request as the server read it off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Every byte read for this request: request line, header lines, the
    /// blank line and the body, exactly as sent.
    pub raw: Vec<u8>,
    /// The request line without its line ending, e.g. `GET /path?q=1 HTTP/1.1`.
    pub request_line: String,
    /// Header lines in order, each split at its first `:`, the value without
    /// the spaces after the colon and without the line ending.
    pub headers: Vec<(String, String)>,
    /// The body: as many bytes as `Content-Length` says (none without it).
    pub body: Vec<u8>,
}

impl Recorded {
    /// The method, the request line's first word.
    pub fn method(&self) -> &str {
        self.request_line.split(' ').next().unwrap_or_default()
    }

    /// The request target, the request line's second word: path and query, e.g. `/a?b=1`.
    pub fn target(&self) -> &str {
        self.request_line.split(' ').nth(1).unwrap_or_default()
    }

    /// The value of the first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// The values of every header called `name` (ASCII case-insensitive), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// What the server does with a request, once it has recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Write these bytes, then close the connection.
    Send(Vec<u8>),
    /// Write these bytes, then read the next request on the same connection.
    ///
    /// The bytes should not say `Connection: close`, as [`response`] does,
    /// or the client will not send another request on this connection.
    KeepOpen(Vec<u8>),
    /// Write these bytes, then hold the connection open without another
    /// word until the client closes it (for a body that never ends).
    SendThenStall(Vec<u8>),
    /// Never answer: hold the connection open until the client closes it
    /// (for timeout tests).
    Stall,
}

/// The closure a [`Server`] asks for the [`Reply`] to each request.
type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// What the listener thread and the connection threads share with the [`Server`].
#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    stopped: AtomicBool,
}

/// A loopback HTTP/1.1 server at a free port that records every request.
///
/// Each connection is served on its own thread: requests are read one after
/// the other, recorded, then answered with the [`Reply`] the closure given to
/// [`Server::start`] returns. Dropping the server stops it accepting
/// connections.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    /// Serves on `ip` at a free port, answering each request with what `respond` returns.
    ///
    /// # Panics
    ///
    /// If `ip` is not a loopback address (tests stay on this machine), or
    /// if it cannot be bound.
    pub fn start(ip: &str, respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = bind_loopback(ip);
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared::default());
        let respond: Arc<Responder> = Arc::new(respond);
        let state = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if state.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                state.connections.fetch_add(1, Ordering::SeqCst);
                let state = Arc::clone(&state);
                let respond = Arc::clone(&respond);
                thread::spawn(move || {
                    // A client that hangs up or stops sending ends its connection, nothing more.
                    let _ = serve(&stream, &state, &*respond);
                });
            }
        });
        Self { addr, shared }
    }

    /// A server on `ip` answering every request with `status`, `headers` and
    /// `body` (see [`response`]), then closing the connection.
    ///
    /// # Panics
    ///
    /// As [`Server::start`].
    pub fn fixed(ip: &str, status: u16, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let reply = response(status, headers, body);
        Self::start(ip, move |_| Reply::Send(reply.clone()))
    }

    /// A server on `ip` that records requests and never answers them ([`Reply::Stall`]).
    ///
    /// # Panics
    ///
    /// As [`Server::start`].
    pub fn silent(ip: &str) -> Self {
        Self::start(ip, |_| Reply::Stall)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` + the server's address + `path` (which starts with `/`, or is empty).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request recorded so far, in the order they were read.
    ///
    /// A request is recorded before it is answered, so every request whose
    /// answer (or timeout) a client has seen is in the list.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many connections the server has accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wake the listener thread so that it sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

/// Reads, records and answers the requests of one connection until it ends.
fn serve(stream: &TcpStream, shared: &Shared, respond: &Responder) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader)? {
        shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.clone());
        match respond(&request) {
            Reply::Send(bytes) => {
                writer.write_all(&bytes)?;
                return writer.flush();
            }
            Reply::KeepOpen(bytes) => {
                writer.write_all(&bytes)?;
                writer.flush()?;
            }
            Reply::SendThenStall(bytes) => {
                writer.write_all(&bytes)?;
                writer.flush()?;
                return stall(reader);
            }
            Reply::Stall => return stall(reader),
        }
    }
    Ok(())
}

/// Reads one request; `None` when the connection ends before a request line,
/// or when its first byte cannot start one (a TLS handshake, say: an
/// `https://` request to this plain-text server then fails at once).
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Recorded>> {
    match reader.fill_buf()?.first() {
        Some(byte) if byte.is_ascii_alphabetic() => {}
        _ => return Ok(None),
    }
    let mut raw = Vec::new();
    reader.read_until(b'\n', &mut raw)?;
    let request_line = String::from_utf8_lossy(&raw).trim_end().to_owned();
    let mut headers = Vec::new();
    loop {
        let start = raw.len();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = String::from_utf8_lossy(&raw[start..]);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        headers.push((name.to_owned(), value.trim_start().to_owned()));
    }
    let length = match headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        Some((_, value)) => value
            .trim()
            .parse::<usize>()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
        None => 0,
    };
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    raw.extend_from_slice(&body);
    Ok(Some(Recorded {
        raw,
        request_line,
        headers,
        body,
    }))
}

/// Holds a connection open, writing nothing, until the client closes it
/// (or [`STALL_LIMIT`] passes without a byte from it).
fn stall(mut reader: BufReader<&TcpStream>) -> io::Result<()> {
    reader.get_ref().set_read_timeout(Some(STALL_LIMIT))?;
    let mut sink = [0; 4096];
    while reader.read(&mut sink)? != 0 {}
    Ok(())
}

/// A complete HTTP/1.1 response: the status line, `headers` in order, then
/// `Content-Length` and `Connection: close`, a blank line and `body`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Status\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out
}

/// A redirect with status `status` to `location`, with an empty body.
pub fn redirect(status: u16, location: &str) -> Vec<u8> {
    response(status, &[("Location", location)], b"")
}

/// A listener nothing may connect to.
///
/// It never accepts: a connection that reached it would wait in its accept
/// queue, so [`Tripwire::assert_untouched`], called once the code under test
/// has returned, proves that none came.
#[derive(Debug)]
pub struct Tripwire {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Tripwire {
    /// Listens on `ip` at a free port.
    ///
    /// # Panics
    ///
    /// If `ip` is not a loopback address, or if it cannot be bound.
    pub fn bind(ip: &str) -> Self {
        let listener = bind_loopback(ip);
        listener
            .set_nonblocking(true)
            .expect("a listener can be made non-blocking");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        Self { listener, addr }
    }

    /// The address the tripwire listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` + the tripwire's address + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Checks that no connection has reached the tripwire.
    ///
    /// # Panics
    ///
    /// If one has, naming its peer.
    pub fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("tripwire at {} failed: {e}", self.addr),
            Ok((_, peer)) => panic!("{peer} connected to the tripwire at {}", self.addr),
        }
    }
}

/// An address on `ip` where nothing listens, so that connecting to it is refused.
///
/// The port is one the system just handed out and took back; another
/// program could take it in between, which tests can ignore.
///
/// # Panics
///
/// If `ip` is not a loopback address, or if it cannot be bound.
pub fn closed_addr(ip: &str) -> SocketAddr {
    bind_loopback(ip)
        .local_addr()
        .expect("a bound listener has an address")
}

/// Binds `ip` at a free port, refusing anything but loopback.
fn bind_loopback(ip: &str) -> TcpListener {
    let parsed: IpAddr = ip
        .parse()
        .unwrap_or_else(|e| panic!("{ip:?} is not an IP address: {e}"));
    assert!(
        parsed.is_loopback(),
        "{ip} is not a loopback address: tests stay on loopback"
    );
    TcpListener::bind(SocketAddr::new(parsed, 0))
        .unwrap_or_else(|e| panic!("cannot bind a test server on {ip}: {e}"))
}
