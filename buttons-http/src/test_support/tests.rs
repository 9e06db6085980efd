//! The test server driven over raw sockets, so that every byte is known.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::{Reply, Server, Tripwire, closed_addr, redirect, response};

/// Connects to `server`, writes `request`, ends its side of the connection
/// and reads until the server closes.
fn exchange(server: &Server, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    answer
}

#[test]
fn records_the_raw_request_and_its_parts() {
    let server = Server::fixed("127.0.0.1", 201, &[("X-Reply", "yes")], b"done");
    let request =
        b"POST /a%2Fb?q=1 HTTP/1.1\r\nHost: x\r\nX-Multi: one\r\nx-multi:  two\r\nContent-Length: 7\r\n\r\npayload";
    let answer = exchange(&server, request);
    assert_eq!(
        answer,
        b"HTTP/1.1 201 Status\r\nX-Reply: yes\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone"
    );
    let [seen] = &server.requests()[..] else {
        panic!("expected one request: {:?}", server.requests());
    };
    assert_eq!(seen.raw, request);
    assert_eq!(seen.request_line, "POST /a%2Fb?q=1 HTTP/1.1");
    assert_eq!((seen.method(), seen.target()), ("POST", "/a%2Fb?q=1"));
    assert_eq!(seen.header("HOST"), Some("x"));
    assert_eq!(seen.header("x-multi"), Some("one"));
    assert_eq!(seen.header_values("X-MULTI"), ["one", "two"]);
    assert_eq!(seen.header("missing"), None);
    assert_eq!(seen.body, b"payload");
    assert_eq!(server.connections(), 1);
}

#[test]
fn keep_open_serves_the_next_request_on_the_same_connection() {
    let server = Server::start("127.0.0.1", |request| match request.target() {
        "/last" => Reply::Send(response(200, &[], b"bye")),
        _ => Reply::KeepOpen(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec()),
    });
    let answer = exchange(
        &server,
        b"GET /first HTTP/1.1\r\n\r\nGET /last HTTP/1.1\r\n\r\n",
    );
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nbye"), "{answer}");
    let targets: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.target().to_owned())
        .collect();
    assert_eq!(targets, ["/first", "/last"]);
    assert_eq!(server.connections(), 1);
}

#[test]
fn connections_are_counted_even_without_a_request() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"");
    exchange(&server, b"GET / HTTP/1.1\r\n\r\n");
    exchange(&server, b"");
    exchange(&server, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.connections(), 3);
}

#[test]
fn a_tls_handshake_is_closed_at_once() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"plain");
    // The first bytes of a TLS ClientHello record.
    // The client keeps its side open, as a TLS client waits for the ServerHello.
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    stream.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(answer.is_empty(), "{answer:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(server.requests().is_empty());
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_silent_server_records_and_says_nothing_until_the_client_leaves() {
    let server = Server::silent("127.0.0.1");
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(b"GET /wait HTTP/1.1\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let err = stream.read(&mut [0; 1]).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    assert_eq!(server.requests()[0].target(), "/wait");
    stream.shutdown(Shutdown::Both).unwrap();
}

#[test]
fn send_then_stall_writes_and_holds_the_connection() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf".to_vec();
    let sent = head.clone();
    let server = Server::start("127.0.0.1", move |_| Reply::SendThenStall(sent.clone()));
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut answer = Vec::new();
    let started = Instant::now();
    while answer.len() < head.len() && started.elapsed() < Duration::from_secs(10) {
        let mut chunk = [0; 256];
        match stream.read(&mut chunk) {
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(answer, head);
    let err = stream.read(&mut [0; 1]).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "the connection should stay open: {err}"
    );
}

#[test]
fn a_large_body_arrives_whole() {
    let body = vec![b'z'; 300_000];
    let server = Server::fixed("127.0.0.1", 200, &[], &body);
    let answer = exchange(&server, b"GET / HTTP/1.1\r\n\r\n");
    assert!(answer.ends_with(&body));
    assert!(
        String::from_utf8_lossy(&answer[..100]).contains("Content-Length: 300000\r\n"),
        "{answer:?}"
    );
}

#[test]
fn redirect_names_its_location() {
    assert_eq!(
        redirect(307, "/next"),
        b"HTTP/1.1 307 Status\r\nLocation: /next\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn binds_other_loopback_addresses() {
    let server = Server::fixed("127.0.0.2", 200, &[], b"two");
    assert_eq!(server.addr().ip().to_string(), "127.0.0.2");
    assert!(server.url("/x").starts_with("http://127.0.0.2:"));
    assert!(exchange(&server, b"GET / HTTP/1.1\r\n\r\n").ends_with(b"two"));
    if TcpListener::bind("[::1]:0").is_err() {
        // No IPv6 loopback on this machine: nothing more to check.
        return;
    }
    let server = Server::fixed("::1", 200, &[], b"six");
    assert_eq!(
        server.url("/x"),
        format!("http://[::1]:{}/x", server.addr().port())
    );
    assert!(exchange(&server, b"GET / HTTP/1.1\r\n\r\n").ends_with(b"six"));
}

#[test]
#[should_panic(expected = "tests stay on loopback")]
fn refuses_a_non_loopback_address() {
    Server::fixed("10.0.0.1", 200, &[], b"");
}

#[test]
fn a_tripwire_sees_a_connection() {
    let wire = Tripwire::bind("127.0.0.1");
    assert!(wire.url("/").starts_with("http://127.0.0.1:"));
    wire.assert_untouched();
    let _stream = TcpStream::connect(wire.addr()).unwrap();
    // The connection may take a moment to reach the accept queue.
    let started = Instant::now();
    loop {
        let touched = std::panic::catch_unwind(|| wire.assert_untouched()).is_err();
        if touched {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never touched");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn nothing_listens_at_a_closed_address() {
    let addr = closed_addr("127.0.0.1");
    assert!(addr.ip().is_loopback());
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn a_dropped_server_stops_accepting() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"");
    let addr = server.addr();
    drop(server);
    // The listener thread ends once it sees the flag; then connecting is refused.
    let started = Instant::now();
    while TcpStream::connect(addr).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still listening"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
