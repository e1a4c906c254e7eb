use super::*;
use crate::render::fixtures::{self, file_of};

// --- across kinds (each kind's own snapshots are in its folder) ----------------------------

// --- behaviour the snapshots must not lose ------------------------------------------------

#[test]
fn stubs_export_only_their_own_prefixes() {
    let frr = file_of(&fixtures::frr_ebgp(), crate::kinds::frr::paths::CONF);
    assert!(frr.contains("neighbor 10.212.1.12 route-map METALLAB-ANNOUNCED-ONLY out"));
    assert!(frr.contains("ip prefix-list METALLAB-ANNOUNCED seq 5 permit 192.0.2.16/28"));
    let bird = file_of(&fixtures::bird_ebgp(), crate::kinds::bird::paths::CONF);
    assert!(!bird.contains("RTS_BGP then accept"));
    let gobgp = file_of(&fixtures::gobgp_ebgp(), crate::kinds::gobgp::paths::CONF);
    assert!(gobgp.contains("default-export-policy = \"reject-route\""));
}

#[test]
fn transit_routers_have_no_export_restriction() {
    let frr = file_of(
        &fixtures::transit(fixtures::frr_ebgp()),
        crate::kinds::frr::paths::CONF,
    );
    assert!(!frr.contains("METALLAB-ANNOUNCED"));
    let bird = file_of(
        &fixtures::transit(fixtures::bird_ebgp()),
        crate::kinds::bird::paths::CONF,
    );
    assert!(bird.contains("if source = RTS_BGP then accept;"));
    let gobgp = file_of(
        &fixtures::transit(fixtures::gobgp_ebgp()),
        crate::kinds::gobgp::paths::CONF,
    );
    assert!(!gobgp.contains("apply-policy"));
}

#[test]
fn a_stub_announcing_nothing_denies_everything() {
    let mut frr = fixtures::frr_ebgp();
    frr.announce.clear();
    let conf = file_of(&frr, crate::kinds::frr::paths::CONF);
    assert!(conf.contains("route-map METALLAB-ANNOUNCED-ONLY deny 10"));
    assert!(!conf.contains("ip prefix-list"));
    let mut gobgp = fixtures::gobgp_ebgp();
    gobgp.announce.clear();
    let conf = file_of(&gobgp, crate::kinds::gobgp::paths::CONF);
    assert!(conf.contains("default-export-policy = \"reject-route\""));
    assert!(!conf.contains("prefix-set"));
}

#[test]
fn ibgp_sessions_set_next_hop_self_and_bird_keeps_them_single_hop() {
    let frr = file_of(&fixtures::frr_ibgp(), crate::kinds::frr::paths::CONF);
    assert!(frr.contains("neighbor 10.212.1.22 next-hop-self"));
    let bird = file_of(&fixtures::bird_ibgp(), crate::kinds::bird::paths::CONF);
    assert!(bird.contains("  direct;\n"));
    assert!(bird.contains("next hop self;"));
    let ebgp = file_of(&fixtures::bird_ebgp(), crate::kinds::bird::paths::CONF);
    assert!(!ebgp.contains("direct;\n") && !ebgp.contains("next hop self"));
}

#[test]
fn a_session_asn_other_than_the_router_asn_becomes_local_as() {
    let mut frr = fixtures::frr_ebgp();
    frr.sessions[0].local_asn = 64999;
    let conf = file_of(&frr, crate::kinds::frr::paths::CONF);
    assert!(conf.contains("neighbor 10.212.1.12 local-as 64999 no-prepend replace-as"));
    let mut gobgp = fixtures::gobgp_ebgp();
    gobgp.sessions[0].local_asn = 64999;
    assert!(file_of(&gobgp, crate::kinds::gobgp::paths::CONF).contains("local-as = 64999"));
}

#[test]
fn toml_strings_are_escaped() {
    let mut gobgp = fixtures::gobgp_password();
    gobgp.sessions[0].password = Some(r#"a"b\c"#.into());
    let conf = file_of(&gobgp, crate::kinds::gobgp::paths::CONF);
    assert!(conf.contains(r#"auth-password = "a\"b\\c""#), "{conf}");
}

#[test]
fn every_config_file_has_an_absolute_path_and_is_readable() {
    for router in fixtures::scratch_lab()
        .iter()
        .chain(&fixtures::ecmp_transit_lab())
        .chain(&fixtures::routed_segment_lab())
    {
        for f in render_router(router).unwrap() {
            assert!(f.path.starts_with('/'), "{}", f.path);
            assert_eq!(f.mode, 0o644);
            assert!(
                f.contents.ends_with('\n'),
                "{} does not end with a newline",
                f.path
            );
        }
    }
}

// --- errors -------------------------------------------------------------------------------

#[test]
fn a_bgp_router_without_asn_is_an_error() {
    let mut r = fixtures::bird_ebgp();
    r.asn = None;
    assert!(matches!(
        render_router(&r),
        Err(RenderError::MissingAsn { .. })
    ));
    let mut gobgp = fixtures::lonely(fixtures::gobgp_ebgp());
    gobgp.asn = None;
    assert!(matches!(
        render_router(&gobgp),
        Err(RenderError::MissingAsn { .. })
    ));
}

#[test]
fn frr_and_bird_without_asn_or_sessions_render_without_bgp() {
    let mut frr = fixtures::lonely(fixtures::frr_ebgp());
    frr.asn = None;
    assert!(!file_of(&frr, crate::kinds::frr::paths::CONF).contains("router bgp"));
    let mut bird = fixtures::lonely(fixtures::bird_ebgp());
    bird.asn = None;
    assert!(!file_of(&bird, crate::kinds::bird::paths::CONF).contains("protocol bgp"));
}

#[test]
fn passwords_the_config_syntax_cannot_carry_are_errors() {
    let cases = [
        (fixtures::frr_password(), "two words"),
        (fixtures::frr_password(), ""),
        (fixtures::quagga_password(), "tab\there"),
        (fixtures::bird_password(), "quote\"inside"),
        (fixtures::bird_password(), "back\\slash"),
        (fixtures::gobgp_password(), &"x".repeat(81)),
    ];
    for (mut router, password) in cases {
        router.sessions[0].password = Some(password.to_string());
        let err = render_router(&router).unwrap_err();
        assert!(
            matches!(err, RenderError::UnsupportedPassword { .. }),
            "{password:?}: {err}"
        );
    }
    // The same quote is fine where the syntax can escape it.
    let mut gobgp = fixtures::gobgp_password();
    gobgp.sessions[0].password = Some("quote\"inside".into());
    assert!(render_router(&gobgp).is_ok());
}

#[test]
fn errors_name_the_router_and_session() {
    let mut r = fixtures::frr_password();
    r.sessions[0].password = Some("two words".into());
    let message = render_router(&r).unwrap_err().to_string();
    assert_eq!(
        message,
        "router frr4: the password of session bird4 contains whitespace or control characters"
    );
}
