//! The fixed address of an in-cluster router: a ClusterIP its Service is created with.
//!
//! MetalLB's speakers need a stable address to peer with, and a pod's own IP changes with
//! every restart; a Service's ClusterIP does not. The old MetalLB test-bgp-router used
//! 10.96.0.100 and 10.96.0.101 the same way.
//!
//! How the address is chosen (pure, deterministic):
//! - from 10.96.0.100–10.96.0.199. Every usual Service CIDR contains that block: kind's
//!   10.96.0.0/16, kubeadm's and Minikube's 10.96.0.0/12. It also lies in the *static
//!   band* of those CIDRs: the apiserver hands out dynamic ClusterIPs from above the first
//!   min(max(16, size/16), 256) addresses (256 for a /16 or a /12) and takes the band
//!   only once the rest is exhausted (KEP-3070, GA in Kubernetes 1.26; "Service ClusterIP
//!   allocation" in the Kubernetes docs), so a fixed address there does not collide with
//!   Services created before it. The usual static addresses, .1 (the API) and .10 (DNS),
//!   lie below the block;
//! - the slot is a hash of `<lab>/<router>`, so adding or removing another router does
//!   not move this one, and two labs on one existing cluster rarely meet. Two routers of
//!   one lab that hash to the same slot are separated by taking the next free slot, in
//!   the order of the topology file.
//!
//! A cluster with another Service CIDR refuses the Service ("provided IP is not in the
//! valid range"); overriding the address from the topology is left for later.
//!
//! The plan records the address as the router's only interface, on the pseudo network
//! [`SERVICE_NETWORK`], so everything planned from interfaces (router-id, session local
//! addresses, what other parts of the lab see as the router's address) uses it unchanged.

use crate::plan::model::{PlannedInterface, PlannedRouter};
use crate::topology::model::Placement;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

/// The pseudo network of an in-cluster router's Service address. Not a Docker network,
/// and not a name a topology can use (network names are DNS labels).
pub const SERVICE_NETWORK: &str = "cluster:service";

/// First address of the block ClusterIPs are picked from (10.96.0.100).
pub const FIRST_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 100);

/// How many addresses the block holds: 10.96.0.100–10.96.0.199. Validation caps the
/// number of in-cluster routers of a lab at this.
pub const SERVICE_SLOTS: u32 = crate::topology::model::IN_CLUSTER_ROUTER_LIMIT;

/// The slot a router would like: a hash of lab and router name.
fn preferred_slot(lab: &str, router: &str) -> u32 {
    let digest = Sha256::digest(format!("{lab}/{router}").as_bytes());
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    first % SERVICE_SLOTS
}

fn slot_address(slot: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(FIRST_SERVICE_IP) + slot)
}

/// The ClusterIP of each router, in the order given (the topology's order): its preferred
/// slot, or the next free one after it. Returns None when there are more routers than
/// slots (validation prevents that).
pub fn service_addresses(lab: &str, routers: &[&str]) -> Option<Vec<Ipv4Addr>> {
    if routers.len() > SERVICE_SLOTS as usize {
        return None;
    }
    let mut taken = BTreeSet::new();
    let addresses = routers
        .iter()
        .map(|router| {
            let preferred = preferred_slot(lab, router);
            let slot = (0..SERVICE_SLOTS)
                .map(|step| (preferred + step) % SERVICE_SLOTS)
                .find(|slot| !taken.contains(slot))
                .expect("fewer routers than slots");
            taken.insert(slot);
            slot_address(slot)
        })
        .collect();
    Some(addresses)
}

/// Gives every in-cluster router of a freshly built plan its Service address, as its
/// only interface (validation leaves them without lab interfaces). Docker routers are
/// untouched. Called by `plan::build` before addresses, router-ids and sessions are
/// decided, so those see the ClusterIP.
pub fn add_service_interfaces(lab: &str, routers: &mut [PlannedRouter]) {
    let names: Vec<String> = routers
        .iter()
        .filter(|r| r.placement == Placement::Cluster)
        .map(|r| r.name.clone())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let Some(addresses) = service_addresses(lab, &names) else {
        return; // validated: at most SERVICE_SLOTS in-cluster routers
    };
    let in_cluster = routers
        .iter_mut()
        .filter(|r| r.placement == Placement::Cluster);
    for (router, address) in in_cluster.zip(addresses) {
        router.interfaces = vec![PlannedInterface {
            network: SERVICE_NETWORK.to_string(),
            docker_network: String::new(),
            ip: IpAddr::V4(address),
            prefix_len: 32,
        }];
    }
}

/// The ClusterIP the plan gave an in-cluster router.
pub fn service_ip(router: &PlannedRouter) -> Option<IpAddr> {
    router.ip_on(SERVICE_NETWORK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_from_the_static_block_and_are_stable() {
        let first = service_addresses("lab", &["bird", "quagga"]).unwrap();
        let again = service_addresses("lab", &["bird", "quagga"]).unwrap();
        assert_eq!(first, again);
        for address in &first {
            let offset = u32::from(*address) - u32::from(FIRST_SERVICE_IP);
            assert!(offset < SERVICE_SLOTS, "{address} is outside the block");
        }
        assert_ne!(first[0], first[1]);
    }

    #[test]
    fn another_router_does_not_move_an_existing_one() {
        let bird = preferred_slot("lab", "bird");
        assert!(
            preferred_slot("lab", "frr") != bird && preferred_slot("lab", "gobgp") != bird,
            "the newcomers must not want bird's slot for this test to mean anything"
        );
        let alone = service_addresses("lab", &["bird"]).unwrap();
        let with_more = service_addresses("lab", &["frr", "bird", "gobgp"]).unwrap();
        assert_eq!(with_more[1], alone[0]);
    }

    #[test]
    fn a_taken_slot_moves_the_later_router_to_the_next_one() {
        // Find two names wanting the same slot; the second in file order moves up by one.
        let wanted = preferred_slot("lab", "r0");
        let twin = (1..10_000)
            .map(|i| format!("r{i}"))
            .find(|n| preferred_slot("lab", n) == wanted)
            .expect("100 slots: a collision within 10000 names");
        let addresses = service_addresses("lab", &["r0", &twin]).unwrap();
        assert_eq!(addresses[0], slot_address(wanted));
        assert_eq!(addresses[1], slot_address((wanted + 1) % SERVICE_SLOTS));
    }

    #[test]
    fn a_hundred_routers_fill_every_slot_and_one_more_does_not_fit() {
        let names: Vec<String> = (0..100).map(|i| format!("r{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let addresses = service_addresses("lab", &names).unwrap();
        let distinct: BTreeSet<_> = addresses.iter().collect();
        assert_eq!(distinct.len(), 100);
        let mut too_many = names.clone();
        too_many.push("r100");
        assert_eq!(service_addresses("lab", &too_many), None);
    }

    #[test]
    fn the_lab_name_takes_part_in_the_choice() {
        // Not a guarantee for any pair of names, but these two labs differ.
        let a = service_addresses("lab-a", &["bird"]).unwrap();
        let b = service_addresses("lab-b", &["bird"]).unwrap();
        let c = service_addresses("lab-c", &["bird"]).unwrap();
        assert!(
            a != b || b != c,
            "three labs, one address: the hash ignores the lab"
        );
    }
}
