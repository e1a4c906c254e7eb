//! The lab diagram, laid out here rather than in the browser: networks as horizontal
//! lanes, routers, hosts and nodes as boxes attached to the lanes they sit on, BGP sessions
//! as curves between boxes. Computing coordinates in Rust keeps the layout pure and
//! snapshot-tested, the same in every browser, and the page's script a plain renderer of
//! rectangles, lines and paths it is given.
//!
//! Layout: lanes are stacked top to bottom in plan order. A box sits in the band next to
//! its lanes: above the first lane when it is only on the first one, below the last lane
//! when only on the last one (so a two-network lab reads left network / gateways / right
//! network from top to bottom), between two lanes when it joins them. Sessions between
//! boxes of one band are arcs on the band's outer side; others are straight lines.

use super::build::{external_id, node_id, router_id};
use super::*;
use crate::plan::Plan;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Diagram {
    pub width: i32,
    pub height: i32,
    pub lanes: Vec<Lane>,
    pub devices: Vec<DeviceBox>,
    pub attachments: Vec<Attachment>,
    pub edges: Vec<EdgePath>,
}

/// A network, drawn as a bar.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lane {
    pub network: String,
    /// `lan 10.232.1.0/24`.
    pub label: String,
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceBox {
    /// `router:frr1`, `node:kind-worker`, `external:192.0.2.9` (the ids in session edges).
    pub id: String,
    pub label: String,
    /// `frr · AS 64501`, `linux host`, `node · ready`, `external peer`.
    pub detail: String,
    pub role: Role,
    pub health: Health,
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

/// A box's interface on a lane: a vertical line from the box's edge to the bar's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attachment {
    pub device: String,
    pub network: String,
    pub ip: String,
    pub x: i32,
    /// Where the line leaves the box.
    pub box_y: i32,
    /// Where it meets the bar.
    pub lane_y: i32,
}

/// A session, as an SVG path between two boxes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EdgePath {
    /// The [`SessionEdge`] id.
    pub id: String,
    pub status: LinkStatus,
    /// SVG path data.
    pub d: String,
}

const MARGIN: i32 = 16;
/// Room left of the boxes for lane labels.
const LABEL_WIDTH: i32 = 170;
const BOX_WIDTH: i32 = 136;
const BOX_HEIGHT: i32 = 46;
const BOX_GAP: i32 = 36;
const LANE_HEIGHT: i32 = 20;
/// Vertical room between a box and a lane (for the attachment line and its address).
const LINK_ROOM: i32 = 44;
/// Between two lanes with no box between them.
const LANE_GAP: i32 = 28;
/// Arc height: a base plus a share of the horizontal distance, capped.
const ARC_BASE: i32 = 18;
const ARC_MAX: i32 = 110;

struct Device {
    id: String,
    label: String,
    detail: String,
    role: Role,
    health: Health,
    /// (lane index, address).
    attached: Vec<(usize, IpAddr)>,
}

fn devices(
    plan: &Plan,
    routers: &[RouterView],
    nodes: &[NodeView],
    externals: &[IpAddr],
) -> Vec<Device> {
    let lane_of_name = |name: &str| plan.networks.iter().position(|n| n.name == name);
    let lane_of_ip = |ip: IpAddr| {
        plan.networks
            .iter()
            .position(|n| IpNet::from(n.subnet).contains(&ip))
    };
    let mut v = vec![];
    for r in routers {
        let detail = match (r.role, r.asn) {
            (Role::Host, _) => "linux host".to_string(),
            (_, Some(asn)) => format!("{} · AS {asn}", r.kind),
            (_, None) => r.kind.clone(),
        };
        v.push(Device {
            id: router_id(&r.name),
            label: r.name.clone(),
            detail,
            role: r.role,
            health: r.health,
            attached: r
                .addresses
                .iter()
                .filter_map(|a| Some((lane_of_name(&a.network)?, a.ip)))
                .collect(),
        });
    }
    for n in nodes {
        let state = match n.ready {
            Some(true) => " · ready",
            Some(false) => " · not ready",
            None => "",
        };
        v.push(Device {
            id: node_id(&n.name),
            label: n.name.clone(),
            detail: format!("node{state}"),
            role: Role::Node,
            health: n.health,
            attached: n
                .ip
                .and_then(|ip| {
                    let lane = n
                        .network
                        .as_deref()
                        .and_then(lane_of_name)
                        .or_else(|| lane_of_ip(ip))?;
                    Some((lane, ip))
                })
                .into_iter()
                .collect(),
        });
    }
    for &ip in externals {
        v.push(Device {
            id: external_id(ip),
            label: ip.to_string(),
            detail: "external peer".to_string(),
            role: Role::External,
            health: Health::Unknown,
            attached: lane_of_ip(ip).map(|l| (l, ip)).into_iter().collect(),
        });
    }
    v
}

/// The band a box sits in: band `b` is above lane `b`; band `lanes` is below the last.
fn band_of(attached: &[(usize, IpAddr)], lanes: usize) -> usize {
    let lo = attached.iter().map(|a| a.0).min();
    let hi = attached.iter().map(|a| a.0).max();
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo != hi => lo + 1,
        (Some(only), _) if lanes > 1 && only == lanes - 1 => lanes,
        (Some(only), _) => only,
        _ => 0,
    }
}

fn arc_height(dx: i32) -> i32 {
    (ARC_BASE + dx.abs() / 5).min(ARC_MAX)
}

/// Lays out the diagram (pure; deterministic for equal inputs).
pub fn layout(
    plan: &Plan,
    routers: &[RouterView],
    nodes: &[NodeView],
    externals: &[IpAddr],
    sessions: &[SessionEdge],
) -> Diagram {
    let devices = devices(plan, routers, nodes, externals);
    let lanes = plan.networks.len();
    let band: Vec<usize> = devices
        .iter()
        .map(|d| band_of(&d.attached, lanes))
        .collect();
    // Horizontal: each band's boxes in a row, rows centred on the widest.
    let mut slot = vec![0usize; devices.len()];
    let mut per_band = vec![0usize; lanes + 1];
    for (i, &b) in band.iter().enumerate() {
        slot[i] = per_band[b];
        per_band[b] += 1;
    }
    let row_width = |n: usize| n as i32 * BOX_WIDTH + (n as i32 - 1).max(0) * BOX_GAP;
    let content_width = per_band
        .iter()
        .map(|&n| row_width(n))
        .max()
        .unwrap_or(0)
        .max(BOX_WIDTH);
    let left = MARGIN + LABEL_WIDTH;
    let box_x: Vec<i32> = (0..devices.len())
        .map(|i| {
            let row = row_width(per_band[band[i]]);
            left + (content_width - row) / 2 + slot[i] as i32 * (BOX_WIDTH + BOX_GAP)
        })
        .collect();
    let index_of = |id: &str| devices.iter().position(|d| d.id == id);
    let centre = |i: usize| box_x[i] + BOX_WIDTH / 2;
    // Arcs go away from the lanes: down below the last lane, up everywhere else.
    let arcs_down = |b: usize| lanes > 0 && b == lanes;
    let mut arc_room = vec![0i32; lanes + 1];
    for e in sessions {
        if let (Some(a), Some(b)) = (index_of(&e.a), index_of(&e.b))
            && band[a] == band[b]
        {
            let h = arc_height(centre(a) - centre(b));
            arc_room[band[a]] = arc_room[band[a]].max(h + 6);
        }
    }
    // Vertical: bands and lanes alternate.
    let mut box_y = vec![0i32; lanes + 1];
    let mut lane_y = vec![0i32; lanes];
    let mut y = MARGIN;
    for b in 0..=lanes {
        let occupied = per_band[b] > 0;
        if occupied {
            if b > 0 {
                y += LINK_ROOM;
            }
            if !arcs_down(b) {
                y += arc_room[b];
            }
            box_y[b] = y;
            y += BOX_HEIGHT;
            if arcs_down(b) {
                y += arc_room[b];
            }
        }
        if b < lanes {
            if occupied {
                y += LINK_ROOM;
            } else if b > 0 {
                y += LANE_GAP;
            }
            lane_y[b] = y;
            y += LANE_HEIGHT;
        }
    }
    let width = left + content_width + MARGIN;
    let height = y + MARGIN;

    let lanes_out = plan
        .networks
        .iter()
        .enumerate()
        .map(|(i, n)| Lane {
            network: n.name.clone(),
            label: format!("{} {}", n.name, n.subnet),
            x: MARGIN,
            y: lane_y[i],
            width: width - 2 * MARGIN,
            height: LANE_HEIGHT,
        })
        .collect();

    let mut attachments = vec![];
    for (i, d) in devices.iter().enumerate() {
        let b = band[i];
        let (up, down): (Vec<_>, Vec<_>) = d.attached.iter().partition(|(lane, _)| *lane < b);
        for (group, above) in [(up, true), (down, false)] {
            let n = group.len() as i32;
            for (j, &(lane, ip)) in group.into_iter().enumerate() {
                let x = box_x[i] + BOX_WIDTH * (j as i32 + 1) / (n + 1);
                let (from_box, to_lane) = if above {
                    (box_y[b], lane_y[lane] + LANE_HEIGHT)
                } else {
                    (box_y[b] + BOX_HEIGHT, lane_y[lane])
                };
                attachments.push(Attachment {
                    device: d.id.clone(),
                    network: plan.networks[lane].name.clone(),
                    ip: ip.to_string(),
                    x,
                    box_y: from_box,
                    lane_y: to_lane,
                });
            }
        }
    }

    let edges = sessions
        .iter()
        .filter_map(|e| {
            let (a, b) = (index_of(&e.a)?, index_of(&e.b)?);
            let d = if band[a] == band[b] {
                let (xa, xb) = (centre(a), centre(b));
                let h = arc_height(xa - xb);
                let (y0, cy) = if arcs_down(band[a]) {
                    let y0 = box_y[band[a]] + BOX_HEIGHT;
                    (y0, y0 + 2 * h)
                } else {
                    let y0 = box_y[band[a]];
                    (y0, y0 - 2 * h)
                };
                format!("M {xa} {y0} Q {} {cy} {xb} {y0}", (xa + xb) / 2)
            } else {
                let (upper, lower) = if band[a] < band[b] { (a, b) } else { (b, a) };
                format!(
                    "M {} {} L {} {}",
                    centre(upper),
                    box_y[band[upper]] + BOX_HEIGHT,
                    centre(lower),
                    box_y[band[lower]]
                )
            };
            Some(EdgePath {
                id: e.id.clone(),
                status: e.status,
                d,
            })
        })
        .collect();

    Diagram {
        width,
        height,
        lanes: lanes_out,
        devices: devices
            .iter()
            .enumerate()
            .map(|(i, d)| DeviceBox {
                id: d.id.clone(),
                label: d.label.clone(),
                detail: d.detail.clone(),
                role: d.role,
                health: d.health,
                x: box_x[i],
                y: box_y[band[i]],
                width: BOX_WIDTH,
                height: BOX_HEIGHT,
            })
            .collect(),
        attachments,
        edges,
    }
}
