//! What a `to:` / `session:` / `nexthops:` item names: a router, every cluster node, or
//! an address. Shared by validation and the plan builder so both read it the same way.

use std::net::IpAddr;

/// The keyword naming every cluster node.
pub const NODES: &str = "nodes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Router(&'a str),
    Nodes,
    Address(IpAddr),
}

impl<'a> Target<'a> {
    pub fn parse(text: &'a str) -> Target<'a> {
        if text == NODES {
            Target::Nodes
        } else if let Ok(ip) = text.parse() {
            Target::Address(ip)
        } else {
            Target::Router(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_routers_nodes_and_addresses() {
        assert_eq!(Target::parse("frr1"), Target::Router("frr1"));
        assert_eq!(Target::parse("nodes"), Target::Nodes);
        assert_eq!(
            Target::parse("10.0.0.5"),
            Target::Address("10.0.0.5".parse().unwrap())
        );
    }
}
