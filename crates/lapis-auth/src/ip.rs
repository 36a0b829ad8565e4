//! The SAS `sip` field: one address or an inclusive range "from-to".

use std::net::IpAddr;

pub(crate) struct IpRange {
    from: IpAddr,
    to: IpAddr,
}

impl IpRange {
    pub(crate) fn parse(text: &str) -> Option<IpRange> {
        let text = text.trim();
        // IPv6 addresses hold no '-', so the first '-' separates a range.
        let (from, to) = match text.split_once('-') {
            Some((from, to)) => (from.trim().parse().ok()?, to.trim().parse().ok()?),
            None => {
                let ip: IpAddr = text.parse().ok()?;
                (ip, ip)
            }
        };
        let (from, to): (IpAddr, IpAddr) = (from, to);
        if from.is_ipv4() != to.is_ipv4() || from > to {
            return None;
        }
        Some(IpRange { from, to })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.from.is_ipv4() && self.from <= ip && ip <= self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn single_address() {
        let range = IpRange::parse("127.0.0.1").expect("valid");
        assert!(range.contains(ip("127.0.0.1")));
        assert!(range.contains(ip("::ffff:127.0.0.1")));
        assert!(!range.contains(ip("127.0.0.2")));
    }

    #[test]
    fn inclusive_range() {
        let range = IpRange::parse("10.0.0.5-10.0.1.5").expect("valid");
        for inside in ["10.0.0.5", "10.0.0.255", "10.0.1.5"] {
            assert!(range.contains(ip(inside)), "{inside}");
        }
        for outside in ["10.0.0.4", "10.0.1.6", "::1"] {
            assert!(!range.contains(ip(outside)), "{outside}");
        }
        let v6 = IpRange::parse("::1-::5").expect("valid");
        assert!(v6.contains(ip("::3")));
        assert!(!v6.contains(ip("127.0.0.1")));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4-",
            "1.2.3.9-1.2.3.1",
            "1.2.3.4-::1",
            "localhost",
        ] {
            assert!(IpRange::parse(bad).is_none(), "{bad}");
        }
    }
}
