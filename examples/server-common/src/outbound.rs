//! Where a server may connect because an admin typed an address: camera URLs (and, by the same
//! setting, webhook targets). An admin account is not a licence to read the services beside the
//! server: loopback, private, link-local and other internal addresses are refused unless the
//! operator turns on `outbound.allow_private_networks` (cameras on the site's LAN are normal;
//! it is one clear setting, off by default). Also what may be shown of such an address: its
//! `user:password@` never leaves the server.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// `[outbound]`: what admins' addresses may reach.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundConfig {
    /// Camera URLs may name loopback, private (RFC 1918, fc00::/7), link-local, CGNAT and
    /// other internal addresses. Off: they are refused when saved and when connecting.
    pub allow_private_networks: bool,
}

/// Why `ip` is not on the public internet, or None when it is.
pub fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.segments()[..6] == [0, 0, 0, 0, 0, 0] {
                // The deprecated IPv4-compatible form, ::a.b.c.d.
                v4_kind(Ipv4Addr::from(
                    (u32::from(v6.segments()[6]) << 16) | u32::from(v6.segments()[7]),
                ))
                .or(Some("IPv4-compatible"))
            } else {
                None
            }
        }
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("broadcast, multicast or reserved")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (CGNAT)")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("IETF protocol")
    } else if a == 198 && (18..20).contains(&b) {
        Some("benchmarking")
    } else {
        None
    }
}

/// An address block (`10.0.0.0/8`, `::1/128`, or one address), as `rate_limit.trusted_proxies`
/// lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let bad = || format!("{s:?} is not an address or an address block (10.0.0.0/8, ::1/128)");
        let (addr, bits) = match s.trim().split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        if bits > max {
            return Err(bad());
        }
        Ok(Cidr { net, bits })
    }
}

impl Cidr {
    /// Whether `ip` is in the block (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The client of a request that came from `peer` with `X-Forwarded-For: forwarded`: when the
/// peer is a trusted proxy, the rightmost address of the header that is not a trusted proxy
/// (each proxy appends the address it was called from, so addresses left of the last trusted
/// hop are the client's own words and never count); otherwise the peer itself.
pub fn client_address(peer: IpAddr, forwarded: Option<&str>, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => client = ip,
            Ok(ip) => return ip,
            // A hop that is no address (a proxy's "unknown", garbage): stop at the last good one.
            Err(_) => return client,
        }
    }
    client
}

/// Checks that `url`'s host resolves only to public addresses (unless `allow_private`).
/// Resolves the name: call it off the async workers. Every address a name resolves to must be
/// public, so a name with one internal address among public ones is refused too.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let host = parsed
        .host()
        .ok_or_else(|| "the URL names no host".to_string())?;
    if allow_private {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(554);
    let addresses: Vec<IpAddr> = match host {
        url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
        url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        url::Host::Domain(name) => {
            use std::net::ToSocketAddrs;
            (name, port)
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve {name}: {e}"))?
                .map(|a| a.ip())
                .collect()
        }
    };
    if addresses.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    for ip in addresses {
        if let Some(kind) = internal_kind(ip) {
            return Err(format!(
                "{host} is a {kind} address ({ip}): internal addresses are refused unless \
                 outbound.allow_private_networks is on"
            ));
        }
    }
    Ok(())
}

/// `url` with its `user:password@` shown as `***@` (as is when it has none, or is no URL).
pub fn redact_url(url: &str) -> String {
    match userinfo(url) {
        Some(info) => url.replacen(info, "***", 1),
        None => url.to_string(),
    }
}

/// `text` (an error message, a log line) with every copy of `url`'s `user:password` replaced
/// by `***`.
pub fn redact_in(text: &str, url: &str) -> String {
    match userinfo(url) {
        Some(info) => text.replace(info, "***"),
        None => text.to_string(),
    }
}

/// The `user:password` part of `scheme://user:password@host/…`.
fn userinfo(url: &str) -> Option<&str> {
    let rest_at = url.find("://")? + 3;
    let rest = &url[rest_at..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    (at > 0).then(|| &authority[..at])
}

/// Whether `candidate` is what [`redact_url`] shows for `stored`: an admin who saves a camera
/// back unchanged sends the `***` form, which keeps the stored credentials.
pub fn is_redacted_form_of(candidate: &str, stored: &str) -> bool {
    candidate != stored && userinfo(stored).is_some() && redact_url(stored) == candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_named_and_public_ones_pass() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.10",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.1.1",
            "::127.0.0.1",
        ] {
            assert!(internal_kind(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "93.184.216.34",
            "2001:4860:4860::8888",
            "172.32.0.1",
        ] {
            assert_eq!(internal_kind(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn urls_to_internal_hosts_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8081/health?.asc",
            "http://127.1:9/x",
            "rtsp://user:pw@10.0.0.7/stream",
            "http://[::1]:80/",
            "http://[fd00::1]/",
            "https://169.254.169.254/latest/meta-data",
            "http://localhost:8080/x",
            "http://0x7f000001/",
        ] {
            let e = check_url(url, false).expect_err(url);
            assert!(e.contains("outbound.allow_private_networks"), "{url}: {e}");
            assert_eq!(check_url(url, true), Ok(()), "{url}");
        }
        assert!(check_url("not a url", true).is_err());
        assert_eq!(check_url("http://93.184.216.34/x.mjpg", false), Ok(()));
    }

    #[test]
    fn the_client_address_is_taken_from_the_right_past_trusted_proxies() {
        let trusted: Vec<Cidr> = ["10.0.0.0/8", "::1"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Through one trusted proxy: the address it saw, whatever the client wrote before it.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("1.2.3.4, 5.6.7.8"), &trusted),
            ip("5.6.7.8")
        );
        // Two trusted hops are skipped.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("6.6.6.6, 9.9.9.9, 10.1.1.1"), &trusted),
            ip("9.9.9.9")
        );
        // Not from a trusted proxy: the header does not count at all.
        assert_eq!(
            client_address(ip("9.9.9.9"), Some("1.2.3.4"), &trusted),
            ip("9.9.9.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), None, &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("::1"), Some("junk, 10.2.2.2"), &trusted),
            ip("10.2.2.2")
        );
        assert_eq!(
            client_address(ip("::ffff:10.0.0.9"), Some("7.7.7.7"), &trusted),
            ip("7.7.7.7")
        );
        for bad in ["10.0.0.0/33", "x", "::1/129", "1.2.3.4/"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
    }

    #[test]
    fn credentials_are_redacted_wherever_they_appear() {
        let url = "rtsp://admin:s3cr@t@cam.example:554/live?x=1";
        assert_eq!(redact_url(url), "rtsp://***@cam.example:554/live?x=1");
        assert_eq!(
            redact_in(&format!("ffmpeg: {url}: Connection refused"), url),
            "ffmpeg: rtsp://***@cam.example:554/live?x=1: Connection refused"
        );
        assert_eq!(redact_url("http://cam/x?u=a@b"), "http://cam/x?u=a@b");
        assert_eq!(redact_url("/videos/door.mp4"), "/videos/door.mp4");
        assert!(is_redacted_form_of(&redact_url(url), url));
        assert!(!is_redacted_form_of(url, url));
        assert!(!is_redacted_form_of("rtsp://***@other/live", url));
    }
}
