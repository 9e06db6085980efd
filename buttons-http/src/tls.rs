//! The HTTPS configuration, built on the first `https://` hop and once per process.

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt;

use crate::error::Error;

static CONFIG: OnceLock<Result<ClientConfig, String>> = OnceLock::new();

/// The rustls configuration of every HTTPS client in this process: the
/// platform's root store (loading it costs milliseconds, so it happens on
/// the first HTTPS request only, and only once), TLS 1.2 and 1.3, HTTP/1.1.
pub(crate) fn config() -> Result<ClientConfig, Error> {
    CONFIG
        .get_or_init(|| build().map_err(|e| e.to_string()))
        .clone()
        .map_err(|reason| Error::Tls { reason })
}

/// Whether this process has loaded the root store yet.
pub(crate) fn is_loaded() -> bool {
    CONFIG.get().is_some()
}

fn build() -> Result<ClientConfig, rustls::Error> {
    // The provider the embedding program installed, else reqwest's own default.
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
