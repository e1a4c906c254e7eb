//! The layers hold. The pure core is its own crate (`core/`, `metallab-core`), so the
//! compiler keeps it from importing the app, and its dependency tree (read from
//! Cargo.lock) holds no I/O crate. Within each crate, no import circles between modules:
//! neither between the top-level modules (`topology`, `plan`, `engine`…) nor between the
//! files within them. A circle means two
//! modules cannot be understood, tested or moved apart; the layers (pure core below, I/O
//! edges and the app above) only hold while the imports point one way.
//!
//! The graph is read from the source: every `crate::a::b` a module's non-test code names
//! (comments and the `#[cfg(test)]` part of a file left out), and `super::x` in files below
//! the top level.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/plan/build.rs` → ["plan", "build"]; `src/k8s/mod.rs` → ["k8s"].
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The module paths (lowercase segments) after each `prefix` in `code`.
fn references(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut path = Vec::new();
        let mut tail = rest;
        loop {
            let end = tail
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(tail.len());
            if end == 0 {
                break;
            }
            path.push(tail[..end].to_string());
            match tail[end..].strip_prefix("::") {
                Some(next) => tail = next,
                None => break,
            }
        }
        if !path.is_empty() {
            found.push(path);
        }
    }
    found
}

/// The code of a file that is not a comment and not test-only.
fn production_code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The graph between modules cut at `depth` segments.
/// The two crates' source roots: the app's and the core's.
fn source_roots() -> [PathBuf; 2] {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join("src"), root.join("core/src")]
}

fn graph(depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for src in source_roots() {
        crate_graph(&src, depth, &mut edges);
    }
    edges
}

/// The graph of one crate; `crate::x` in the app may name a core module it re-exports,
/// which the core's own graph continues.
fn crate_graph(src: &Path, depth: usize, edges: &mut BTreeMap<String, BTreeSet<String>>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    for file in files {
        let module = module_path(src, &file);
        let top = ["main", "lib", "test_support"];
        if module.is_empty() || top.contains(&module[0].as_str()) {
            continue;
        }
        if module.last().is_some_and(|m| m == "tests") {
            continue;
        }
        let key = |path: &[String]| path[..path.len().min(depth)].join("::");
        let me = key(&module);
        let code = production_code(&std::fs::read_to_string(&file).unwrap());
        let mut targets: Vec<Vec<String>> = references(&code, "crate::");
        if module.len() >= 2 {
            let parent = &module[..module.len() - 1];
            for path in references(&code, "super::") {
                targets.push(parent.iter().cloned().chain(path).collect());
            }
        }
        let node = edges.entry(me.clone()).or_default();
        for target in targets {
            let target = key(&target);
            let within =
                target.starts_with(&format!("{me}::")) || me.starts_with(&format!("{target}::"));
            if target != me && !within {
                node.insert(target);
            }
        }
    }
}

/// Strongly connected components of more than one module (Tarjan).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.edges.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

fn report(edges: &BTreeMap<String, BTreeSet<String>>, found: &[Vec<String>]) -> String {
    let mut text = String::new();
    for circle in found {
        text.push_str(&format!("circle: {}\n", circle.join(" ")));
        for a in circle {
            for b in edges[a].iter().filter(|b| circle.contains(b)) {
                text.push_str(&format!("  {a} -> {b}\n"));
            }
        }
    }
    text
}

#[test]
fn top_level_modules_import_each_other_one_way() {
    let edges = graph(1);
    assert!(edges.len() > 10, "the source was not found: {edges:?}");
    let found = circles(&edges);
    assert!(found.is_empty(), "{}", report(&edges, &found));
}

#[test]
fn files_within_modules_import_each_other_one_way() {
    let edges = graph(2);
    let found = circles(&edges);
    assert!(found.is_empty(), "{}", report(&edges, &found));
}

#[test]
fn the_reader_finds_paths_and_circles() {
    assert_eq!(
        references(
            "use crate::plan::build::SUBNET_POOL; x_crate::no",
            "crate::"
        ),
        [vec!["plan".to_string(), "build".to_string()]]
    );
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("a".into());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(circles(&edges), [vec!["a".to_string(), "b".to_string()]]);
}

/// Crates of the edges: Docker, Kubernetes, HTTP, the dashboard, the async runtime.
const EDGE_CRATES: &[&str] = &[
    "tokio",
    "bollard",
    "kube",
    "kube-client",
    "k8s-openapi",
    "reqwest",
    "hyper",
    "axum",
];

/// `name -> its dependencies' names`, from Cargo.lock.
fn lock_graph() -> BTreeMap<String, Vec<String>> {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("Cargo.lock is committed");
    let mut graph = BTreeMap::new();
    for package in lock.split("[[package]]").skip(1) {
        let name = package
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .map(|n| n.trim_matches('"').to_string())
            .expect("every package has a name");
        let mut deps = Vec::new();
        if let Some(at) = package.find("dependencies = [") {
            let list = &package[at..];
            let list = &list[..list.find(']').unwrap_or(list.len())];
            for line in list.lines().skip(1) {
                // `"name"` or `"name version"` or `"name version (source)"`.
                let entry = line.trim().trim_end_matches(',').trim_matches('"');
                if let Some(dep) = entry.split_whitespace().next() {
                    deps.push(dep.to_string());
                }
            }
        }
        graph.entry(name).or_insert_with(Vec::new).extend(deps);
    }
    graph
}

/// Every package `name` depends on, directly or below (all its versions' dependencies,
/// features included: Cargo.lock lists what any build of it may use).
fn dependency_closure(graph: &BTreeMap<String, Vec<String>>, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(next) = todo.pop() {
        for dep in graph.get(&next).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn the_core_crate_depends_on_no_edge_crate() {
    let graph = lock_graph();
    let core = dependency_closure(&graph, "metallab-core");
    assert!(
        core.contains("serde"),
        "the lock file was not read: {core:?}"
    );
    let wrong: Vec<&&str> = EDGE_CRATES.iter().filter(|c| core.contains(**c)).collect();
    assert!(wrong.is_empty(), "metallab-core depends on {wrong:?}");
    // The reader sees them where they are.
    let app = dependency_closure(&graph, "metallab");
    for edge in ["tokio", "bollard", "kube", "axum", "metallab-core"] {
        assert!(app.contains(edge), "{edge} not found under metallab");
    }
}

#[test]
fn the_core_declares_no_edge_crate() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("core/Cargo.toml"))
            .unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("core/Cargo.toml has dependencies");
    for line in dependencies.lines() {
        let name = line.split('=').next().unwrap_or("").trim();
        assert!(
            !EDGE_CRATES.contains(&name),
            "core/Cargo.toml declares {name}"
        );
    }
}
