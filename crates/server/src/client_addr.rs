//! The client's address: the TCP peer, or, when the peer is a trusted
//! reverse proxy, the address the proxies forwarded.

use crate::AppState;
use crate::error::Failure;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use protocol::ErrorCode;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The address a request comes from, for rate limits and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The address.
    pub fn ip(self) -> IpAddr {
        self.0
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            tracing::error!("a request arrived without its peer address");
            return Err(Failure::new(ErrorCode::Internal, "the server could not tell where the request came from"));
        };
        Ok(ClientAddr(client_ip(peer.ip(), &parts.headers, &state.config.trusted_proxies)))
    }
}

/// Whether `ip` lies in one of the trusted proxy ranges.
pub(crate) fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client's address for a request from `peer`. Forwarding headers count
/// only when `peer` is trusted: walking the hops from the nearest, the first
/// address that is not a trusted proxy is the client (anything left of it
/// could be made up by the client itself). Without a usable header, or when
/// every hop is trusted, it is the peer.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let Some(hops) = forwarded_hops(headers) else {
        return peer;
    };
    for hop in hops.into_iter().rev() {
        match hop {
            // A hop a trusted proxy wrote but we cannot read: trust nothing beyond it.
            None => return peer,
            Some(ip) if is_trusted(ip, trusted) => continue,
            Some(ip) => return ip,
        }
    }
    peer
}

/// The hops of `X-Forwarded-For` or, without it, of `Forwarded`, farthest
/// first; `None` for a hop that is not an address. X-Forwarded-For wins
/// because the usual proxy configuration (nginx's `$proxy_add_x_forwarded_for`)
/// appends to it while passing a client's own `Forwarded` header through.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    if let Some(joined) = joined(headers, "x-forwarded-for") {
        return Some(joined.map_or_else(|| vec![None], |v| split_outside_quotes(&v, ',').into_iter().map(|h| node(h.trim())).collect()));
    }
    let joined = joined(headers, "forwarded")?;
    let Some(value) = joined else {
        return Some(vec![None]);
    };
    Some(split_outside_quotes(&value, ',').into_iter().map(forwarded_for).collect())
}

/// Every line of a header joined by commas: `None` if absent, `Some(None)` if not text.
fn joined(headers: &HeaderMap, name: &str) -> Option<Option<String>> {
    let mut lines = headers.get_all(name).iter().peekable();
    lines.peek()?;
    let mut out = String::new();
    for line in lines {
        let Ok(text) = line.to_str() else {
            return Some(None);
        };
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(text);
    }
    Some(Some(out))
}

/// The `for=` address of one RFC 7239 element, e.g. `for="[2001:db8::1]:4711";proto=https`.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    split_outside_quotes(element, ';')
        .into_iter()
        .find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            name.trim().eq_ignore_ascii_case("for").then(|| value.trim())
        })
        .and_then(|value| {
            let value = match value.strip_prefix('"') {
                Some(rest) => rest.strip_suffix('"')?,
                None => value,
            };
            node(value)
        })
}

/// An address written as `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:80`.
fn node(text: &str) -> Option<IpAddr> {
    if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return v6.parse::<Ipv6Addr>().ok().map(|ip| IpAddr::V6(ip).to_canonical());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (v4, port) = text.split_once(':')?;
    if !is_port(port) {
        return None;
    }
    v4.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Splits on `sep` except inside double quotes (RFC 7230 quoted strings).
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7"), ("forwarded", "for=198.51.100.1")]);
        assert_eq!(client_ip(ip("192.0.2.1"), &h, &[]), ip("192.0.2.1"));
        assert_eq!(client_ip(ip("192.0.2.1"), &h, &nets(&["10.0.0.0/8"])), ip("192.0.2.1"));
    }

    #[test]
    fn a_trusted_proxy_forwards_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_ip(ip("10.1.2.3"), &h, &trusted), ip("203.0.113.7"));
        // No header: the proxy itself.
        assert_eq!(client_ip(ip("10.1.2.3"), &HeaderMap::new(), &trusted), ip("10.1.2.3"));
    }

    #[test]
    fn a_spoofed_left_part_of_the_chain_is_skipped() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real address.
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.7"));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_from_the_right() {
        let trusted = nets(&["10.0.0.0/8", "192.168.0.0/16"]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 192.168.1.1"), ("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        // Every hop trusted: the peer.
        let h = headers(&[("x-forwarded-for", "192.168.1.1, 10.9.9.9")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_and_ports_are_understood() {
        let trusted = nets(&["::1/128", "127.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "[2001:db8::17]:4711")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("2001:db8::17"));
        let h = headers(&[("x-forwarded-for", "2001:db8::18")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("2001:db8::18"));
        let h = headers(&[("x-forwarded-for", "203.0.113.9:1234")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("203.0.113.9"));
        // A v4-mapped peer is the v4 address, so a v4 range trusts it.
        let h = headers(&[("x-forwarded-for", "::ffff:203.0.113.10")]);
        assert_eq!(client_ip(ip("::ffff:127.0.0.1"), &h, &trusted), ip("203.0.113.10"));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("forwarded", r#"for=192.0.2.43;proto=https, For="[2001:db8:cafe::17]:4711";by=10.0.0.2"#)]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", r#"for=192.0.2.43, for="10.0.0.7:80""#)]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("192.0.2.43"));
        // X-Forwarded-For wins over a Forwarded header the client may have sent.
        let h = headers(&[("forwarded", "for=198.51.100.1"), ("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.7"));
    }

    #[test]
    fn garbage_falls_back_to_the_peer() {
        let trusted = nets(&["10.0.0.0/8"]);
        for bad in ["", "unknown", "not an address", "203.0.113.7:http", "[2001:db8::1", "[2001:db8::1]x", "1.2.3.4.5", ",", "999.1.1.1"] {
            let h = headers(&[("x-forwarded-for", bad)]);
            assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"), "X-Forwarded-For: {bad}");
        }
        for bad in ["for=unknown", "for=_hidden", "proto=https", r#"for="[2001:db8::1"#, "for=", "by=1.2.3.4"] {
            let h = headers(&[("forwarded", bad)]);
            assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"), "Forwarded: {bad}");
        }
        // Garbage right of the client stops the walk; garbage left of it does not matter.
        let h = headers(&[("x-forwarded-for", "203.0.113.7, junk")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
        let h = headers(&[("x-forwarded-for", "junk, 203.0.113.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        // Bytes that are not text.
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_bytes(b"203.0.113.7\xff").unwrap());
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
    }
}
