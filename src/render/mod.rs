//! Router configs rendered from the plan with minijinja templates embedded in the binary.
//!
//! `render_router` is pure: a planned router in, the files to upload into its container
//! out. The templates live in `templates/<kind>/` and are embedded by build.rs, so an
//! installed binary needs no template directory.

pub mod metallb;
mod view;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use crate::drivers::paths;
use crate::plan::model::PlannedRouter;
use crate::topology::model::RouterKind;
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use view::RouterView;

/// One file to place in a router's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// Absolute path inside the container.
    pub path: String,
    pub contents: String,
    /// Unix permission bits.
    pub mode: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("router {router}: a {kind} router with BGP sessions or announcements needs an ASN")]
    MissingAsn { router: String, kind: RouterKind },
    #[error("router {router}: the password of session {session} {reason}")]
    UnsupportedPassword {
        router: String,
        session: String,
        reason: &'static str,
    },
    #[error("router {router}: IPv6 is not supported yet ({what})")]
    Ipv6NotSupported { router: String, what: String },
    #[error("template {template}: {source:#}")]
    Template {
        template: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

/// Regular config files: readable by the daemons, which may run as their own user
/// (FRR drops to `frr`), and by `metallab exec` users inspecting a lab.
const CONFIG_MODE: u32 = 0o644;

/// The templates, parsed once: trim/lstrip blocks so `{% %}` lines leave no blank lines,
/// strict undefined so a typo in a template is an error instead of an empty string.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("static syntax config is valid"),
        );
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A string literal safe in TOML basic strings: JSON string escapes are valid TOML.
        env.add_filter("toml_string", |s: String| {
            serde_json::to_string(&s).expect("a string always serializes")
        });
        minijinja_embed::load_templates!(&mut env);
        env
    })
}

fn render(template: &'static str, view: &Value) -> Result<String, RenderError> {
    environment()
        .get_template(template)
        .and_then(|t| t.render(view))
        .map_err(|source| RenderError::Template { template, source })
}

fn file(path: &str, contents: String) -> ConfigFile {
    ConfigFile {
        path: path.to_string(),
        contents,
        mode: CONFIG_MODE,
    }
}

/// Every config file the router's daemons need, with their absolute paths.
pub fn render_router(router: &PlannedRouter) -> Result<Vec<ConfigFile>, RenderError> {
    check_router(router)?;
    let view = RouterView::new(router)?;
    let ctx = Value::from(minijinja::value::Serde(&view));
    let mut files = match router.kind {
        RouterKind::Frr => vec![
            file(paths::FRR_CONF, render("frr/frr.conf.j2", &ctx)?),
            file(paths::FRR_DAEMONS, render("frr/daemons.j2", &ctx)?),
            file(paths::FRR_VTYSH_CONF, render("frr/vtysh.conf", &ctx)?),
        ],
        RouterKind::Bird => vec![file(paths::BIRD_CONF, render("bird/bird.conf.j2", &ctx)?)],
        RouterKind::Gobgp => vec![file(
            paths::GOBGP_CONF,
            render("gobgp/gobgpd.toml.j2", &ctx)?,
        )],
        RouterKind::Quagga => vec![
            file(
                paths::QUAGGA_ZEBRA_CONF,
                render("quagga/zebra.conf.j2", &ctx)?,
            ),
            file(
                paths::QUAGGA_BGPD_CONF,
                render("quagga/bgpd.conf.j2", &ctx)?,
            ),
        ],
        RouterKind::Linux => vec![],
    };
    if router.http_server.is_some() {
        files.push(file(paths::HTTP_INDEX, render("http/index.html.j2", &ctx)?));
    }
    Ok(files)
}

/// What the templates cannot express: a missing ASN, and passwords the daemon's config
/// syntax cannot carry (FRR and Quagga take one word; BIRD strings have no escapes).
fn check_router(router: &PlannedRouter) -> Result<(), RenderError> {
    let has_bgp = !router.sessions.is_empty() || !router.announce.is_empty();
    if router.kind.speaks_bgp()
        && router.asn.is_none()
        && (has_bgp || router.kind == RouterKind::Gobgp)
    {
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
        if router.kind == RouterKind::Bird && (password.contains('"') || password.contains('\\')) {
            return Err(bad(
                "contains `\"` or `\\`, which BIRD config strings cannot hold",
            ));
        }
    }
    Ok(())
}
