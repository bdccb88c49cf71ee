//! How many connections may be open at once: in all, and from one client
//! address. A connection holds a [`Slot`] for as long as its socket lives.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Which cap refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `max_connections` are open.
    Total,
    /// `max_connections_per_address` are open from this address.
    Address,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// The open connections, counted against both caps.
pub(crate) struct ConnCaps {
    max: usize,
    per_address: usize,
    counts: Mutex<Counts>,
}

/// One open connection's place; dropping it frees the place.
pub(crate) struct Slot {
    caps: Arc<ConnCaps>,
    /// The address counted against its cap; `None` for exempt (trusted proxy) peers.
    address: Option<IpAddr>,
}

/// The key one client is counted under: an IPv6 client usually holds a
/// whole /64, so its addresses count as one; v4-mapped addresses are IPv4.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

impl ConnCaps {
    /// At most `max` connections, and `per_address` from one client.
    pub(crate) fn new(max: usize, per_address: usize) -> Arc<ConnCaps> {
        Arc::new(ConnCaps { max, per_address, counts: Mutex::new(Counts::default()) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for a connection from `ip`; `exempt` skips the per-address cap
    /// (a trusted proxy carries everybody's connections).
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr, exempt: bool) -> Result<Slot, Refused> {
        let mut counts = self.lock();
        if counts.total >= self.max {
            return Err(Refused::Total);
        }
        let address = if exempt {
            None
        } else {
            let key = client_key(ip);
            let n = counts.by_address.entry(key).or_insert(0);
            if *n >= self.per_address {
                return Err(Refused::Address);
            }
            *n += 1;
            Some(key)
        };
        counts.total += 1;
        Ok(Slot { caps: self.clone(), address })
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.lock().total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.caps.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(key) = self.address
            && let Some(n) = counts.by_address.get_mut(&key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.by_address.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn both_caps_hold_and_places_come_back() {
        let caps = ConnCaps::new(3, 2);
        let a = caps.take(ip("192.0.2.1"), false).unwrap();
        let _b = caps.take(ip("192.0.2.1"), false).unwrap();
        assert_eq!(caps.take(ip("192.0.2.1"), false).err(), Some(Refused::Address));
        let _c = caps.take(ip("192.0.2.2"), false).unwrap();
        assert_eq!(caps.take(ip("192.0.2.3"), false).err(), Some(Refused::Total));
        assert_eq!(caps.take(ip("10.0.0.1"), true).err(), Some(Refused::Total));
        drop(a);
        assert_eq!(caps.open(), 2);
        let _d = caps.take(ip("192.0.2.1"), false).unwrap();
    }

    #[test]
    fn trusted_peers_skip_the_address_cap() {
        let caps = ConnCaps::new(10, 1);
        let _held: Vec<Slot> = (0..5).map(|_| caps.take(ip("10.0.0.1"), true).unwrap()).collect();
        assert_eq!(caps.open(), 5);
        let _one = caps.take(ip("10.0.0.1"), false).unwrap();
        assert_eq!(caps.take(ip("10.0.0.1"), false).err(), Some(Refused::Address));
    }

    #[test]
    fn one_ipv6_network_is_one_client() {
        let caps = ConnCaps::new(10, 1);
        let _a = caps.take(ip("2001:db8:1:2::1"), false).unwrap();
        assert_eq!(caps.take(ip("2001:db8:1:2::ffff"), false).err(), Some(Refused::Address));
        let _b = caps.take(ip("2001:db8:1:3::1"), false).unwrap();
        let _c = caps.take(ip("::ffff:192.0.2.9"), false).unwrap();
        assert_eq!(caps.take(ip("192.0.2.9"), false).err(), Some(Refused::Address));
    }
}
