//! Presses a code button and an HTTP button from in-memory specs, with no
//! data directory; the HTTP button asks a loopback listener started here.
#![expect(clippy::print_stdout, reason = "an example prints its result")]
use buttons_exec::{PressContext, PressOptions};
use buttons_spec::{Args, Batteries, Button, ButtonName, Timestamp};
use std::io::{Read, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (args, batteries) = (Args::default(), Batteries::new());
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("main.sh"), "echo from a script\n")?;
    let script = Button::new(&ButtonName::new("script")?, Timestamp::now());
    let ctx = PressContext::from_env(&script, dir.path(), &args, &batteries);
    let result = buttons_exec::press_blocking(&ctx, PressOptions::default())?;
    print!("{}: {}", result.button, result.stdout);

    // A one-shot HTTP server on loopback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/hello", listener.local_addr()?);
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("a connection");
        let _ = stream.read(&mut [0; 4096]);
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nfrom HTTP";
        let _ = stream.write_all(reply.as_bytes());
    });
    let api = Button::http(&ButtonName::new("api")?, &url, Timestamp::now())?;
    // Loopback is a private address: this press opts in explicitly.
    let opts = PressOptions::default().allow_private_networks(true);
    let ctx = PressContext::new(&api, dir.path(), &args, &batteries);
    let result = buttons_exec::press_blocking(&ctx, opts)?;
    println!(
        "{}: {} (HTTP {:?})",
        result.button, result.stdout, result.http_status_code
    );
    assert_eq!(result.stdout, "from HTTP");
    Ok(())
}
