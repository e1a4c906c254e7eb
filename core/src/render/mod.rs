//! Router configs rendered from the plan with minijinja templates embedded in the binary.
//!
//! `render_router` is pure: a planned router in, the files to upload into its container
//! out. The templates live in `templates/<kind>/` and are embedded by build.rs, so an
//! installed binary needs no template directory.

pub mod metallb;
mod view;

#[cfg(any(test, feature = "test-fixtures"))]
pub mod fixtures;
#[cfg(test)]
mod tests;

use crate::drivers::paths;
use crate::kinds::templates::HTTP_INDEX_TEMPLATE;
use crate::plan::model::PlannedRouter;

pub use crate::kinds::{ConfigFile, RenderError};
use crate::kinds::{config_file, render_template};

/// Every config file the router's daemons need, with their absolute paths.
pub fn render_router(router: &PlannedRouter) -> Result<Vec<ConfigFile>, RenderError> {
    check_router(router)?;
    let view = view::router_view(router)?;
    if let Some(what) = router.kind.behaviour().view_problem(&view) {
        return Err(RenderError::Unsupported {
            router: router.name.clone(),
            what,
        });
    }
    let mut files = router.kind.behaviour().config_files(&view)?;
    if router.http_server.is_some() {
        files.push(config_file(
            paths::HTTP_INDEX,
            render_template(HTTP_INDEX_TEMPLATE, &view)?,
        ));
    }
    Ok(files)
}

/// What the templates cannot express: a missing ASN, and passwords the daemon's config
/// syntax cannot carry (one word everywhere; a kind may refuse more).
fn check_router(router: &PlannedRouter) -> Result<(), RenderError> {
    let has_bgp = !router.sessions.is_empty() || !router.announce.is_empty();
    let profile = router.kind.profile();
    if profile.speaks_bgp && router.asn.is_none() && (has_bgp || profile.asn_always) {
        return Err(RenderError::MissingAsn {
            router: router.name.clone(),
            kind: router.kind,
        });
    }
    for s in &router.sessions {
        let Some(password) = &s.password else {
            continue;
        };
        let bad = |reason| RenderError::UnsupportedPassword {
            router: router.name.clone(),
            session: s.id.clone(),
            reason,
        };
        if password.is_empty() {
            return Err(bad("is empty"));
        }
        if password.len() > 80 {
            return Err(bad("is longer than 80 bytes, the TCP MD5 key limit"));
        }
        if password
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad("contains whitespace or control characters"));
        }
        if let Some(reason) = router.kind.behaviour().password_problem(password) {
            return Err(bad(reason));
        }
    }
    Ok(())
}
