//! Linux hosts: its rendered configs (snapshots), start commands and readiness, from the
//! planned routers of `render::fixtures`.

use crate::render::fixtures::{self, rendered};
use crate::render::render_router;

#[test]
fn linux_configs() {
    insta::assert_snapshot!("linux_http_server", rendered(&fixtures::linux_hop()));
    let mut plain = fixtures::linux_hop();
    plain.http_server = None;
    assert!(render_router(&plain).unwrap().is_empty());
}
