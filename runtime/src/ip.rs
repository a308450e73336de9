//! IP-address conditions with Python's `ipaddress` semantics: parsing,
//! `is_private`, `is_global` and CIDR membership (the tables of CPython
//! 3.13, which also shipped in 3.12.4 and 3.11.10).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A network: an address and a prefix length, host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address.
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a host
    /// network). Host bits are cleared (Python's `strict=False`).
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr = parse_ip(addr)?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= max)?
            }
            Some(_) => return None,
            None => max,
        };
        Some(Cidr {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// Whether `ip` is in the network (an address of the other family never is).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (ip, self.addr) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix) == self.addr
            }
            _ => false,
        }
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & mask))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & mask))
        }
    }
}

/// Parses an address as Python's `ipaddress.ip_address` does for a string:
/// dotted-quad IPv4 (no leading zeros) or IPv6, with an optional IPv6 zone
/// (`fe80::1%eth0`).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    let without_zone = match text.split_once('%') {
        Some((addr, zone)) if !zone.is_empty() && !zone.contains('%') => addr,
        Some(_) => return None,
        None => text,
    };
    without_zone.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// Parsed once, on first use.
struct Tables {
    v4_private: Vec<Cidr>,
    v4_exceptions: Vec<Cidr>,
    v4_shared: Vec<Cidr>,
    v6_private: Vec<Cidr>,
    v6_exceptions: Vec<Cidr>,
}

fn tables() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let nets = |table: &[&str]| table.iter().filter_map(|t| Cidr::parse(t)).collect();
        Tables {
            v4_private: nets(&V4_PRIVATE),
            v4_exceptions: nets(&V4_PRIVATE_EXCEPTIONS),
            v4_shared: nets(&[V4_SHARED]),
            v6_private: nets(&V6_PRIVATE),
            v6_exceptions: nets(&V6_PRIVATE_EXCEPTIONS),
        }
    })
}

const V4_PRIVATE: [&str; 14] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.170/31",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
];
const V4_PRIVATE_EXCEPTIONS: [&str; 2] = ["192.0.0.9/32", "192.0.0.10/32"];
const V4_SHARED: &str = "100.64.0.0/10";
const V6_PRIVATE: [&str; 10] = [
    "::1/128",
    "::/128",
    "::ffff:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
];
const V6_PRIVATE_EXCEPTIONS: [&str; 6] = [
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:20::/28",
    "2001:30::/28",
];

fn in_any(ip: IpAddr, table: &[Cidr]) -> bool {
    table.iter().any(|n| n.contains(ip))
}

/// Python's `is_private`.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => {
            let t = tables();
            in_any(ip, &t.v4_private) && !in_any(ip, &t.v4_exceptions)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let t = tables();
            in_any(ip, &t.v6_private) && !in_any(ip, &t.v6_exceptions)
        }
    }
}

/// Python's `is_global`.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => !in_any(ip, &tables().v4_shared) && !is_private(ip),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_global(IpAddr::V4(v4)),
            None => !is_private(ip),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        parse_ip(text).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn parses_like_python() {
        assert!(parse_ip("10.1.2.3").is_some());
        assert!(parse_ip("2001:db8::1").is_some());
        assert!(parse_ip("fe80::1%eth0").is_some());
        assert_eq!(parse_ip("010.1.2.3"), None, "leading zeros are refused");
        assert_eq!(parse_ip("1.2.3"), None);
        assert_eq!(parse_ip("example.com"), None);
        assert_eq!(parse_ip(" 1.2.3.4"), None);
    }

    #[test]
    fn private_and_global_follow_cpython() {
        for private in [
            "10.0.0.1",
            "192.168.1.1",
            "172.31.255.255",
            "127.0.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "192.0.2.5",
        ] {
            assert!(is_private(ip(private)), "{private}");
            assert!(!is_global(ip(private)), "{private}");
        }
        for global in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "192.0.0.9",
        ] {
            assert!(!is_private(ip(global)), "{global}");
            assert!(is_global(ip(global)), "{global}");
        }
        // Shared address space is neither.
        assert!(!is_private(ip("100.64.0.1")));
        assert!(!is_global(ip("100.64.0.1")));
    }

    #[test]
    fn cidr_membership() {
        let net = Cidr::parse("10.0.0.0/8").unwrap_or(Cidr {
            addr: ip("0.0.0.0"),
            prefix: 32,
        });
        assert!(net.contains(ip("10.200.1.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(!net.contains(ip("::ffff:10.0.0.1")), "families differ");
        assert_eq!(
            Cidr::parse("10.1.2.3/8").map(|c| c.addr),
            Some(ip("10.0.0.0"))
        );
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("10.0.0.0/").is_none());
        assert!(Cidr::parse("2001:db8::/32").is_some_and(|c| c.contains(ip("2001:db8::5"))));
        assert!(Cidr::parse("0.0.0.0/0").is_some_and(|c| c.contains(ip("1.2.3.4"))));
    }
}
