//! Helpers shared by unit tests.

use ipnet::IpNet;
use std::net::IpAddr;

/// An address literal (tests only: panics on a typo, which is what a test wants).
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A prefix literal.
pub fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}
