//! A loopback HTTP/1.1 server that records raw requests, and a tripwire
//! listener that proves nothing connected.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server read it off the wire.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// `GET /path?q HTTP/1.1`
    pub(crate) request_line: String,
    /// Header lines in order, split at the first `:` (value with leading spaces trimmed).
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn path(&self) -> &str {
        self.request_line.split(' ').nth(1).unwrap_or_default()
    }

    pub(crate) fn method(&self) -> &str {
        self.request_line.split(' ').next().unwrap_or_default()
    }
}

pub(crate) enum Reply {
    /// Write these bytes and close.
    Send(Vec<u8>),
    /// Write these bytes, then hold the connection open without a word.
    SendThenStall(Vec<u8>),
    /// Never answer.
    Stall,
}

pub(crate) type Responder = dyn Fn(&Recorded, SocketAddr) -> Reply + Send + Sync;

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Serves on `ip` (any 127.0.0.0/8 address) at a free port.
    pub(crate) fn start(
        ip: &str,
        respond: impl Fn(&Recorded, SocketAddr) -> Reply + Send + Sync + 'static,
    ) -> Server {
        assert!(ip.starts_with("127."), "tests stay on loopback");
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let recorded = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let recorded = Arc::clone(&recorded);
                let respond = Arc::clone(&respond);
                thread::spawn(move || {
                    let _ = serve(stream, addr, &recorded, &*respond);
                });
            }
        });
        Server { addr, requests }
    }

    /// A server answering every request with `status`, `headers` and `body`.
    pub(crate) fn fixed(ip: &str, status: u16, headers: &[(&str, &str)], body: &[u8]) -> Server {
        let reply = response(status, headers, body);
        Server::start(ip, move |_, _| Reply::Send(reply.clone()))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    local: SocketAddr,
    recorded: &Mutex<Vec<Recorded>>,
    respond: &Responder,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            headers.push((name.to_owned(), value.trim_start().to_owned()));
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.trim().parse::<usize>().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let request = Recorded {
            request_line: request_line.trim_end().to_owned(),
            headers,
            body,
        };
        recorded.lock().unwrap().push(request.clone());
        match respond(&request, local) {
            Reply::Send(bytes) => {
                stream.write_all(&bytes)?;
                stream.flush()?;
                if !String::from_utf8_lossy(&bytes).contains("Connection: keep-alive") {
                    return Ok(());
                }
            }
            Reply::SendThenStall(bytes) => {
                stream.write_all(&bytes)?;
                stream.flush()?;
                thread::sleep(Duration::from_secs(20));
                return Ok(());
            }
            Reply::Stall => {
                thread::sleep(Duration::from_secs(20));
                return Ok(());
            }
        }
    }
}

/// A complete HTTP/1.1 response that closes the connection.
pub(crate) fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
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

/// A redirect to `location`.
pub(crate) fn redirect(status: u16, location: &str) -> Vec<u8> {
    response(status, &[("Location", location)], b"")
}

/// A listener nothing may connect to: after the code under test has returned,
/// [`Tripwire::assert_untouched`] proves no connection reached it (a
/// connection would sit in the accept queue).
pub(crate) struct Tripwire {
    listener: TcpListener,
    pub(crate) addr: SocketAddr,
}

impl Tripwire {
    pub(crate) fn bind(ip: &str) -> Tripwire {
        assert!(ip.starts_with("127."), "tests stay on loopback");
        let listener = TcpListener::bind((ip, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        Tripwire { listener, addr }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("tripwire failed: {e}"),
            Ok((_, peer)) => panic!("{peer} connected to the tripwire at {}", self.addr),
        }
    }
}
