//! The config templates of every kind, parsed once into one environment.

use super::{RenderError, RouterKind, RouterView};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};
use std::sync::OnceLock;

/// The page the optional HTTP server of any router serves.
pub const HTTP_INDEX_TEMPLATE: &str = "http/index.html.j2";

/// Trim/lstrip blocks so `{% %}` lines leave no blank lines, strict undefined so a typo
/// in a template is an error instead of an empty string.
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
        env.add_template(HTTP_INDEX_TEMPLATE, include_str!("http-index.html.j2"))
            .expect("the HTTP page template parses");
        for kind in RouterKind::all() {
            for (name, source) in kind.behaviour().templates() {
                env.add_template(name, source)
                    .unwrap_or_else(|e| panic!("template {name} does not parse: {e:#}"));
            }
        }
        env
    })
}

/// Renders the template `name` for a router.
pub fn render_template(name: &'static str, view: &RouterView) -> Result<String, RenderError> {
    let ctx = Value::from(minijinja::value::Serde(view));
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|source| RenderError::Template {
            template: name,
            source,
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        super::environment();
    }
}
