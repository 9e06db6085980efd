//! Name resolution under the policy: resolve once, check every address,
//! connect only to checked addresses.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::Error;
use crate::policy::{Blocked, NetPolicy};

/// The future a [`Lookup`] returns: the addresses of a host name.
pub type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// How host names become addresses.
///
/// The default is [`SystemLookup`] (the operating system's resolver). Tests
/// and embedders can inject their own, e.g. to model a "public" name that
/// resolves to a loopback address the policy has opened. Any closure
/// `Fn(&str) -> io::Result<Vec<IpAddr>>` is a `Lookup`.
pub trait Lookup: Send + Sync {
    /// Resolves `host` (a name, never an IP literal) to its addresses.
    fn lookup(&self, host: &str) -> LookupFuture;
}

impl<F> Lookup for F
where
    F: Fn(&str) -> io::Result<Vec<IpAddr>> + Send + Sync,
{
    fn lookup(&self, host: &str) -> LookupFuture {
        Box::pin(std::future::ready(self(host)))
    }
}

/// The operating system's resolver (`getaddrinfo`, on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|sa| sa.ip()).collect())
        })
    }
}

/// Why the guarded resolver refused a name; travels through reqwest's error
/// chain and becomes an [`Error`] again in the client.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    Blocked { host: String, blocked: Blocked },
    Failed { host: String, reason: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Blocked { host, blocked } => write!(f, "{host} resolves to blocked {blocked}"),
            Self::Failed { host, reason } => write!(f, "could not resolve {host}: {reason}"),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Blocked { host, blocked } => Self::BlockedName { host, blocked },
            Refusal::Failed { host, reason } => Self::Resolve { host, reason },
        }
    }
}

/// Finds a [`Refusal`] in an error's source chain.
pub(crate) fn find_refusal(err: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(refusal) = e.downcast_ref::<Refusal>() {
            return Some(refusal.clone());
        }
        current = e.source();
    }
    None
}

/// Resolves `host` once with `lookup` and checks every address against
/// `policy`: the whole name is refused if any address is blocked.
///
/// # Security
///
/// Deciding on all resolved addresses (never on the spelling of the name)
/// is what catches `localhost.`, `127.0.0.1.nip.io` and resolvers that
/// accept `0x7f.1`. Returning the checked addresses, and connecting only to
/// those, leaves DNS rebinding no second lookup to exploit.
pub(crate) async fn resolve_checked(
    host: &str,
    lookup: &dyn Lookup,
    policy: &NetPolicy,
) -> Result<Vec<IpAddr>, Refusal> {
    let addrs = lookup.lookup(host).await.map_err(|e| Refusal::Failed {
        host: host.to_owned(),
        reason: e.to_string(),
    })?;
    if addrs.is_empty() {
        return Err(Refusal::Failed {
            host: host.to_owned(),
            reason: "no addresses".to_owned(),
        });
    }
    for &addr in &addrs {
        policy.check(addr).map_err(|blocked| Refusal::Blocked {
            host: host.to_owned(),
            blocked,
        })?;
    }
    Ok(addrs)
}

/// The resolver given to reqwest.
pub(crate) struct GuardedResolver {
    pub(crate) policy: Arc<NetPolicy>,
    pub(crate) lookup: Arc<dyn Lookup>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let lookup = Arc::clone(&self.lookup);
        Box::pin(async move {
            let addrs = resolve_checked(name.as_str(), lookup.as_ref(), &policy).await?;
            // reqwest sets the port; it tries the next address if one fails to connect.
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn any_blocked_address_refuses_the_name() {
        let lookup = |host: &str| -> io::Result<Vec<IpAddr>> {
            Ok(match host {
                "mixed.test" => ips(&["8.8.8.8", "10.0.0.1"]),
                "public.test" => ips(&["8.8.8.8", "2606:4700:4700::1111"]),
                _ => Vec::new(),
            })
        };
        let policy = NetPolicy::new();
        let err = resolve_checked("mixed.test", &lookup, &policy)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Refusal::Blocked { blocked, .. } if blocked.addr == ips(&["10.0.0.1"])[0]),
            "{err}"
        );
        assert_eq!(
            resolve_checked("public.test", &lookup, &policy)
                .await
                .unwrap(),
            ips(&["8.8.8.8", "2606:4700:4700::1111"])
        );
        assert!(matches!(
            resolve_checked("empty.test", &lookup, &policy).await,
            Err(Refusal::Failed { .. })
        ));
    }

    #[test]
    fn refusal_survives_an_error_chain() {
        #[derive(Debug)]
        struct Outer(Refusal);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("outer")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let outer = Outer(Refusal::Failed {
            host: "h".into(),
            reason: "r".into(),
        });
        assert!(matches!(find_refusal(&outer), Some(Refusal::Failed { .. })));
    }
}
