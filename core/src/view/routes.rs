//! `metallab routes`: the BGP tables of the lab view's routers, one block per router and
//! one line per path, next hops named when they are lab routers or cluster nodes (pure).

use super::table::{Painter, Tone, indent, table};
use super::{LabView, Role, RouteView};
use serde::Serialize;

/// One router's table as `routes -o json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouterRoutes<'a> {
    pub router: &'a str,
    pub kind: &'a str,
    pub routes: &'a [RouteView],
    /// Why the table could not be read.
    pub error: Option<String>,
}

/// The tables of the view's BGP routers, or of `only`.
pub fn router_routes<'a>(view: &'a LabView, only: Option<&str>) -> Vec<RouterRoutes<'a>> {
    view.routers
        .iter()
        .filter(|r| r.role == Role::Router && only.is_none_or(|o| o == r.name))
        .map(|r| {
            // A router that was not read says why: its container, first.
            let not_running = r
                .container
                .as_ref()
                .filter(|c| !c.is_running())
                .map(|_| r.problems.first().map(|p| p.message.clone()));
            RouterRoutes {
                router: &r.name,
                kind: &r.kind,
                routes: &r.routes,
                error: r.error.clone().or(not_running.flatten()),
            }
        })
        .collect()
}

/// The tables as text.
pub fn render_routes(all: &[RouterRoutes<'_>], p: Painter) -> String {
    let mut out = String::new();
    for rr in all {
        out.push_str(&format!(
            "{} {}\n",
            p.paint(Tone::Bold, rr.router),
            p.paint(Tone::Dim, format!("({})", rr.kind))
        ));
        if let Some(e) = &rr.error {
            out.push_str(&format!(
                "  {}\n\n",
                p.paint(Tone::Bad, format!("cannot read: {e}"))
            ));
            continue;
        }
        let mut rows = vec![];
        for route in rr.routes {
            for (i, path) in route.paths.iter().enumerate() {
                let via = match (path.next_hop, &path.next_hop_name) {
                    (Some(ip), Some(name)) if path.next_hop_is_node => {
                        p.paint(Tone::Node, format!("{ip} (node {name})"))
                    }
                    (Some(ip), Some(name)) => format!("{ip} ({name})"),
                    (Some(ip), None) => ip.to_string(),
                    (None, _) => p.paint(Tone::Dim, "local"),
                };
                rows.push(vec![
                    if i == 0 {
                        route.prefix.to_string()
                    } else {
                        String::new()
                    },
                    if path.best {
                        p.paint(Tone::Good, "*")
                    } else {
                        String::new()
                    },
                    via,
                    path.as_path
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    path.local_pref.map(|l| l.to_string()).unwrap_or_default(),
                    path.med.map(|l| l.to_string()).unwrap_or_default(),
                    path.communities.join(" "),
                ]);
            }
        }
        if rows.is_empty() {
            out.push_str(&format!("  {}\n\n", p.paint(Tone::Dim, "(no routes)")));
            continue;
        }
        out.push_str(&indent(
            &table(
                &[
                    "PREFIX",
                    "BEST",
                    "NEXT HOP",
                    "AS PATH",
                    "LOCPRF",
                    "MED",
                    "COMMUNITIES",
                ],
                &rows,
            ),
            2,
        ));
        out.push('\n');
    }
    out
}
