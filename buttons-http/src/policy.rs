//! The private-network policy: which addresses a guarded request may reach.
//!
//! The built-in table is `private-networks.md`, row by row and in its order.
//! Classification is a few mask-and-compare steps over two small constant
//! tables: no allocation, no parsing.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// What the built-in table says about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Globally reachable: a guarded request may go there.
    Allow,
    /// Not globally reachable; the reason names the range, e.g. `"loopback"`.
    Block(&'static str),
}

impl Verdict {
    /// Whether this verdict blocks the address.
    pub fn is_block(self) -> bool {
        matches!(self, Self::Block(_))
    }
}

/// An address the policy refuses, with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Blocked {
    /// The address as checked (an IPv6 form carrying an IPv4 is kept as given).
    pub addr: IpAddr,
    /// What the address is, e.g. `"loopback"` or `"link-local (cloud metadata)"`.
    pub reason: &'static str,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.addr, self.reason)
    }
}

/// A row of a classification table: `addr & mask == net` gives `verdict`.
struct Rule<T> {
    net: T,
    mask: T,
    verdict: Verdict,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u32, verdict: Verdict) -> Rule<u32> {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Rule {
        net: u32::from_be_bytes([a, b, c, d]) & mask,
        mask,
        verdict,
    }
}

const fn v6(segments: [u16; 8], len: u32, verdict: Verdict) -> Rule<u128> {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    let mut net = 0u128;
    let mut i = 0;
    while i < 8 {
        net = (net << 16) | segments[i] as u128;
        i += 1;
    }
    Rule {
        net: net & mask,
        mask,
        verdict,
    }
}

const BLOCK_THIS_NETWORK: Verdict = Verdict::Block("\"this network\" 0.0.0.0/8");
const BLOCK_PRIVATE: Verdict = Verdict::Block("private use (RFC 1918)");
const BLOCK_DOC: Verdict = Verdict::Block("documentation range");
const BLOCK_IETF: Verdict = Verdict::Block("IETF protocol assignment");
const ALLOW_ANYCAST: Verdict = Verdict::Allow;

/// IPv4 rows of `private-networks.md`, in order; first match wins, else allowed
/// (global unicast).
#[rustfmt::skip]
const V4_RULES: [Rule<u32>; 18] = [
    v4(0, 0, 0, 0, 8,           BLOCK_THIS_NETWORK),
    v4(10, 0, 0, 0, 8,          BLOCK_PRIVATE),
    v4(172, 16, 0, 0, 12,       BLOCK_PRIVATE),
    v4(192, 168, 0, 0, 16,      BLOCK_PRIVATE),
    v4(100, 64, 0, 0, 10,       Verdict::Block("shared address space / carrier-grade NAT (RFC 6598)")),
    v4(127, 0, 0, 0, 8,         Verdict::Block("loopback")),
    v4(169, 254, 0, 0, 16,      Verdict::Block("link-local (cloud metadata)")),
    v4(192, 0, 0, 9, 32,        ALLOW_ANYCAST),
    v4(192, 0, 0, 10, 32,       ALLOW_ANYCAST),
    v4(192, 0, 0, 0, 24,        BLOCK_IETF),
    v4(192, 0, 2, 0, 24,        BLOCK_DOC),
    v4(198, 51, 100, 0, 24,     BLOCK_DOC),
    v4(203, 0, 113, 0, 24,      BLOCK_DOC),
    v4(192, 88, 99, 2, 32,      Verdict::Block("6a44 relay (RFC 6751)")),
    v4(198, 18, 0, 0, 15,       Verdict::Block("benchmarking (RFC 2544)")),
    v4(224, 0, 0, 0, 4,         Verdict::Block("multicast")),
    v4(255, 255, 255, 255, 32,  Verdict::Block("broadcast")),
    v4(240, 0, 0, 0, 4,         Verdict::Block("reserved")),
];

/// IPv6 rows after `::`, `::1` and the IPv4-carrying forms, in order; first
/// match wins, else blocked (outside 2000::/3: reserved by IETF).
#[rustfmt::skip]
const V6_RULES: [Rule<u128>; 21] = [
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48,   Verdict::Block("local-use IPv4/IPv6 translation (RFC 8215)")),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64,       Verdict::Block("discard-only (RFC 6666)")),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64,       Verdict::Block("dummy prefix (RFC 9780)")),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128,     ALLOW_ANYCAST),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128,     ALLOW_ANYCAST),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128,     ALLOW_ANYCAST),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32,      ALLOW_ANYCAST),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48,  ALLOW_ANYCAST),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28,   ALLOW_ANYCAST),
    v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28,   ALLOW_ANYCAST),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32,      Verdict::Block("Teredo (carries an IPv4 address)")),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23,      BLOCK_IETF),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32,  BLOCK_DOC),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20,      BLOCK_DOC),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16,      Verdict::Block("6to4 (carries an IPv4 address)")),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16,      Verdict::Block("SRv6 SIDs")),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7,       Verdict::Block("unique local")),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10,      Verdict::Block("link-local")),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10,      Verdict::Block("site-local (deprecated)")),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8,       Verdict::Block("multicast")),
    v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3,       Verdict::Allow),
];

/// The /96 prefixes whose low 32 bits carry an IPv4 address judged by the IPv4 table:
/// mapped `::ffff:0:0/96`, SIIT `::ffff:0:0:0/96`, NAT64 `64:ff9b::/96`, compatible `::/96`.
const EMBEDDING_PREFIXES: [u128; 4] = [
    0x0000_0000_0000_0000_0000_ffff_0000_0000,
    0x0000_0000_0000_0000_ffff_0000_0000_0000,
    0x0064_ff9b_0000_0000_0000_0000_0000_0000,
    0,
];

const LOW_32: u128 = 0xffff_ffff;

/// The IPv4 address an IPv6 address carries in one of the forms judged by
/// their IPv4 (mapped, SIIT, NAT64 well-known prefix, compatible), if any.
///
/// `::` and `::1` are not the compatible forms of `0.0.0.0`/`0.0.0.1`: they
/// are the IPv6 unspecified and loopback addresses, and yield `None`.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    if bits <= 1 {
        return None;
    }
    let prefix = bits & !LOW_32;
    if EMBEDDING_PREFIXES.contains(&prefix) {
        let low = u32::try_from(bits & LOW_32).expect("masked to 32 bits");
        Some(Ipv4Addr::from(low))
    } else {
        None
    }
}

fn classify_v4(ip: Ipv4Addr) -> Verdict {
    let bits = u32::from(ip);
    for rule in &V4_RULES {
        if bits & rule.mask == rule.net {
            return rule.verdict;
        }
    }
    Verdict::Allow
}

fn classify_v6(ip: Ipv6Addr) -> Verdict {
    let bits = u128::from(ip);
    match bits {
        0 => return Verdict::Block("unspecified (reaches local listeners)"),
        1 => return Verdict::Block("loopback"),
        _ => {}
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return classify_v4(v4);
    }
    for rule in &V6_RULES {
        if bits & rule.mask == rule.net {
            return rule.verdict;
        }
    }
    Verdict::Block("reserved by IETF")
}

/// The verdict of the built-in table of `private-networks.md` for `ip`,
/// judging IPv6 forms that carry an IPv4 address by that address.
///
/// ```
/// use buttons_http::{classify, Verdict};
///
/// assert_eq!(classify("8.8.8.8".parse()?), Verdict::Allow);
/// assert!(classify("::ffff:169.254.169.254".parse()?).is_block());
/// assert!(classify("2002:7f00:1::1".parse()?).is_block());
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn classify(ip: IpAddr) -> Verdict {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

/// Which addresses a guarded request may reach.
///
/// The default blocks every row of the built-in table (see [`classify`]).
/// Embedders can block more ranges, allow specific ranges, or open the
/// table entirely. Precedence, first match wins:
///
/// 1. a range given to [`NetPolicy::allow`]: allowed;
/// 2. a range given to [`NetPolicy::block`]: blocked (even with private networks allowed);
/// 3. [`NetPolicy::allow_private`]`(true)`: allowed;
/// 4. the built-in table.
///
/// An IPv6 address carrying an IPv4 (mapped, SIIT, NAT64, compatible) matches
/// the lists by its IPv4 address as well as by itself.
///
/// ```
/// use buttons_http::NetPolicy;
///
/// let policy = NetPolicy::new().allow("127.0.0.1".parse::<std::net::IpAddr>()?);
/// assert!(policy.check("127.0.0.1".parse()?).is_ok());
/// assert!(policy.check("127.0.0.2".parse()?).is_err());
/// assert!(policy.check("::ffff:127.0.0.1".parse()?).is_ok());
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetPolicy {
    allow_private: bool,
    allowed: Vec<IpNet>,
    blocked: Vec<IpNet>,
}

impl NetPolicy {
    /// The default policy: the built-in table, nothing added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens (or closes) the built-in table: with `true`, private, loopback
    /// and other non-global addresses are allowed. Ranges given to
    /// [`NetPolicy::block`] stay blocked.
    #[must_use]
    pub fn allow_private(mut self, allow: bool) -> Self {
        self.allow_private = allow;
        self
    }

    /// Allows a range (or a single address) whatever the other rules say.
    #[must_use]
    pub fn allow(mut self, net: impl Into<IpNet>) -> Self {
        self.allowed.push(net.into().trunc());
        self
    }

    /// Blocks a range (or a single address) in addition to the built-in table.
    #[must_use]
    pub fn block(mut self, net: impl Into<IpNet>) -> Self {
        self.blocked.push(net.into().trunc());
        self
    }

    /// Whether the built-in table is opened.
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Checks `ip`, returning why it is blocked if it is.
    pub fn check(&self, ip: IpAddr) -> Result<(), Blocked> {
        if self.allowed.is_empty() && self.blocked.is_empty() {
            return if self.allow_private {
                Ok(())
            } else {
                match classify(ip) {
                    Verdict::Allow => Ok(()),
                    Verdict::Block(reason) => Err(Blocked { addr: ip, reason }),
                }
            };
        }
        let carried = match ip {
            IpAddr::V6(v6) => embedded_ipv4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let matches = |list: &[IpNet]| {
            list.iter()
                .any(|net| net.contains(&ip) || carried.is_some_and(|v4| net.contains(&v4)))
        };
        if matches(&self.allowed) {
            return Ok(());
        }
        if matches(&self.blocked) {
            return Err(Blocked {
                addr: ip,
                reason: "blocked by the embedding program's policy",
            });
        }
        if self.allow_private {
            return Ok(());
        }
        match classify(ip) {
            Verdict::Allow => Ok(()),
            Verdict::Block(reason) => Err(Blocked { addr: ip, reason }),
        }
    }

    /// Whether `ip` is blocked.
    pub fn is_blocked(&self, ip: IpAddr) -> bool {
        self.check(ip).is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn table_rows_in_order() {
        // Anycast exceptions sit before their enclosing blocked ranges.
        assert_eq!(classify(ip("192.0.0.9")), Verdict::Allow);
        assert_eq!(classify(ip("192.0.0.10")), Verdict::Allow);
        assert!(classify(ip("192.0.0.11")).is_block());
        assert_eq!(classify(ip("2001:1::1")), Verdict::Allow);
        assert_eq!(classify(ip("2001:3::5")), Verdict::Allow);
        assert_eq!(classify(ip("2001:4:112::1")), Verdict::Allow);
        assert_eq!(classify(ip("2001:2f::1")), Verdict::Allow);
        assert!(classify(ip("2001:1::4")).is_block());
        assert!(classify(ip("2001:0:4136:e378::1")).is_block());
        assert_eq!(classify(ip("192.88.99.1")), Verdict::Allow);
        assert!(classify(ip("192.88.99.2")).is_block());
        assert!(classify(ip("255.255.255.255")).is_block());
    }

    #[test]
    fn embedded_forms_follow_their_ipv4() {
        for (form, blocked) in [
            ("::ffff:8.8.8.8", false),
            ("::ffff:127.0.0.1", true),
            ("::ffff:0:8.8.8.8", false),
            ("::ffff:0:a9fe:a9fe", true),
            ("64:ff9b::8.8.8.8", false),
            ("64:ff9b::a00:1", true),
            ("::8.8.8.8", false),
            ("::7f00:1", true),
            ("::", true),
            ("::1", true),
        ] {
            assert_eq!(classify(ip(form)).is_block(), blocked, "{form}");
        }
        assert_eq!(embedded_ipv4("::1".parse().unwrap()), None);
        assert_eq!(
            embedded_ipv4("::2".parse().unwrap()),
            Some(Ipv4Addr::new(0, 0, 0, 2))
        );
    }

    #[test]
    fn embedder_precedence() {
        let policy = NetPolicy::new()
            .allow(ip("127.0.0.1"))
            .block("8.8.8.0/24".parse::<IpNet>().unwrap());
        assert!(policy.check(ip("127.0.0.1")).is_ok());
        assert!(policy.check(ip("::ffff:7f00:1")).is_ok());
        assert_eq!(
            policy.check(ip("127.0.0.2")).unwrap_err().reason,
            "loopback"
        );
        assert!(policy.check(ip("8.8.8.8")).is_err());
        assert!(policy.check(ip("64:ff9b::808:808")).is_err());
        assert!(policy.check(ip("8.8.4.4")).is_ok());

        let open = policy.allow_private(true);
        assert!(open.check(ip("10.1.2.3")).is_ok());
        assert!(open.check(ip("8.8.8.8")).is_err(), "explicit blocks stay");
        assert!(
            NetPolicy::new()
                .allow_private(true)
                .check(ip("::1"))
                .is_ok()
        );
        assert!(NetPolicy::new().check(ip("::1")).is_err());
    }

    #[test]
    fn host_bits_of_given_ranges_are_ignored() {
        let policy = NetPolicy::new().allow("10.1.2.3/8".parse::<IpNet>().unwrap());
        assert!(policy.check(ip("10.200.0.1")).is_ok());
    }
}
