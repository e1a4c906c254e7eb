//! Server-side apply of manifests, and the waits that make "applied" mean "running".
//!
//! Order (DESIGN.md §6): Namespaces and CRDs first → every applied CRD Established →
//! everything else → every applied Deployment and DaemonSet rolled out. MetalLB's own
//! configuration comes later, through [`apply_metallb_config`], which waits out exactly
//! one transient failure: MetalLB's validating webhook not being reachable yet.
//!
//! Kinds are resolved through API discovery, one group version at a time
//! ([`kube::discovery::pinned_group`]): resolving lazily means a kind whose CRD was applied
//! a moment ago is found, which a discovery run made before the apply would miss.

use super::error::Indented;
use super::{FIELD_MANAGER, K8sError, field_path, qualified};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersion;
use kube::discovery::{ApiCapabilities, ApiGroup, ApiResource, Scope};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// Progress lines for the user ("waiting for Deployment metallb-system/controller: …").
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// An object's identity, for reports and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// None for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.kind,
            qualified(self.namespace.as_deref(), &self.name)
        )
    }
}

/// How long to wait for what, and how often to look.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitOptions {
    /// For every applied CRD to be Established.
    pub crd_timeout: Duration,
    /// For every applied Deployment and DaemonSet to be rolled out (includes image pulls).
    pub rollout_timeout: Duration,
    /// Whether to wait for rollouts at all: not for workloads that only turn ready once
    /// metallab configures them (in-cluster routers, whose daemons are started by exec).
    pub rollouts: bool,
    pub poll_interval: Duration,
    /// How many nodes the DaemonSets should cover (the lab's nodes, for MetalLB's
    /// speakers): a DaemonSet that schedules pods on fewer is reported with the nodes it
    /// leaves out and why (a taint it does not tolerate, a node selector).
    pub nodes: Option<usize>,
    /// No wait goes past this instant, whatever its own timeout (`up --timeout`).
    pub until: Option<Instant>,
}

/// What is left of `remaining`, cut at `until` when there is one.
fn clip(remaining: Duration, until: Option<Instant>) -> Duration {
    match until {
        Some(until) => remaining.min(until.saturating_duration_since(Instant::now())),
        None => remaining,
    }
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            crd_timeout: Duration::from_secs(60),
            rollout_timeout: Duration::from_secs(300),
            rollouts: true,
            poll_interval: Duration::from_secs(1),
            nodes: None,
            until: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplyReport {
    /// In the order they were applied.
    pub applied: Vec<ObjectRef>,
    /// Names of the CRDs waited for until Established.
    pub established_crds: Vec<String>,
    /// Deployments and DaemonSets waited for until rolled out.
    pub rolled_out: Vec<ObjectRef>,
    /// Objects of [`OBSOLETE_KINDS`] the cluster no longer serves, left out.
    pub skipped: Vec<ObjectRef>,
    /// Fields a cluster controller changed that metallab left as they are (see
    /// [`Ownership`]).
    pub kept: Vec<OtherManagersField>,
    /// Fields another manager had set that metallab's manifests set otherwise, taken
    /// over (a MetalLB installed by `kubectl apply` and now another release).
    pub taken: Vec<OtherManagersField>,
    /// What the user should know although the apply succeeded: a DaemonSet that covers
    /// fewer nodes than the lab has, and why.
    pub warnings: Vec<String>,
}

impl ApplyReport {
    /// "15 objects applied, 2 skipped (PodSecurityPolicy controller, …: the cluster no
    /// longer serves policy/v1beta1)".
    pub fn summary(&self) -> String {
        let mut summary = format!("{} applied", counted(self.applied.len(), "object"));
        if !self.skipped.is_empty() {
            let served: std::collections::BTreeSet<&str> = self
                .skipped
                .iter()
                .map(|o| o.api_version.as_str())
                .collect();
            summary.push_str(&format!(
                ", {} skipped ({}: the cluster no longer serves {})",
                self.skipped.len(),
                self.skipped
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                served.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if !self.rolled_out.is_empty() {
            summary.push_str(&format!(", {} rolled out", self.rolled_out.len()));
        }
        if !self.kept.is_empty() {
            summary.push_str(&format!(
                ", kept {} set by other managers",
                counted(self.kept.len(), "field")
            ));
        }
        if !self.taken.is_empty() {
            summary.push_str(&format!(
                ", took over {} from other managers",
                counted(self.taken.len(), "field")
            ));
        }
        summary
    }
}

/// A field of an applied object that another field manager had set.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherManagersField {
    pub object: ObjectRef,
    /// As the API server names it: `.spec.conversion.webhook.clientConfig.caBundle`.
    pub field: String,
    pub manager: String,
}

impl fmt::Display for OtherManagersField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (set by {})",
            self.object, self.field, self.manager
        )
    }
}

/// Whether an apply takes fields other field managers set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// metallab is the authority: MetalLB's configuration, rendered from the topology.
    /// Every field it sets is taken, whoever changed it since.
    Force,
    /// Objects cluster controllers act on too: MetalLB's install (its controller injects
    /// CA bundles into the CRDs' conversion webhook and the webhook configurations), apps
    /// (an autoscaler sets replicas). Applied without force; when the API server names
    /// conflicting fields, those a controller maintains ([`is_maintained_by_controllers`])
    /// are left out, keeping their value and manager, and the object is applied again;
    /// any other conflicting field is the manifest's to set (another release over a
    /// MetalLB installed by `kubectl apply`), so that apply is forced.
    KeepOthers,
}

/// Fields cluster controllers fill in or keep up to date on objects metallab applies:
/// CA bundles (webhook configurations, CRD conversion webhooks, APIServices; MetalLB's
/// controller injects its own) and a Deployment's replicas (autoscalers).
pub fn is_maintained_by_controllers(field: &str) -> bool {
    field.ends_with(".caBundle") || field == ".spec.replicas"
}

/// How many times one object is applied again after leaving out conflicting fields.
const CONFLICT_ROUNDS: usize = 3;

/// Kinds that old manifests carry and current clusters no longer serve, which the
/// manifests' workloads do not need: MetalLB up to v0.12 ships PodSecurityPolicies
/// (`policy/v1beta1`, removed in Kubernetes 1.25). Such an object is skipped, and said
/// so, only when discovery finds its kind missing; anything else unserved is an error.
pub const OBSOLETE_KINDS: [(&str, &str); 1] = [("policy/v1beta1", "PodSecurityPolicy")];

fn is_obsolete(object: &ObjectRef) -> bool {
    OBSOLETE_KINDS
        .iter()
        .any(|(api_version, kind)| object.api_version == *api_version && object.kind == *kind)
}

// ---------------------------------------------------------------------------------------
// Manifests (pure)
// ---------------------------------------------------------------------------------------

/// The objects of a multi-document YAML manifest, in file order. Empty documents (a
/// trailing `---`, comments only) are skipped; `kind: List` documents contribute their
/// items. `origin` names the manifest in errors (a path or a URL).
pub fn parse_manifests(yaml: &str, origin: &str) -> Result<Vec<DynamicObject>, K8sError> {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(yaml).map_err(|e| K8sError::Manifest {
            origin: origin.to_string(),
            message: format!("not valid YAML: {e}"),
            hint: None,
        })?;
    let mut objects = Vec::new();
    for (n, document) in documents.into_iter().enumerate() {
        if document.is_null() {
            continue;
        }
        let is_list = document.get("kind").and_then(Value::as_str) == Some("List");
        let items = match (is_list, document) {
            (true, Value::Object(mut list)) => match list.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            (_, document) => vec![document],
        };
        for item in items {
            objects.push(to_object(item, n + 1, origin)?);
        }
    }
    Ok(objects)
}

fn to_object(document: Value, number: usize, origin: &str) -> Result<DynamicObject, K8sError> {
    let error = |message: String| K8sError::Manifest {
        origin: origin.to_string(),
        message: format!("object {number}: {message}"),
        hint: Some(
            "every document must be a Kubernetes object with apiVersion, kind and metadata.name"
                .into(),
        ),
    };
    if !document.is_object() {
        return Err(error("not a mapping".into()));
    }
    for field in ["apiVersion", "kind"] {
        if document.get(field).and_then(Value::as_str).is_none() {
            return Err(error(format!("no `{field}`")));
        }
    }
    let name = document.pointer("/metadata/name").and_then(Value::as_str);
    if name.is_none_or(str::is_empty) {
        // generateName objects cannot be applied server-side: apply needs a name.
        return Err(error("no `metadata.name`".into()));
    }
    serde_json::from_value(document).map_err(|e| error(e.to_string()))
}

/// The identity of a parsed object (which [`parse_manifests`] guarantees to be complete).
pub fn object_ref(object: &DynamicObject) -> ObjectRef {
    let types = object.types.clone().unwrap_or_default();
    ObjectRef {
        api_version: types.api_version,
        kind: types.kind,
        namespace: object.metadata.namespace.clone(),
        name: object.metadata.name.clone().unwrap_or_default(),
    }
}

fn is_namespace(object: &DynamicObject) -> bool {
    object
        .types
        .as_ref()
        .is_some_and(|t| t.api_version == "v1" && t.kind == "Namespace")
}

fn is_crd(object: &DynamicObject) -> bool {
    object.types.as_ref().is_some_and(|t| {
        t.api_version.starts_with("apiextensions.k8s.io/") && t.kind == "CustomResourceDefinition"
    })
}

/// Splits objects into what must exist first (Namespaces, then CRDs) and the rest, each
/// in file order.
pub fn apply_order(objects: &[DynamicObject]) -> (Vec<&DynamicObject>, Vec<&DynamicObject>) {
    let namespaces = objects.iter().filter(|o| is_namespace(o));
    let crds = objects.iter().filter(|o| is_crd(o));
    let first = namespaces.chain(crds).collect();
    let rest = objects
        .iter()
        .filter(|o| !is_namespace(o) && !is_crd(o))
        .collect();
    (first, rest)
}

// ---------------------------------------------------------------------------------------
// Readiness (pure)
// ---------------------------------------------------------------------------------------

/// Ok when the CRD is Established, else what it is waiting for.
pub fn crd_established(crd: &CustomResourceDefinition) -> Result<(), String> {
    let conditions = crd
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let condition = |kind: &str| conditions.iter().find(|c| c.type_ == kind);
    if let Some(names) = condition("NamesAccepted")
        && names.status == "False"
    {
        return Err(format!(
            "names not accepted: {}",
            names.message.as_deref().unwrap_or("no message")
        ));
    }
    match condition("Established") {
        Some(c) if c.status == "True" => Ok(()),
        Some(c) => Err(format!(
            "Established is {}{}",
            c.status,
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )),
        None => Err("not Established yet".into()),
    }
}

/// Ok when every replica runs the current template and is ready and available (what
/// `kubectl rollout status` waits for), else the counts.
pub fn deployment_rollout(deployment: &Deployment) -> Result<(), String> {
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let status = deployment.status.clone().unwrap_or_default();
    if let Some(generation) = deployment.metadata.generation
        && status.observed_generation.unwrap_or(0) < generation
    {
        return Err(format!(
            "the Deployment controller has not seen generation {generation} yet"
        ));
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    if updated < desired || ready < desired || available < desired {
        return Err(format!(
            "{ready} of {desired} replicas ready ({updated} updated, {available} available)"
        ));
    }
    if total > updated {
        return Err(format!(
            "{} old replicas still terminating",
            total - updated
        ));
    }
    Ok(())
}

/// Ok when the DaemonSet runs an up-to-date, ready, available pod on every node it
/// should, else the counts. A DaemonSet that should run nowhere is not rolled out: its
/// pods are kept off every node (all nodes tainted, a selector no node matches).
pub fn daemonset_rollout(daemonset: &DaemonSet) -> Result<(), String> {
    let status = daemonset.status.clone().unwrap_or_default();
    if let Some(generation) = daemonset.metadata.generation
        && status.observed_generation.unwrap_or(0) < generation
    {
        return Err(format!(
            "the DaemonSet controller has not seen generation {generation} yet"
        ));
    }
    let desired = status.desired_number_scheduled;
    if desired == 0 {
        let misscheduled = match status.number_misscheduled {
            0 => String::new(),
            n => format!(", {n} running where they should not"),
        };
        return Err(format!(
            "schedules no pod on any node (desiredNumberScheduled 0{misscheduled}): taints \
             or a node selector keep it off every node"
        ));
    }
    let ready = status.number_ready;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if ready < desired || updated < desired || available < desired {
        return Err(format!(
            "{ready} of {desired} pods ready ({updated} updated, {available} available)"
        ));
    }
    Ok(())
}

/// Taints the DaemonSet controller tolerates on every DaemonSet's pods by itself (so a
/// node under pressure or not ready yet keeps its pods).
const DAEMONSET_DEFAULT_TOLERATIONS: [(&str, &str); 7] = [
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ("node.kubernetes.io/network-unavailable", "NoSchedule"),
];

fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_matches = toleration
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == taint.effect);
    let operator = toleration.operator.as_deref().unwrap_or("Equal");
    let key = toleration.key.as_deref().unwrap_or("");
    let key_matches = if key.is_empty() {
        operator == "Exists"
    } else {
        key == taint.key
    };
    let value_matches = operator == "Exists"
        || toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
    effect_matches && key_matches && value_matches
}

/// The nodes a DaemonSet's pods cannot run on, each with why: a taint its pods do not
/// tolerate, labels its node selector asks for (pure). What MetalLB's speakers need to
/// announce from every node.
pub fn nodes_left_out(daemonset: &DaemonSet, nodes: &[Node]) -> Vec<String> {
    let pod_spec = daemonset
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref());
    let tolerations = pod_spec
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    let selector = pod_spec.and_then(|s| s.node_selector.as_ref());
    let mut left_out = Vec::new();
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or("?");
        let mut why = Vec::new();
        for taint in node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or_default()
        {
            if taint.effect == "PreferNoSchedule" {
                continue;
            }
            let by_default = DAEMONSET_DEFAULT_TOLERATIONS
                .iter()
                .any(|(key, effect)| taint.key == *key && taint.effect == *effect);
            if !by_default && !tolerations.iter().any(|t| tolerates(t, taint)) {
                why.push(format!(
                    "taint {}{}:{} not tolerated",
                    taint.key,
                    taint
                        .value
                        .as_deref()
                        .map(|v| format!("={v}"))
                        .unwrap_or_default(),
                    taint.effect
                ));
            }
        }
        let labels = node.metadata.labels.as_ref();
        for (key, value) in selector.into_iter().flatten() {
            if labels.and_then(|l| l.get(key)) != Some(value) {
                why.push(format!("no label {key}={value} (the node selector)"));
            }
        }
        if !why.is_empty() {
            left_out.push(format!("node {name}: {}", why.join(", ")));
        }
    }
    left_out
}

/// Why the pods are not running, one line per problem: containers waiting (with the
/// kubelet's reason: ImagePullBackOff, CrashLoopBackOff…), pods the scheduler cannot
/// place, running containers that are not ready.
pub fn pod_problems(pods: &[Pod]) -> Vec<String> {
    let mut problems = Vec::new();
    for pod in pods {
        let name = pod.metadata.name.as_deref().unwrap_or("?");
        let Some(status) = &pod.status else {
            problems.push(format!("pod {name}: no status yet"));
            continue;
        };
        let before = problems.len();
        for condition in status.conditions.iter().flatten() {
            if condition.type_ == "PodScheduled" && condition.status == "False" {
                problems.push(format!(
                    "pod {name}: not scheduled: {}{}",
                    condition.reason.as_deref().unwrap_or("Unknown"),
                    suffix(condition.message.as_deref())
                ));
            }
        }
        let containers = status
            .init_container_statuses
            .iter()
            .flatten()
            .map(|c| (c, "init container"))
            .chain(
                status
                    .container_statuses
                    .iter()
                    .flatten()
                    .map(|c| (c, "container")),
            );
        for (container, what) in containers {
            let state = container.state.as_ref();
            if let Some(waiting) = state.and_then(|s| s.waiting.as_ref()) {
                problems.push(format!(
                    "pod {name}: {what} {} waiting: {}{}",
                    container.name,
                    waiting.reason.as_deref().unwrap_or("Unknown"),
                    suffix(waiting.message.as_deref())
                ));
            } else if what == "container"
                && state.is_some_and(|s| s.running.is_some())
                && !container.ready
            {
                problems.push(format!(
                    "pod {name}: container {} running but not ready",
                    container.name
                ));
            }
        }
        if problems.len() == before && status.phase.as_deref() != Some("Running") {
            problems.push(format!(
                "pod {name}: {}",
                status.phase.as_deref().unwrap_or("no phase")
            ));
        }
    }
    problems
}

fn suffix(message: Option<&str>) -> String {
    message
        .filter(|m| !m.is_empty())
        .map(|m| format!(" ({m})"))
        .unwrap_or_default()
}

/// Whether a failed request failed because the API server could not *call* a webhook
/// (MetalLB's validating webhook before its pod serves, or with no endpoints yet), as
/// opposed to the webhook answering "no". Only this is worth retrying.
pub fn is_webhook_unavailable(code: u16, reason: &str, message: &str) -> bool {
    let message = message.to_lowercase();
    if message.contains("denied the request") {
        return false;
    }
    let server_side = code == 500 || reason == "InternalError";
    let call_failed =
        message.contains("failed calling webhook") || message.contains("failed to call webhook");
    let unreachable = message.contains("connection refused")
        || message.contains("no endpoints available for service");
    server_side && (call_failed || (message.contains("webhook") && unreachable))
}

/// A webhook answered and refused the object (validation failed).
fn is_webhook_denial(message: &str) -> bool {
    message.contains("denied the request")
}

// ---------------------------------------------------------------------------------------
// Discovery and apply (I/O)
// ---------------------------------------------------------------------------------------

/// Resolves apiVersion + kind to the API resource (plural, scope), one discovery request
/// per group version, cached for the run.
struct Resolver {
    client: Client,
    groups: HashMap<String, ApiGroup>,
}

enum ApplyError {
    /// Discovery failed: the kind is not served, or discovery itself failed.
    Resolve(K8sError),
    /// The apply request failed; the caller decides whether that is worth retrying.
    Request(ObjectRef, kube::Error),
}

impl ApplyError {
    fn into_error(self) -> K8sError {
        match self {
            ApplyError::Resolve(e) => e,
            ApplyError::Request(object, error) => {
                K8sError::request(format!("apply {object}"), error)
            }
        }
    }
}

impl Resolver {
    fn new(client: &Client) -> Self {
        Resolver {
            client: client.clone(),
            groups: HashMap::new(),
        }
    }

    async fn resolve(
        &mut self,
        object: &ObjectRef,
    ) -> Result<(ApiResource, ApiCapabilities), K8sError> {
        let unknown = |hint: String| K8sError::UnknownKind {
            api_version: object.api_version.clone(),
            kind: object.kind.clone(),
            object: object.to_string(),
            hint,
        };
        let gv: GroupVersion = object
            .api_version
            .parse()
            .map_err(|_| unknown(format!("`{}` is not an apiVersion", object.api_version)))?;
        let crd_hint = || {
            let listing = if gv.group.is_empty() {
                "`kubectl api-resources`".to_string()
            } else {
                format!("`kubectl api-resources --api-group={}`", gv.group)
            };
            format!("is the CRD that defines it installed? {listing} lists what the cluster serves")
        };
        let find = |group: &ApiGroup| {
            group
                .versioned_resources(&gv.version)
                .into_iter()
                .find(|(resource, _)| resource.kind == object.kind)
        };
        // A cached group may predate a CRD applied since: a miss there is looked up afresh.
        if let Some(found) = self.groups.get(&object.api_version).and_then(find) {
            return Ok(found);
        }
        let group = match kube::discovery::pinned_group(&self.client, &gv).await {
            Ok(group) => group,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(unknown(crd_hint()));
            }
            Err(e) => {
                return Err(K8sError::request(
                    format!("discover the resources of {}", object.api_version),
                    e,
                ));
            }
        };
        let found = find(&group);
        self.groups.insert(object.api_version.clone(), group);
        found.ok_or_else(|| unknown(crd_hint()))
    }

    /// Server-side apply of one object by metallab's field manager; what happens to
    /// fields other managers changed is `ownership`'s.
    async fn apply(
        &mut self,
        object: &DynamicObject,
        ownership: Ownership,
    ) -> Result<(ObjectRef, Applied), ApplyError> {
        let mut target = object_ref(object);
        let (resource, capabilities) = self.resolve(&target).await.map_err(ApplyError::Resolve)?;
        let api: Api<DynamicObject> = if capabilities.scope == Scope::Namespaced {
            let namespace = target
                .namespace
                .get_or_insert_with(|| self.client.default_namespace().to_string());
            Api::namespaced_with(self.client.clone(), namespace, &resource)
        } else {
            target.namespace = None;
            Api::all_with(self.client.clone(), &resource)
        };
        let mut force = ownership == Ownership::Force;
        let mut body = serde_json::to_value(object).unwrap_or(Value::Null);
        let mut applied = Applied::default();
        let mut round = 0;
        loop {
            let params = if force {
                PatchParams::apply(FIELD_MANAGER).force()
            } else {
                PatchParams::apply(FIELD_MANAGER)
            };
            match api.patch(&target.name, &params, &Patch::Apply(&body)).await {
                Ok(_) => return Ok((target, applied)),
                Err(kube::Error::Api(status))
                    if !force && status.code == 409 && round < CONFLICT_ROUNDS =>
                {
                    let conflicts = field_conflicts(&status);
                    if conflicts.is_empty() {
                        return Err(ApplyError::Request(target, kube::Error::Api(status)));
                    }
                    for (field, manager) in conflicts {
                        let conflict = OtherManagersField {
                            object: target.clone(),
                            field,
                            manager,
                        };
                        if !is_maintained_by_controllers(&conflict.field) {
                            applied.taken.push(conflict);
                            force = true;
                        } else if field_path::drop_field(&mut body, &conflict.field) {
                            applied.kept.push(conflict);
                        } else {
                            // A controller's field metallab cannot leave out: never clobber it.
                            return Err(ApplyError::Request(target, kube::Error::Api(status)));
                        }
                    }
                    round += 1;
                }
                Err(e) => return Err(ApplyError::Request(target, e)),
            }
        }
    }
}

/// What one apply did with other managers' fields.
#[derive(Debug, Default)]
struct Applied {
    kept: Vec<OtherManagersField>,
    taken: Vec<OtherManagersField>,
}

/// The fields a server-side apply conflict names, each with the manager that owns it
/// (`conflict with "kube-controller-manager" using apps/v1` → `kube-controller-manager`).
fn field_conflicts(status: &kube::core::Status) -> Vec<(String, String)> {
    status
        .details
        .as_ref()
        .map(|d| d.causes.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict" && !c.field.is_empty())
        .map(|c| {
            let manager = c
                .message
                .split('"')
                .nth(1)
                .unwrap_or(c.message.as_str())
                .to_string();
            (c.field.clone(), manager)
        })
        .collect()
}

/// Applies `objects` in dependency order and waits until they run: Namespaces and CRDs,
/// then every applied CRD Established, then the rest, then every applied Deployment and
/// DaemonSet rolled out.
pub async fn apply_manifests(
    client: &Client,
    objects: &[DynamicObject],
    wait: &WaitOptions,
    on_progress: Progress<'_>,
) -> Result<ApplyReport, K8sError> {
    let (first, rest) = apply_order(objects);
    let mut resolver = Resolver::new(client);
    let mut report = ApplyReport::default();

    for object in first {
        let (applied, fields) = resolver
            .apply(object, Ownership::KeepOthers)
            .await
            .map_err(ApplyError::into_error)?;
        report.kept.extend(fields.kept);
        report.taken.extend(fields.taken);
        on_progress(&format!("applied {applied}"));
        if applied.kind == "CustomResourceDefinition" {
            report.established_crds.push(applied.name.clone());
        }
        report.applied.push(applied);
    }
    if !report.established_crds.is_empty() {
        wait_for_crds(client, &report.established_crds, wait, on_progress).await?;
    }

    for object in &rest {
        match resolver.apply(object, Ownership::KeepOthers).await {
            Ok((applied, fields)) => {
                report.applied.push(applied);
                report.kept.extend(fields.kept);
                report.taken.extend(fields.taken);
            }
            Err(ApplyError::Resolve(K8sError::UnknownKind { .. }))
                if is_obsolete(&object_ref(object)) =>
            {
                let skipped = object_ref(object);
                on_progress(&format!(
                    "skipped {skipped}: the cluster no longer serves {} {}",
                    skipped.api_version, skipped.kind
                ));
                report.skipped.push(skipped);
            }
            Err(e) => return Err(e.into_error()),
        }
    }
    if !rest.is_empty() {
        on_progress(&format!(
            "applied {}",
            counted(report.applied.len(), "object")
        ));
    }

    let workloads: Vec<ObjectRef> = report
        .applied
        .iter()
        .filter(|o| {
            o.api_version == "apps/v1" && matches!(o.kind.as_str(), "Deployment" | "DaemonSet")
        })
        .cloned()
        .collect();
    if workloads.is_empty() || !wait.rollouts {
        return Ok(report);
    }
    report.warnings = wait_for_rollouts(client, &workloads, wait, on_progress).await?;
    report.rolled_out = workloads;
    Ok(report)
}

/// Polls the CRDs until each is Established.
async fn wait_for_crds(
    client: &Client,
    names: &[String],
    wait: &WaitOptions,
    on_progress: Progress<'_>,
) -> Result<(), K8sError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let started = Instant::now();
    let mut pending: Vec<&String> = names.iter().collect();
    let mut last_progress = String::new();
    loop {
        let mut waiting = Vec::new();
        for name in pending {
            let crd = api.get(name).await.map_err(|e| {
                K8sError::request(format!("read CustomResourceDefinition {name}"), e)
            })?;
            if let Err(why) = crd_established(&crd) {
                waiting.push((name, why));
            }
        }
        if waiting.is_empty() {
            on_progress(&format!("{} established", counted(names.len(), "CRD")));
            return Ok(());
        }
        let progress = format!(
            "waiting for {} of {} CRDs to be established",
            waiting.len(),
            names.len()
        );
        report_change(on_progress, &mut last_progress, progress);
        let remaining = clip(
            wait.crd_timeout.saturating_sub(started.elapsed()),
            wait.until,
        );
        if remaining.is_zero() {
            return Err(K8sError::Timeout {
                what: "CRDs to be established".into(),
                waited: started.elapsed(),
                details: waiting
                    .iter()
                    .map(|(name, why)| format!("CustomResourceDefinition {name}: {why}"))
                    .collect(),
                hint: Some(format!("kubectl describe crd {}", waiting[0].0)),
            });
        }
        tokio::time::sleep(wait.poll_interval.min(remaining)).await;
        pending = waiting.into_iter().map(|(name, _)| name).collect();
    }
}

/// The label selector of a workload's pods (`matchLabels` as `k=v,…`).
fn selector_of(match_labels: Option<&std::collections::BTreeMap<String, String>>) -> String {
    match_labels
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// One poll of a workload.
struct RolloutPoll<'w> {
    workload: &'w ObjectRef,
    /// Ok when rolled out, else what it waits for.
    state: Result<(), String>,
    /// Its pods' label selector.
    selector: String,
    /// The DaemonSet as read (for a DaemonSet): where it schedules pods, and why not
    /// elsewhere.
    daemonset: Option<DaemonSet>,
}

impl RolloutPoll<'_> {
    /// For a DaemonSet: how many nodes it schedules pods on.
    fn scheduled(&self) -> Option<i32> {
        self.daemonset
            .as_ref()
            .and_then(|d| d.status.as_ref())
            .map(|s| s.desired_number_scheduled)
    }
}

async fn rollout_of<'w>(
    client: &Client,
    workload: &'w ObjectRef,
) -> Result<RolloutPoll<'w>, K8sError> {
    let namespace = workload.namespace.as_deref().unwrap_or("default");
    let read_error = |e| K8sError::request(format!("read {workload}"), e);
    if workload.kind == "Deployment" {
        let deployment = Api::<Deployment>::namespaced(client.clone(), namespace)
            .get(&workload.name)
            .await
            .map_err(read_error)?;
        Ok(RolloutPoll {
            workload,
            state: deployment_rollout(&deployment),
            selector: selector_of(
                deployment
                    .spec
                    .as_ref()
                    .and_then(|s| s.selector.match_labels.as_ref()),
            ),
            daemonset: None,
        })
    } else {
        let daemonset = Api::<DaemonSet>::namespaced(client.clone(), namespace)
            .get(&workload.name)
            .await
            .map_err(read_error)?;
        Ok(RolloutPoll {
            workload,
            state: daemonset_rollout(&daemonset),
            selector: selector_of(
                daemonset
                    .spec
                    .as_ref()
                    .and_then(|s| s.selector.match_labels.as_ref()),
            ),
            daemonset: Some(daemonset),
        })
    }
}

/// Why a DaemonSet schedules fewer pods than there are nodes: the nodes it leaves out.
async fn daemonset_findings(client: &Client, daemonset: &DaemonSet) -> Vec<String> {
    match Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(nodes) => nodes_left_out(daemonset, &nodes.items),
        Err(e) => vec![format!("(could not read the nodes: {e})")],
    }
}

/// Polls Deployments and DaemonSets until rolled out; on timeout, says what each one
/// still waits for and why its pods are not running. Returns warnings: DaemonSets that
/// run on fewer nodes than `wait.nodes`, with the nodes left out and why.
async fn wait_for_rollouts(
    client: &Client,
    workloads: &[ObjectRef],
    wait: &WaitOptions,
    on_progress: Progress<'_>,
) -> Result<Vec<String>, K8sError> {
    let started = Instant::now();
    let mut pending: Vec<&ObjectRef> = workloads.iter().collect();
    let mut last_progress = String::new();
    let mut warnings = Vec::new();
    loop {
        let mut waiting = Vec::new();
        for workload in pending {
            let poll = rollout_of(client, workload).await?;
            if poll.state.is_err() {
                waiting.push(poll);
                continue;
            }
            if let (Some(scheduled), Some(nodes), Some(daemonset)) =
                (poll.scheduled(), wait.nodes, &poll.daemonset)
                && usize::try_from(scheduled).unwrap_or(0) < nodes
            {
                let findings = daemonset_findings(client, daemonset).await;
                warnings.push(format!(
                    "{workload} runs on {scheduled} of the lab's {nodes} nodes: sessions from the others will not come up{}",
                    Indented(&findings)
                ));
            }
        }
        let Some(first) = waiting.first() else {
            on_progress(&format!(
                "{} rolled out",
                counted(workloads.len(), "workload")
            ));
            return Ok(warnings);
        };
        let why = first.state.as_ref().err().map_or("", String::as_str);
        let more = match waiting.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        report_change(
            on_progress,
            &mut last_progress,
            format!("waiting for {}: {why}{more}", first.workload),
        );
        let remaining = clip(
            wait.rollout_timeout.saturating_sub(started.elapsed()),
            wait.until,
        );
        if remaining.is_zero() {
            return Err(rollout_timeout(client, &waiting, started.elapsed()).await);
        }
        tokio::time::sleep(wait.poll_interval.min(remaining)).await;
        pending = waiting.into_iter().map(|p| p.workload).collect();
    }
}

/// The timeout error: per workload what it waits for, and its pods' problems.
async fn rollout_timeout(
    client: &Client,
    waiting: &[RolloutPoll<'_>],
    waited: Duration,
) -> K8sError {
    let mut details = Vec::new();
    let mut hint = None;
    let mut image_pull = false;
    for poll in waiting {
        let workload = poll.workload;
        let why = poll.state.as_ref().err().map_or("", String::as_str);
        details.push(format!("{workload}: {why}"));
        let namespace = workload.namespace.as_deref().unwrap_or("default");
        if let Some(daemonset) = &poll.daemonset
            && poll.scheduled() == Some(0)
        {
            let findings = daemonset_findings(client, daemonset).await;
            if hint.is_none() && !findings.is_empty() {
                hint = Some(
                    "kubectl describe nodes (Taints:); remove a taint with `kubectl taint nodes NODE KEY:EFFECT-`"
                        .to_string(),
                );
            }
            details.extend(findings.into_iter().map(|f| format!("  {f}")));
            continue;
        }
        let pods = Api::<Pod>::namespaced(client.clone(), namespace)
            .list(&ListParams::default().labels(&poll.selector))
            .await;
        match pods {
            Ok(pods) => {
                let problems = pod_problems(&pods.items);
                image_pull |= problems
                    .iter()
                    .any(|p| p.contains("ImagePull") || p.contains("ErrImagePull"));
                if hint.is_none()
                    && let Some(pod) = problems.first().and_then(|p| p.strip_prefix("pod "))
                    && let Some((pod, _)) = pod.split_once(':')
                {
                    hint = Some(format!("kubectl -n {namespace} describe pod {pod}"));
                }
                if pods.items.is_empty() {
                    details.push("  no pods yet".into());
                }
                details.extend(problems.into_iter().map(|p| format!("  {p}")));
            }
            Err(e) => details.push(format!("  (could not list its pods: {e})")),
        }
    }
    let mut hint = hint.unwrap_or_else(|| {
        let workload = waiting[0].workload;
        format!(
            "kubectl -n {} describe {} {}",
            workload.namespace.as_deref().unwrap_or("default"),
            workload.kind.to_lowercase(),
            workload.name
        )
    });
    if image_pull {
        hint.push_str(
            "; the nodes could not pull an image: without registry access, load it into the \
             cluster first (kind: `kind load docker-image IMAGE`)",
        );
    }
    K8sError::Timeout {
        what: "rollouts".into(),
        waited,
        details,
        hint: Some(hint),
    }
}

/// `1 object`, `3 objects`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Reports `progress` only when it differs from the last report, so plain logs get one
/// line per change rather than one per poll.
fn report_change(on_progress: Progress<'_>, last: &mut String, progress: String) {
    if *last != progress {
        on_progress(&progress);
        *last = progress;
    }
}

// ---------------------------------------------------------------------------------------
// MetalLB configuration
// ---------------------------------------------------------------------------------------

/// How long to keep retrying the configuration while MetalLB's webhook is unreachable:
/// `first_delay` doubling up to `max_delay`, for at most `deadline` overall.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRetry {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub deadline: Duration,
    /// No retry past this instant (`up --timeout`).
    pub until: Option<Instant>,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        WebhookRetry {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
            until: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigApplied {
    pub applied: Vec<ObjectRef>,
    /// Apply attempts: 1 plus the number of times the webhook was unreachable.
    pub attempts: u32,
    /// From the first attempt to the last object applied.
    pub elapsed: Duration,
}

/// Applies MetalLB's configuration (IPAddressPool, BGPPeer… CRs, or the legacy
/// `metallb-system/config` ConfigMap). A request that fails because the API server could
/// not call MetalLB's validating webhook ([`is_webhook_unavailable`]) is retried with
/// exponential backoff until `retry.deadline`; any other failure — above all the webhook
/// denying the object — fails at once with the API server's message.
pub async fn apply_metallb_config(
    client: &Client,
    objects: &[DynamicObject],
    retry: &WebhookRetry,
    on_progress: Progress<'_>,
) -> Result<ConfigApplied, K8sError> {
    let started = Instant::now();
    let mut resolver = Resolver::new(client);
    let mut applied = Vec::new();
    let mut attempts = 1;
    let mut delay = retry.first_delay;
    for object in objects {
        loop {
            let status = match resolver.apply(object, Ownership::Force).await {
                Ok((target, _)) => {
                    applied.push(target);
                    break;
                }
                Err(ApplyError::Request(target, kube::Error::Api(status)))
                    if is_webhook_unavailable(status.code, &status.reason, &status.message) =>
                {
                    (target, status)
                }
                Err(ApplyError::Request(target, kube::Error::Api(status)))
                    if is_webhook_denial(&status.message) =>
                {
                    return Err(K8sError::Rejected {
                        object: target.to_string(),
                        message: status.message,
                        hint: "MetalLB's webhook validated the object and refused it; fix the \
                               topology's metallb section (the message above is MetalLB's)"
                            .into(),
                    });
                }
                Err(other) => return Err(other.into_error()),
            };
            let (target, status) = status;
            let remaining = clip(
                retry.deadline.saturating_sub(started.elapsed()),
                retry.until,
            );
            if remaining.is_zero() {
                return Err(K8sError::WebhookUnavailable {
                    attempts,
                    waited: started.elapsed(),
                    last_message: status.message,
                    hint: "kubectl -n metallb-system get pods,endpoints: the controller pod \
                           serves the webhook; it must be Running and Ready"
                        .into(),
                });
            }
            let pause = delay.min(remaining);
            on_progress(&format!(
                "MetalLB's webhook is not reachable yet (attempt {attempts}, applying {target}); retrying in {}",
                humantime::format_duration(pause)
            ));
            tokio::time::sleep(pause).await;
            attempts += 1;
            delay = (delay * 2).min(retry.max_delay);
        }
    }
    on_progress(&match attempts {
        1 => format!(
            "MetalLB configuration applied ({})",
            counted(applied.len(), "object")
        ),
        n => format!(
            "MetalLB configuration applied ({}) after {n} attempts",
            counted(applied.len(), "object")
        ),
    });
    Ok(ConfigApplied {
        applied,
        attempts,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests;
