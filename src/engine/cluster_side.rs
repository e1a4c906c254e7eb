//! The cluster side of a lab's lifecycle: the phases `up` runs for kind, Minikube or an
//! existing cluster (preflight → create → nodes → node routes → MetalLB → config → apps),
//! and the connection `status`, `check` and `snapshot` use to read a running lab's cluster.
//!
//! The pieces live in their own modules — `cluster` (the providers' CLIs), `k8s` (kube-rs
//! apply, waits, state), `fetch` (MetalLB's manifests), `render::metallb` (its config) —
//! and this file only orders them, turns their errors into the engine's, and reports
//! progress.

use super::EngineError;
use super::state_dir::StateDir;
use crate::cluster::{
    ClusterPlan, ClusterProvider, CommandRunner, DiscoveredNode, TokioCommandRunner,
    apply_node_routes, provider_for,
};
use crate::fetch::metallb_manifests::{
    ManifestFetcher, ManifestRequest, Manifests, install_extras,
};
use crate::k8s::K8sError;
use crate::k8s::apply::{self, WaitOptions, WebhookRetry};
use crate::k8s::client::connect_kubeconfig;
use crate::metallb::version::MetallbSetup;
use crate::plan::Plan;
use crate::plan::nodes::ClusterNode;
use crate::progress::Progress;
use crate::state::ClusterState;
use crate::state::cluster::NodeInfo;
use crate::topology::builtin;
use kube::api::DynamicObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything the cluster phases need, gathered before anything is created: the tool is
/// there and recent enough, the manifests are at hand, MetalLB's config renders, and the
/// app manifests parse. A failure here leaves nothing behind.
pub struct Prepared {
    pub cplan: ClusterPlan,
    provider: Box<dyn ClusterProvider>,
    metallb: Option<PreparedMetallb>,
    apps: Vec<DynamicObject>,
}

struct PreparedMetallb {
    setup: MetallbSetup,
    manifests: Manifests,
    install: Vec<DynamicObject>,
    /// MetalLB's configuration: it depends on the routers' addresses, not on the nodes, so
    /// it is rendered once, before anything exists.
    config: Vec<DynamicObject>,
}

pub fn command_runner() -> Arc<dyn CommandRunner> {
    Arc::new(TokioCommandRunner)
}

/// The topology file's directory, against which `metallb.manifests` paths resolve.
fn base_dir(plan: &Plan) -> PathBuf {
    if plan.source.starts_with("builtin:") {
        return PathBuf::new();
    }
    Path::new(&plan.source)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub(super) fn k8s_error(e: K8sError) -> EngineError {
    let hint = miette::Diagnostic::help(&e).map(|h| h.to_string());
    EngineError::Setup {
        message: e.to_string(),
        hint,
    }
}

fn cluster_error(e: crate::cluster::ClusterError) -> EngineError {
    EngineError::Setup {
        hint: e.hint(),
        message: e.to_string(),
    }
}

/// Reads an app manifest: a file, or for built-in topologies the copy embedded with them.
/// The texts of the plan's app manifests, by path as the plan names them.
pub fn app_texts(plan: &Plan) -> Result<std::collections::BTreeMap<String, String>, EngineError> {
    plan.apps
        .iter()
        .map(|path| read_app(plan, path).map(|(_, text)| (path.display().to_string(), text)))
        .collect()
}

fn read_app(plan: &Plan, path: &Path) -> Result<(String, String), EngineError> {
    let origin = path.display().to_string();
    if plan.source.starts_with("builtin:")
        && path.is_relative()
        && let Some(text) = path.to_str().and_then(builtin::builtin_file)
    {
        return Ok((format!("{}:{origin}", plan.source), text.to_string()));
    }
    std::fs::read_to_string(path)
        .map(|text| (origin.clone(), text))
        .map_err(|e| {
            EngineError::setup(
                format!("cannot read app manifest {origin}: {e}"),
                "`apps:` paths are relative to the topology file",
            )
        })
}

pub(super) fn to_objects(
    values: Vec<serde_json::Value>,
    what: &str,
) -> Result<Vec<DynamicObject>, EngineError> {
    values
        .into_iter()
        .map(|v| {
            serde_json::from_value(v).map_err(|e| {
                EngineError::setup(
                    format!("{what} is not a Kubernetes object: {e}"),
                    "this is a metallab bug: please report it with the topology file",
                )
            })
        })
        .collect()
}

/// Everything that can fail before the lab exists. None when the lab has no cluster.
/// `allow_download`: preflight may fetch the pinned kind when it is not on PATH.
pub async fn prepare(
    state: &StateDir,
    progress: &Progress,
    plan: &Plan,
    allow_download: bool,
) -> Result<Option<Prepared>, EngineError> {
    let Some(cplan) = ClusterPlan::from_plan(plan) else {
        return Ok(None);
    };
    let provider = provider_for(
        cplan.provider,
        command_runner(),
        state.root(),
        allow_download,
    );
    let step = progress.step("preflight", format!("{} cluster", cplan.provider.as_str()));
    let found = match provider.preflight(&cplan).await {
        Ok(found) => found,
        Err(e) => {
            step.failed();
            return Err(cluster_error(e));
        }
    };
    for warning in &found.warnings {
        progress.println(format!("warning: {warning}"));
    }
    step.done(found.tool.unwrap_or_else(|| "existing cluster".to_string()));

    let metallb = match &plan.metallb {
        None => None,
        Some(spec) => {
            let base = base_dir(plan);
            let request = ManifestRequest::for_spec(spec, &base)
                .map_err(|e| EngineError::setup(e.to_string(), e.hint()))?;
            let setup = request.setup;
            let step = progress.step(
                "manifests",
                format!(
                    "MetalLB {} ({})",
                    setup.version,
                    crate::metallb::mode_name(setup.mode)
                ),
            );
            let fetched = async { ManifestFetcher::new()?.fetch(request).await }.await;
            let manifests = match fetched {
                Ok(m) => m,
                Err(e) => {
                    step.failed();
                    return Err(EngineError::setup(e.to_string(), e.hint()));
                }
            };
            step.done(manifests.origin.to_string());
            let mut install =
                apply::parse_manifests(&manifests.yaml, &manifests.origin.to_string())
                    .map_err(k8s_error)?;
            install.extend(to_objects(
                install_extras(setup.version, &plan.lab),
                "MetalLB's memberlist Secret",
            )?);
            let config = crate::render::metallb::render(plan)
                .map_err(|e| EngineError::setup(e.to_string(), "check the `metallb:` section"))?;
            Some(PreparedMetallb {
                setup,
                manifests,
                install,
                config: to_objects(config, "MetalLB's configuration")?,
            })
        }
    };

    if let Some(metallb) = &metallb
        && provider.exists(&cplan.name).await.map_err(cluster_error)?
    {
        refuse_shared_configuration(progress, provider.as_ref(), &cplan, plan, &metallb.config)
            .await?;
    }

    let mut apps = Vec::new();
    for path in &plan.apps {
        let (origin, text) = read_app(plan, path)?;
        apps.extend(apply::parse_manifests(&text, &origin).map_err(k8s_error)?);
    }
    Ok(Some(Prepared {
        cplan,
        provider,
        metallb,
        apps,
    }))
}

/// On a cluster that already runs, refuses (before anything is created) to configure
/// MetalLB over another lab's configuration, or over objects metallab did not make that
/// have the names of this lab's: one lab's MetalLB configuration per cluster.
async fn refuse_shared_configuration(
    progress: &Progress,
    provider: &dyn ClusterProvider,
    cplan: &ClusterPlan,
    plan: &Plan,
    config: &[DynamicObject],
) -> Result<(), EngineError> {
    let access = provider.access(cplan).await.map_err(cluster_error)?;
    let client = connect_kubeconfig(access.kubeconfig, Some(&access.context), &access.origin)
        .await
        .map_err(k8s_error)?;
    let existing = crate::k8s::lab_objects::config_objects(&client, None)
        .await
        .map_err(k8s_error)?;
    // A kind MetalLB cannot list right now (its conversion webhook down) cannot hold a
    // conflict we could see; applying will tell.
    for (kind, why) in &existing.unreadable {
        progress.println(format!(
            "warning: cannot tell whether another lab's {kind}s are on the cluster of context {}: {why}",
            access.context
        ));
    }
    let conflicts =
        crate::k8s::lab_objects::configuration_conflicts(&existing.objects, &plan.lab, config);
    if conflicts.is_empty() {
        return Ok(());
    }
    Err(EngineError::setup(
        format!(
            "cannot configure MetalLB for lab {} on the cluster of context {}:\n  - {}",
            plan.lab,
            access.context,
            conflicts.join("\n  - ")
        ),
        "MetalLB serves every configuration on a cluster, so one lab configures it at a time: \
         remove the other lab first (`metallab down LAB`), or give this lab its own cluster",
    ))
}

impl Prepared {
    /// A cluster phase with `provider` and nothing to install (for tests of the phases).
    #[cfg(test)]
    pub(crate) fn for_tests(cplan: ClusterPlan, provider: Box<dyn ClusterProvider>) -> Self {
        Prepared {
            cplan,
            provider,
            metallb: None,
            apps: vec![],
        }
    }

    /// The provider that created or reached the cluster.
    pub(super) fn provider(&self) -> &dyn ClusterProvider {
        self.provider.as_ref()
    }
}

/// A running cluster as the lab sees it: an API client and the nodes with the addresses
/// routers reach them on.
pub struct LabCluster {
    pub client: kube::Client,
    /// The lab this connection is for: its objects carry its label.
    pub lab: String,
    pub provider: String,
    pub name: String,
    pub nodes: Vec<ClusterNode>,
    /// The node containers behind `nodes` (none for existing clusters): where node routes go.
    node_containers: Vec<DiscoveredNode>,
    /// The nodes' addresses come from `cluster.node-addresses`, not from the API: an API
    /// node is the lab's node only when one of its addresses is listed.
    nodes_listed: bool,
    pod_namespaces: Vec<&'static str>,
}

impl LabCluster {
    /// Nodes, MetalLB's pods, LoadBalancer Services and recent events.
    pub async fn state(&self) -> Result<ClusterState, EngineError> {
        let mut state = crate::k8s::state::read_cluster_state(
            &self.client,
            &self.provider,
            &self.name,
            &self.pod_namespaces,
        )
        .await
        .map_err(k8s_error)?;
        merge_nodes(&mut state.nodes, &self.nodes, self.nodes_listed);
        Ok(state)
    }
}

/// One list of nodes: the API's nodes, each with the address the routers reach it on (the
/// lab's node of the same name, or whose address the API lists for it). The API knows nodes
/// by their InternalIP, the routers by their address on the lab network. When the lab's
/// addresses are listed in the topology, an API node none of them belongs to is not a
/// peer of the lab (its InternalIP is no address the routers use).
pub fn merge_nodes(api_nodes: &mut [NodeInfo], lab_nodes: &[ClusterNode], listed: bool) {
    for node in api_nodes {
        // By name first: a lab node named after another API node must not win by address.
        let known = lab_nodes.iter().find(|n| n.name == node.name).or_else(|| {
            lab_nodes
                .iter()
                .find(|n| node.api_addresses.contains(&n.ip))
        });
        match known {
            Some(known) => node.ip = Some(known.ip),
            None if listed => node.ip = None,
            None => {}
        }
    }
}

/// Names the listed nodes after the API nodes they are (by address); others keep their
/// address as name.
fn name_listed_nodes(listed: &mut [ClusterNode], api_nodes: &[NodeInfo]) {
    for node in listed {
        if let Some(api) = api_nodes
            .iter()
            .find(|a| a.api_addresses.contains(&node.ip))
        {
            node.name = api.name.clone();
        }
    }
}

#[cfg(test)]
impl LabCluster {
    /// A cluster reached through `client` (a mock), with kind's name and no node containers.
    pub(crate) fn for_tests(client: kube::Client, name: &str, nodes: Vec<ClusterNode>) -> Self {
        LabCluster {
            client,
            lab: name.to_string(),
            provider: "kind".to_string(),
            name: name.to_string(),
            nodes,
            node_containers: vec![],
            nodes_listed: false,
            pod_namespaces: vec![],
        }
    }

    /// An existing cluster whose nodes are `cluster.node-addresses`.
    pub(crate) fn existing_for_tests(
        client: kube::Client,
        name: &str,
        nodes: Vec<ClusterNode>,
    ) -> Self {
        LabCluster {
            provider: "existing".to_string(),
            nodes_listed: true,
            ..LabCluster::for_tests(client, name, nodes)
        }
    }
}

/// Creates the cluster (unless it already runs), connects to it and discovers its nodes.
pub async fn bring_up(
    rt: &dyn crate::runtime::ContainerEngine,
    progress: &Progress,
    plan: &Plan,
    prepared: &Prepared,
    deadline: super::Deadline,
) -> Result<LabCluster, EngineError> {
    let cplan = &prepared.cplan;
    let provider = &prepared.provider;
    let step = progress.step(
        "cluster",
        format!("{} {}", cplan.provider.as_str(), cplan.name),
    );
    let exists = provider.exists(&cplan.name).await.map_err(cluster_error)?;
    if !exists {
        let on_line = |line: &str| step.set_message(line);
        let created = match deadline.instant() {
            None => provider.create(cplan, &on_line).await,
            Some(at) => match tokio::time::timeout_at(at, provider.create(cplan, &on_line)).await {
                Ok(created) => created,
                Err(_) => {
                    step.failed();
                    return Err(EngineError::setup(
                        format!(
                            "cluster {} was not created within --timeout {}",
                            cplan.name,
                            crate::duration_text::rounded(deadline.timeout().unwrap_or_default())
                        ),
                        "creating a cluster takes a minute or more (longer when the node image is pulled); give `up` more time",
                    ));
                }
            },
        };
        if let Err(e) = created {
            step.failed();
            return Err(cluster_error(e));
        }
    }
    let cluster = connect_cluster(rt, plan, cplan, provider.as_ref()).await;
    match &cluster {
        Ok(c) => step.done(format!(
            "{}{} node(s): {}",
            if exists { "already running, " } else { "" },
            c.nodes.len(),
            c.nodes
                .iter()
                .map(|n| format!("{}={}", n.name, n.ip))
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Err(_) => step.failed(),
    }
    let cluster = cluster?;

    if !cplan.node_routes.is_empty() {
        let step = progress.step(
            "node routes",
            format!("{} route(s)", cplan.node_routes.len()),
        );
        match apply_node_routes(rt, cplan, &cluster.node_containers).await {
            Ok(n) => step.done(format!(
                "{n} route(s) in {} node(s)",
                cluster.node_containers.len()
            )),
            Err(e) => {
                // Existing clusters: the user sets routes; say which.
                if cplan.provider == crate::cluster::Provider::Existing {
                    step.fail("not applied");
                    progress.println(format!("warning: {e}"));
                } else {
                    step.failed();
                    return Err(cluster_error(e));
                }
            }
        }
    }
    Ok(cluster)
}

async fn connect_cluster(
    rt: &dyn crate::runtime::ContainerEngine,
    plan: &Plan,
    cplan: &ClusterPlan,
    provider: &dyn ClusterProvider,
) -> Result<LabCluster, EngineError> {
    let access = provider.access(cplan).await.map_err(cluster_error)?;
    let client = connect_kubeconfig(access.kubeconfig, Some(&access.context), &access.origin)
        .await
        .map_err(k8s_error)?;
    let node_containers = provider.nodes(rt, cplan).await.map_err(cluster_error)?;
    let mut nodes: Vec<ClusterNode> = node_containers
        .iter()
        .map(|n| ClusterNode {
            name: n.name.clone(),
            ip: n.ip,
        })
        .collect();
    let nodes_listed = cplan.provider == crate::cluster::Provider::Existing && !nodes.is_empty();
    if nodes.is_empty() {
        // An existing cluster without `node-addresses`: the nodes' InternalIPs.
        nodes = crate::k8s::nodes::list_nodes(&client)
            .await
            .map_err(k8s_error)?
            .into_iter()
            .filter_map(|n| n.ip.map(|ip| ClusterNode { name: n.name, ip }))
            .collect();
    } else if nodes_listed {
        // Listed addresses the API gives a node are that node: sessions carry its name.
        // Unreadable nodes leave the addresses as names; `up` reports the API soon enough.
        if let Ok(api_nodes) = crate::k8s::nodes::list_nodes(&client).await {
            name_listed_nodes(&mut nodes, &api_nodes);
        }
    }
    if nodes.is_empty() {
        return Err(EngineError::setup(
            format!("cluster {} has no nodes the routers can reach", cplan.name),
            "for an existing cluster, list the addresses routers reach the nodes on in `cluster.node-addresses`",
        ));
    }
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(LabCluster {
        client,
        lab: plan.lab.clone(),
        provider: cplan.provider.as_str().to_string(),
        name: cplan.name.clone(),
        nodes,
        node_containers,
        nodes_listed,
        pod_namespaces: crate::k8s::state::pod_namespaces(
            plan.metallb.as_ref().and_then(|m| m.mode),
        ),
    })
}

/// MetalLB installed and ready, announcing from every node, configured; then the apps.
pub async fn install_metallb_and_apps(
    progress: &Progress,
    prepared: &Prepared,
    cluster: &LabCluster,
    deadline: super::Deadline,
) -> Result<(), EngineError> {
    let client = &cluster.client;
    if let Some(metallb) = &prepared.metallb {
        let step = progress.step(
            "metallb",
            format!(
                "{} ({})",
                metallb.setup.version,
                crate::metallb::mode_name(metallb.setup.mode)
            ),
        );
        let on_progress = |line: &str| step.set_message(line);
        // MetalLB's speakers must run on every node the routers peer with.
        let wait = WaitOptions {
            nodes: Some(cluster.nodes.len()),
            ..wait_options(deadline)
        };
        match apply::apply_manifests(client, &metallb.install, &wait, &on_progress).await {
            Ok(report) => {
                step.done(format!(
                    "{} ({})",
                    report.summary(),
                    metallb.manifests.origin
                ));
                report_apply_notes(progress, &report);
            }
            Err(e) => {
                step.failed();
                return Err(k8s_error(e));
            }
        }

        let changed = crate::k8s::nodes::remove_exclusion_label(client)
            .await
            .map_err(k8s_error)?;
        if !changed.is_empty() {
            progress.println(format!(
                "nodes {} may now announce (removed node.kubernetes.io/exclude-from-external-load-balancers)",
                changed.join(", ")
            ));
        }

        let config = &metallb.config;
        let step = progress.step("config", format!("{} MetalLB object(s)", config.len()));
        let on_progress = |line: &str| step.set_message(line);
        let retry = webhook_retry(deadline);
        match apply::apply_metallb_config(client, config, &retry, &on_progress).await {
            Ok(done) => step.done(format!(
                "applied in {} attempt(s), {:.1}s",
                done.attempts,
                done.elapsed.as_secs_f64()
            )),
            Err(e) => {
                step.failed();
                return Err(k8s_error(e));
            }
        }
    }

    if !prepared.apps.is_empty() {
        apply_apps(progress, client, &prepared.apps, deadline).await?;
    }
    Ok(())
}

/// The apps' objects applied (server-side), waiting for their rollouts.
async fn apply_apps(
    progress: &Progress,
    client: &kube::Client,
    apps: &[DynamicObject],
    deadline: super::Deadline,
) -> Result<(), EngineError> {
    let step = progress.step("apps", format!("{} object(s)", apps.len()));
    let on_progress = |line: &str| step.set_message(line);
    match apply::apply_manifests(client, apps, &wait_options(deadline), &on_progress).await {
        Ok(report) => {
            step.done(report.summary());
            report_apply_notes(progress, &report);
            Ok(())
        }
        Err(e) => {
            step.failed();
            Err(k8s_error(e))
        }
    }
}

/// Retries while MetalLB's webhook is unreachable, within `up --timeout`.
fn webhook_retry(deadline: super::Deadline) -> WebhookRetry {
    WebhookRetry {
        deadline: deadline.budget(WebhookRetry::default().deadline),
        until: deadline.instant(),
        ..WebhookRetry::default()
    }
}

/// `up FILE` on a running lab whose MetalLB configuration or apps changed: the objects
/// that changed applied (through MetalLB's webhook, which may refuse them), the lab's
/// objects the configuration no longer holds deleted, and the apps applied again.
pub async fn reconfigure(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    progress: &Progress,
    plan: &Plan,
    change: &crate::change::LabChange,
    deadline: super::Deadline,
) -> Result<(), EngineError> {
    if change.metallb.is_empty() && change.apps.is_empty() {
        return Ok(());
    }
    let Some(cluster) = connect_lab(rt, state, plan).await? else {
        return Ok(());
    };
    if !change.metallb.is_empty() {
        let values = crate::render::metallb::render(plan)
            .map_err(|e| EngineError::setup(e.to_string(), "check the `metallb:` section"))?;
        let objects = to_objects(values, "MetalLB's configuration")?;
        let step = progress.step(
            "config",
            format!("{} MetalLB object(s) changed", change.metallb.len()),
        );
        let on_progress = |line: &str| step.set_message(line);
        let retry = webhook_retry(deadline);
        match apply_config_change(
            &cluster.client,
            &plan.lab,
            &objects,
            &change.metallb,
            &retry,
            &on_progress,
        )
        .await
        {
            Ok((applied, deleted)) => step.done(format!("{applied} applied, {deleted} deleted")),
            Err(e) => {
                step.failed();
                return Err(k8s_error(e));
            }
        }
    }
    if !change.apps.is_empty() {
        let mut apps = Vec::new();
        for path in &plan.apps {
            let (origin, text) = read_app(plan, path)?;
            apps.extend(apply::parse_manifests(&text, &origin).map_err(k8s_error)?);
        }
        apply_apps(progress, &cluster.client, &apps, deadline).await?;
    }
    Ok(())
}

/// Applies the objects of `config` (the lab's whole MetalLB configuration) that
/// `changes` names as created or changed, then deletes the lab's objects `config` no
/// longer holds. Returns how many were applied and deleted.
pub(crate) async fn apply_config_change(
    client: &kube::Client,
    lab: &str,
    config: &[DynamicObject],
    changes: &[crate::change::ObjectChange],
    retry: &WebhookRetry,
    on_progress: apply::Progress<'_>,
) -> Result<(usize, usize), K8sError> {
    use crate::change::ObjectAction;
    let changed: Vec<DynamicObject> = config
        .iter()
        .filter(|o| {
            let target = apply::object_ref(o);
            changes.iter().any(|c| {
                c.action != ObjectAction::Deleted && c.kind == target.kind && c.name == target.name
            })
        })
        .cloned()
        .collect();
    if !changed.is_empty() {
        apply::apply_metallb_config(client, &changed, retry, on_progress).await?;
    }
    let keep: Vec<apply::ObjectRef> = config.iter().map(apply::object_ref).collect();
    let deleted = if changes.iter().any(|c| c.action == ObjectAction::Deleted) {
        crate::k8s::lab_objects::delete_lab_config_except(client, lab, &keep)
            .await?
            .objects
            .len()
    } else {
        0
    };
    Ok((changed.len(), deleted))
}

/// The waits of an apply: each default, or with `up --timeout` what is left of it.
pub(super) fn wait_options(deadline: super::Deadline) -> WaitOptions {
    let defaults = WaitOptions::default();
    WaitOptions {
        crd_timeout: deadline.budget(defaults.crd_timeout),
        rollout_timeout: deadline.budget(defaults.rollout_timeout),
        until: deadline.instant(),
        ..defaults
    }
}

/// What an apply left to others or found worth a warning, one line each.
fn report_apply_notes(progress: &Progress, report: &apply::ApplyReport) {
    for kept in &report.kept {
        progress.println(format!(
            "note: kept {kept}: a controller maintains it; metallab leaves it as it is"
        ));
    }
    for taken in &report.taken {
        progress.println(format!(
            "note: took over {taken}: the manifests set it otherwise"
        ));
    }
    for warning in &report.warnings {
        progress.println(format!("warning: {warning}"));
    }
}

/// Connects to a running lab's cluster (for `status`, `check`, `snapshot`, `spy`). None
/// when the lab has no cluster.
pub async fn connect_lab(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    plan: &Plan,
) -> Result<Option<LabCluster>, EngineError> {
    let Some(cplan) = ClusterPlan::from_plan(plan) else {
        return Ok(None);
    };
    let provider = provider_for(cplan.provider, command_runner(), state.root(), false);
    connect_cluster(rt, plan, &cplan, provider.as_ref())
        .await
        .map(Some)
}

/// How `kubectl` reaches a lab's cluster: the context, and the `KUBECONFIG` to use when
/// the context is not in kubectl's default file (kind writes its context there).
pub async fn kubectl_access(
    state: &StateDir,
    plan: &Plan,
) -> Result<(String, Option<String>), EngineError> {
    let Some(cplan) = ClusterPlan::from_plan(plan) else {
        return Err(EngineError::setup(
            format!("lab {} has no cluster", plan.lab),
            "only labs with `cluster:` have routers in a cluster",
        ));
    };
    let provider = provider_for(cplan.provider, command_runner(), state.root(), false);
    let access = provider.access(&cplan).await.map_err(cluster_error)?;
    let kubeconfig = match cplan.provider {
        crate::cluster::Provider::Kind => None,
        _ => Some(access.origin),
    };
    Ok((access.context, kubeconfig))
}

/// Deletes the clusters `down` finds for a lab (kind or Minikube nodes named after it and
/// attached to its labelled networks); returns their names.
pub async fn delete_lab_clusters(
    rt: &dyn crate::runtime::ContainerEngine,
    state: &StateDir,
    lab: &str,
) -> Result<Vec<String>, EngineError> {
    let found = crate::cluster::find_lab_clusters(rt, lab)
        .await
        .map_err(cluster_error)?;
    let mut deleted = Vec::new();
    for cluster in found {
        let provider = provider_for(cluster.provider, command_runner(), state.root(), false);
        let on_line = |line: &str| tracing::info!("{}", line);
        provider
            .delete(&cluster.name, &on_line)
            .await
            .map_err(cluster_error)?;
        deleted.push(cluster.name);
    }
    Ok(deleted)
}

/// How a probe reaches a lab's cluster: there is none, it is connected, or it could not be
/// reached (then cluster readings fail with that reason instead of pretending "no cluster").
#[derive(Clone)]
pub enum ClusterLink {
    NoCluster,
    Connected(Arc<LabCluster>),
    Unreachable(String),
}

impl ClusterLink {
    /// Connects to the lab's cluster, if it has one; never fails: an unreachable cluster is
    /// a fact `status` and checks report.
    pub async fn connect(
        rt: &dyn crate::runtime::ContainerEngine,
        state: &StateDir,
        plan: &Plan,
    ) -> ClusterLink {
        match connect_lab(rt, state, plan).await {
            Ok(None) => ClusterLink::NoCluster,
            Ok(Some(c)) => ClusterLink::Connected(Arc::new(c)),
            Err(e) => ClusterLink::Unreachable(match e.hint() {
                Some(h) => format!("cannot reach the cluster: {e} ({h})"),
                None => format!("cannot reach the cluster: {e}"),
            }),
        }
    }

    pub async fn state(&self) -> Result<Option<ClusterState>, String> {
        match self {
            ClusterLink::NoCluster => Ok(None),
            ClusterLink::Connected(c) => c.state().await.map(Some).map_err(|e| e.to_string()),
            ClusterLink::Unreachable(reason) => Err(reason.clone()),
        }
    }
}

impl super::snapshot::ClusterArtifacts for LabCluster {
    async fn files(&self) -> Result<Vec<super::snapshot::SnapshotFile>, String> {
        let dump = crate::k8s::state::dump_objects(&self.client, &self.lab)
            .await
            .map_err(|e| e.to_string())?;
        Ok(dump
            .files()
            .into_iter()
            .map(|(name, text)| super::snapshot::SnapshotFile {
                path: name.to_string(),
                about: match name {
                    "metallb-objects.yaml" => {
                        "MetalLB's configuration objects as the API server has them"
                    }
                    "services.yaml" => "every Service",
                    _ => "recent events",
                }
                .to_string(),
                contents: text.to_string(),
            })
            .collect())
    }

    async fn state(&self) -> Result<Option<ClusterState>, String> {
        LabCluster::state(self)
            .await
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn pods(&self, lab: &str) -> Option<crate::in_cluster::KubeExec> {
        Some(crate::in_cluster::KubeExec::new(self.client.clone(), lab))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_from(source: &str) -> Plan {
        let builtin = builtin::get("bgp").unwrap();
        let mut plan = crate::plan::build(&builtin.topology(), source, Path::new(""));
        plan.source = source.to_string();
        plan
    }

    #[test]
    fn builtin_apps_come_from_the_binary_and_files_from_disk() {
        let builtin = plan_from("builtin:bgp");
        let (origin, text) = read_app(&builtin, &builtin.apps[0]).unwrap();
        assert_eq!(origin, "builtin:bgp:manifests/nginx-lb.yaml");
        assert!(text.contains("loadBalancerIP: 203.0.113.200"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.yaml");
        std::fs::write(&path, "kind: ConfigMap\n").unwrap();
        let file = plan_from("/labs/lab.yaml");
        assert_eq!(read_app(&file, &path).unwrap().1, "kind: ConfigMap\n");
    }

    /// What a real API server said of a cluster whose routers reach the nodes on other
    /// addresses: node names and InternalIPs the routers never use.
    fn api_nodes(ready: bool) -> serde_json::Value {
        let node = |name: &str, internal: &str, external: Option<&str>| {
            let mut addresses = vec![
                serde_json::json!({ "type": "InternalIP", "address": internal }),
                serde_json::json!({ "type": "Hostname", "address": name }),
            ];
            if let Some(external) = external {
                addresses.push(serde_json::json!({ "type": "ExternalIP", "address": external }));
            }
            serde_json::json!({
                "metadata": { "name": name },
                "status": {
                    "addresses": addresses,
                    "conditions": [{ "type": "Ready", "status": if ready { "True" } else { "Unknown" } }]
                }
            })
        };
        serde_json::json!({ "apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": [
            node("kapi-control-plane", "127.0.0.2", None),
            node("kapi-worker", "127.0.0.3", Some("10.253.4.131")),
        ]})
    }

    fn empty(kind: &str) -> serde_json::Value {
        serde_json::json!({ "apiVersion": "v1", "kind": kind, "metadata": {}, "items": [] })
    }

    const EXISTING: &str = "\
name: kapi
cluster: { provider: existing, node-addresses: [10.253.4.130, 10.253.4.131], network: n }
networks: { n: { subnet: 10.253.4.0/24 } }
routers:
  frr1: { kind: frr, asn: 64512, interfaces: { n: {} }, neighbors: [ { to: nodes, asn: 64500 } ] }
";

    #[tokio::test]
    async fn listed_node_addresses_are_the_only_node_sessions() {
        use crate::k8s::mock::{self, get};
        let topology = crate::topology::load::parse_and_validate("lab.yaml", EXISTING).unwrap();
        let mut listed = vec![
            ClusterNode {
                name: "10.253.4.130".into(),
                ip: "10.253.4.130".parse().unwrap(),
            },
            ClusterNode {
                name: "10.253.4.131".into(),
                ip: "10.253.4.131".parse().unwrap(),
            },
        ];
        // `up` names a listed node after the API node that has its address.
        let api: Vec<NodeInfo> = api_nodes(true)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| crate::k8s::nodes::node_info(&serde_json::from_value(n.clone()).unwrap()))
            .collect();
        name_listed_nodes(&mut listed, &api);
        assert_eq!(listed[0].name, "10.253.4.130");
        assert_eq!(listed[1].name, "kapi-worker");
        let plan = crate::plan::nodes::with_node_sessions(
            &crate::plan::build(&topology, "lab.yaml", Path::new("")),
            &listed,
        );

        let (client, server) = mock::serve(vec![
            get("/api/v1/nodes", api_nodes(true)),
            get("/api/v1/services", empty("ServiceList")),
            get("/api/v1/events", empty("EventList")),
            get(
                "/api/v1/namespaces/metallb-system/events",
                empty("EventList"),
            ),
        ]);
        let cluster = LabCluster::existing_for_tests(client.clone(), "kapi", listed);
        let state = cluster.state().await;
        drop(cluster);
        server.finish(client).await;
        let state = state.unwrap();

        // One list of nodes: the API's, with the lab's address where one is theirs.
        let addresses: Vec<(&str, Option<String>)> = state
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.ip.map(|ip| ip.to_string())))
            .collect();
        assert_eq!(
            addresses,
            [
                ("kapi-control-plane", None),
                ("kapi-worker", Some("10.253.4.131".to_string()))
            ]
        );
        // Exactly the real sessions: no phantom peers at the API's InternalIPs.
        let expected =
            crate::view::problems::expected_sessions(&plan, &plan.routers[0], &state.nodes);
        let peers: Vec<(String, String)> = expected
            .iter()
            .map(|e| (e.peer.clone(), e.address.to_string()))
            .collect();
        assert_eq!(
            peers,
            [
                ("node 10.253.4.130".to_string(), "10.253.4.130".to_string()),
                ("node kapi-worker".to_string(), "10.253.4.131".to_string())
            ]
        );
        // A node that is not one of the lab's is no problem of the lab.
        assert!(
            crate::view::problems::cluster_problems(&state).is_empty(),
            "{:?}",
            crate::view::problems::cluster_problems(&state)
        );
    }

    #[test]
    fn a_lab_node_of_the_same_name_wins_over_one_at_an_address_the_api_gives() {
        let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
        let mut api = vec![NodeInfo {
            name: "lab-worker".into(),
            ip: Some(ip("172.18.0.3")),
            api_addresses: vec![ip("172.18.0.3"), ip("10.0.0.3")],
            roles: vec![],
            ready: true,
        }];
        let lab = [
            ClusterNode {
                name: "lab-control-plane".into(),
                ip: ip("10.0.0.3"),
            },
            ClusterNode {
                name: "lab-worker".into(),
                ip: ip("10.0.0.4"),
            },
        ];
        merge_nodes(&mut api, &lab, false);
        assert_eq!(api[0].ip, Some(ip("10.0.0.4")));
    }

    #[test]
    fn a_missing_app_file_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            read_app(&plan_from("/labs/lab.yaml"), &dir.path().join("nope.yaml")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("nope.yaml: ") && message.starts_with("cannot read app manifest"),
            "{message}"
        );
        assert!(
            err.hint()
                .unwrap()
                .contains("relative to the topology file")
        );
    }
}
