//! No proxy from the environment while the guard is on.
//!
//! reqwest reads proxy variables when a client is built. Setting them in
//! this multi-threaded test process would race other tests (and needs
//! `unsafe`), so the check runs this binary again as a child process with
//! the variables pointing at a listener that must stay untouched.

use std::process::Command;
use std::time::Duration;

use crate::{client_allowing, get};
use buttons_http::test_support::{Server, Tripwire};

/// Runs in the parent process normally, and in the child with proxy variables set.
#[test]
fn request_goes_directly_to_the_server() {
    let server = Server::fixed("127.0.0.1", 200, &[], b"direct");
    let client = client_allowing(&["127.0.0.1"]);
    let mut request = get(&server.url("/direct"));
    request.timeout = Duration::from_secs(3);
    let response = client.send_blocking(&request).unwrap();
    assert_eq!(response.body, b"direct");
    assert_eq!(server.requests()[0].request_line, "GET /direct HTTP/1.1");
}

#[test]
fn proxy_environment_variables_are_ignored() {
    let proxy = Tripwire::bind("127.0.0.1");
    let proxy_url = proxy.url("");
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "proxy::request_goes_directly_to_the_server",
            "--exact",
            "--test-threads=1",
        ])
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("HTTPS_PROXY", &proxy_url)
        .env("https_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env("all_proxy", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test:\n{stdout}"
    );
    proxy.assert_untouched();
}
