//! What the server offers: every API resource (built-in and OpenShift
//! kinds from the schema, custom resources from the CRDs in the snapshot,
//! resources found only as keys), and an index of the live objects of each.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as J;

use crate::crypt::KeyRing;
use crate::kube::key::{self, KeyKind};
use crate::kube::schema::schema;
use crate::mvcc::Record;
use crate::query::Item;

/// One resource as discovery describes it.
#[derive(Debug, Clone)]
pub struct ApiResource {
    /// `""` for the core group.
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// A CRD version's `additionalPrinterColumns`, if it came from a CRD.
    pub printer_columns: Option<Vec<J>>,
    pub status: bool,
    pub scale: bool,
    /// Live objects at the served revision.
    pub count: usize,
}

impl ApiResource {
    pub(crate) fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Kinds the apiservers serve without a namespace (when the snapshot holds
/// no object to tell).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ComponentStatus",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "APIService",
    "StorageClass",
    "PriorityClass",
    "CertificateSigningRequest",
    "ClusterTrustBundle",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "VolumeAttributesClass",
    "RuntimeClass",
    "IngressClass",
    "IPAddress",
    "ServiceCIDR",
    "ClusterCIDR",
    "PodSecurityPolicy",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "StorageVersion",
    "StorageVersionMigration",
    "DeviceClass",
    "ResourceSlice",
    "DeviceTaintRule",
    "AuditSink",
    "Project",
    "User",
    "Group",
    "Identity",
    "UserIdentityMapping",
    "OAuthClient",
    "OAuthAccessToken",
    "OAuthAuthorizeToken",
    "OAuthClientAuthorization",
    "ClusterNetwork",
    "HostSubnet",
    "NetNamespace",
    "Image",
    "ImageSignature",
    "SecurityContextConstraints",
    "RangeAllocation",
    "ClusterResourceQuota",
    "BrokerTemplateInstance",
    "CloudPrivateIPConfig",
    "Config",
];

/// Groups the schema holds that are not served as resources.
const NOT_SERVED: &[&str] = &[
    "meta.k8s.io",
    // Removed from Kubernetes in 1.22; its kinds are served by apps,
    // networking.k8s.io and policy, from the same keys.
    "extensions",
    "apidiscovery.k8s.io",
    "admission.k8s.io",
    "imagepolicy.k8s.io",
];

/// Core kinds with a List that are not stored resources.
const NOT_RESOURCES: &[&str] = &["APIGroup", "APIResource", "APIVersions", "Status"];

/// The plural resource of a kind (Go's guess, with the apiservers'
/// exceptions).
fn plural(kind: &str) -> String {
    match kind {
        "SecurityContextConstraints" => "securitycontextconstraints".into(),
        _ => key::plural_of(kind),
    }
}

/// Version preference as the apiserver orders them: GA, beta, alpha, then
/// the higher number first.
pub(crate) fn version_rank(v: &str) -> (u8, i64, i64) {
    let Some(rest) = v.strip_prefix('v') else {
        return (9, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major: i64 = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stage, minor) = if tail.is_empty() {
        (0, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (1, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (2, n.parse().unwrap_or(0))
    } else {
        (9, 0)
    };
    (stage, -major, -minor)
}

/// One live object in the index.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The group the storage key names, when it names one.
    pub group: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    pub record: Record<'a>,
}

/// The live objects by plural resource, each list sorted by
/// (namespace, name).
pub(crate) struct Index<'a> {
    pub by_plural: HashMap<&'a str, Vec<Entry<'a>>>,
}

impl<'a> Index<'a> {
    /// Indexes the live records of one revision (sorted by key).
    pub(crate) fn build(live: &[Record<'a>]) -> Index<'a> {
        use rayon::prelude::*;
        // Keys parsed in parallel (the costliest step: UTF-8 checks of
        // every segment), grouped in key order, each group sorted in
        // parallel.
        let parsed: Vec<Option<(&'a str, Entry<'a>)>> = live
            .par_iter()
            .with_min_len(4096)
            .map(|r| {
                let k = key::parse(r.kv.key)?;
                if k.kind == KeyKind::CompactRevKey || k.kind == KeyKind::Range {
                    return None;
                }
                Some((
                    k.resource,
                    Entry {
                        group: k.group,
                        namespace: k.namespace,
                        name: k.name,
                        record: *r,
                    },
                ))
            })
            .collect();
        let mut by_plural: HashMap<&'a str, Vec<Entry<'a>>> = HashMap::new();
        for (plural, e) in parsed.into_iter().flatten() {
            by_plural.entry(plural).or_default().push(e);
        }
        by_plural
            .par_iter_mut()
            .for_each(|(_, v)| v.sort_by(|a, b| (a.namespace, a.name).cmp(&(b.namespace, b.name))));
        Index { by_plural }
    }

    /// The objects of `group`/`plural`, optionally in one namespace.
    pub(crate) fn select(&self, group: &str, plural: &str, ns: Option<&str>) -> Vec<Entry<'a>> {
        let Some(all) = self.by_plural.get(plural) else {
            return Vec::new();
        };
        let slice: &[Entry<'a>] = match ns {
            Some(ns) => {
                let lo = all.partition_point(|e| e.namespace < Some(ns));
                let hi = all.partition_point(|e| e.namespace <= Some(ns));
                &all[lo..hi]
            }
            None => all,
        };
        slice
            .iter()
            .filter(|e| e.group.is_none_or(|g| g == group))
            .copied()
            .collect()
    }

    /// One object.
    pub(crate) fn get(
        &self,
        group: &str,
        plural: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Entry<'a>> {
        let all = self.by_plural.get(plural)?;
        let at = all.partition_point(|e| (e.namespace, e.name) < (ns, name));
        all[at..]
            .iter()
            .take_while(|e| e.namespace == ns && e.name == name)
            .find(|e| e.group.is_none_or(|g| g == group))
            .copied()
    }
}

/// Every resource served, keyed by (group, plural).
pub(crate) struct Catalog {
    pub resources: BTreeMap<(String, String), ApiResource>,
    /// Group versions named by the snapshot's APIService objects
    /// (`apiregistration.k8s.io`), group → versions: served in discovery
    /// even when no resource of the catalog is in that version.
    pub announced: BTreeMap<String, Vec<String>>,
    /// Every served version of each CRD's resource, (group, plural) →
    /// versions.
    pub crd_versions: HashMap<(String, String), Vec<String>>,
}

impl Catalog {
    /// Built-in and OpenShift kinds from the schema, custom resources from
    /// the CRDs among `index`, and resources seen only as keys.
    pub(crate) fn build(index: &Index<'_>, keys: Option<&KeyRing>) -> Catalog {
        let mut resources: BTreeMap<(String, String), ApiResource> = BTreeMap::new();
        let s = schema();
        for av in s.api_versions() {
            let (group, version) = match av.rsplit_once('/') {
                Some((g, v)) => (g, v),
                None => ("", av),
            };
            if NOT_SERVED.contains(&group) {
                continue;
            }
            let Some(kinds) = s.kinds_of(av) else {
                continue;
            };
            for (kind, info) in kinds {
                if kind.ends_with("List")
                    || NOT_RESOURCES.contains(kind)
                    || !kinds.contains_key(format!("{kind}List").as_str())
                    || (info.legacy && group.is_empty())
                    || info.retired
                {
                    continue;
                }
                let plural = plural(kind);
                let k = (group.to_string(), plural.clone());
                let better = resources
                    .get(&k)
                    .is_none_or(|r| version_rank(version) < version_rank(&r.version));
                if !better {
                    continue;
                }
                resources.insert(
                    k,
                    ApiResource {
                        group: group.to_string(),
                        version: version.to_string(),
                        singular: kind.to_ascii_lowercase(),
                        short_names: key::short_names(group, &plural),
                        categories: if ALL_CATEGORY.contains(&(group, kind)) {
                            vec!["all".into()]
                        } else {
                            Vec::new()
                        },
                        status: has_status(kind),
                        scale: matches!(
                            *kind,
                            "Deployment" | "ReplicaSet" | "StatefulSet" | "ReplicationController"
                        ),
                        namespaced: !CLUSTER_SCOPED.contains(kind),
                        plural,
                        kind: kind.to_string(),
                        printer_columns: None,
                        count: 0,
                    },
                );
            }
        }
        // CRDs in the snapshot.
        let mut crd_versions = HashMap::new();
        for e in index.select("apiextensions.k8s.io", "customresourcedefinitions", None) {
            let Ok(crd) = Item::new(e.record, keys).object() else {
                continue;
            };
            if let Some(r) = from_crd(&crd) {
                crd_versions.insert((r.group.clone(), r.plural.clone()), served_versions(&crd));
                resources.insert((r.group.clone(), r.plural.clone()), r);
            }
        }
        // APIServices: the group versions the cluster announced (built-in
        // ones, CRD groups, and aggregated APIs such as metrics.k8s.io).
        let mut announced: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in index.select("apiregistration.k8s.io", "apiservices", None) {
            let Ok(o) = Item::new(e.record, keys).object() else {
                continue;
            };
            let (Some(g), Some(v)) = (
                o.pointer("/spec/group").and_then(J::as_str),
                o.pointer("/spec/version").and_then(J::as_str),
            ) else {
                continue;
            };
            // The core group is /api, never an APIService's.
            if g.is_empty() || v.is_empty() || NOT_SERVED.contains(&g) {
                continue;
            }
            let vs = announced.entry(g.to_string()).or_default();
            if !vs.iter().any(|x| x == v) {
                vs.push(v.to_string());
            }
        }
        // Resources seen only as keys (a custom resource whose CRD is gone).
        for (plural, entries) in &index.by_plural {
            // The group a key without one means, resolved once per plural;
            // each distinct group of the plural's keys looked up once.
            let default_group = match key::resolve(plural) {
                Some(r) => r.group,
                None => String::new(),
            };
            let mut seen: Vec<Option<&str>> = Vec::new();
            for e in entries {
                if seen.contains(&e.group) {
                    continue;
                }
                seen.push(e.group);
                let group = match e.group {
                    Some(g) => g.to_string(),
                    None => default_group.clone(),
                };
                let k = (group.clone(), plural.to_string());
                if resources.contains_key(&k) {
                    continue;
                }
                let obj = Item::new(e.record, keys).object().ok();
                let api_version = obj
                    .as_ref()
                    .and_then(|o| o.get("apiVersion")?.as_str().map(str::to_string))
                    .unwrap_or_default();
                let kind = obj
                    .as_ref()
                    .and_then(|o| o.get("kind")?.as_str().map(str::to_string))
                    .unwrap_or_default();
                if kind.is_empty() {
                    continue;
                }
                let version = api_version
                    .rsplit_once('/')
                    .map_or(api_version.as_str(), |(_, v)| v)
                    .to_string();
                resources.insert(
                    k,
                    ApiResource {
                        group,
                        version,
                        plural: plural.to_string(),
                        singular: kind.to_ascii_lowercase(),
                        kind,
                        namespaced: e.namespace.is_some(),
                        short_names: Vec::new(),
                        categories: Vec::new(),
                        printer_columns: None,
                        status: false,
                        scale: false,
                        count: 0,
                    },
                );
                break;
            }
        }
        let mut c = Catalog {
            resources,
            announced,
            crd_versions,
        };
        c.count(index);
        c
    }

    /// Sets counts, and scope from the keys where objects exist.
    pub(crate) fn count(&mut self, index: &Index<'_>) {
        for r in self.resources.values_mut() {
            let entries = index.select(&r.group, &r.plural, None);
            r.count = entries.len();
            if let Some(e) = entries.first() {
                r.namespaced = e.namespace.is_some();
            }
        }
    }

    /// Groups and their versions, preferred version first; the core group
    /// is `""`.
    pub(crate) fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut g: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in self.resources.values() {
            let v = g.entry(r.group.clone()).or_default();
            if !v.contains(&r.version) {
                v.push(r.version.clone());
            }
        }
        for (group, versions) in &self.announced {
            let v = g.entry(group.clone()).or_default();
            for x in versions {
                if !v.contains(x) {
                    v.push(x.clone());
                }
            }
        }
        let mut out: Vec<(String, Vec<String>)> = g
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by_key(|x| version_rank(x));
                (k, v)
            })
            .collect();
        // Kubernetes groups before OpenShift and custom ones, as kubectl
        // lists them.
        out.sort_by_key(|(g, _)| (group_order(g), g.clone()));
        out
    }

    /// The resources of one group version.
    pub(crate) fn in_version<'s>(&'s self, group: &str, version: &str) -> Vec<&'s ApiResource> {
        self.resources
            .values()
            .filter(|r| r.group == group && r.version == version)
            .collect()
    }

    /// The resources discovery lists in one group version: those served
    /// in it, and for another version an APIService announced, every
    /// resource of the group the schema (or its CRD) also knows in that
    /// version.
    pub(crate) fn discovered(&self, group: &str, version: &str) -> Vec<ApiResource> {
        let mut out: Vec<ApiResource> = self
            .in_version(group, version)
            .into_iter()
            .cloned()
            .collect();
        let announced = self
            .announced
            .get(group)
            .is_some_and(|vs| vs.iter().any(|v| v == version));
        if !announced || group.is_empty() {
            return out;
        }
        let gv = format!("{group}/{version}");
        let schema_kinds = schema().kinds_of(&gv);
        for r in self.resources.values() {
            if r.group != group || r.version == version {
                continue;
            }
            let known = match self.crd_versions.get(&(r.group.clone(), r.plural.clone())) {
                Some(vs) => vs.iter().any(|v| v == version),
                None => schema_kinds.is_some_and(|k| k.contains_key(r.kind.as_str())),
            };
            if known {
                let mut other = r.clone();
                other.version = version.to_string();
                out.push(other);
            }
        }
        out
    }

    /// Whether discovery offers this group version (resources or an
    /// APIService naming it).
    pub(crate) fn has_version(&self, group: &str, version: &str) -> bool {
        self.groups()
            .iter()
            .any(|(g, vs)| g == group && vs.iter().any(|v| v == version))
    }

    /// A resource by group and plural (any version the client names).
    pub(crate) fn find(&self, group: &str, plural: &str) -> Option<&ApiResource> {
        self.resources.get(&(group.to_string(), plural.to_string()))
    }
}

fn group_order(g: &str) -> u8 {
    if g.is_empty() {
        0
    } else if !g.contains('.') || g.ends_with(".k8s.io") {
        1
    } else if g.ends_with(".openshift.io") {
        2
    } else {
        3
    }
}

/// Kinds with a `status` subresource in the apiserver.
fn has_status(kind: &str) -> bool {
    !matches!(
        kind,
        "ConfigMap"
            | "Secret"
            | "ServiceAccount"
            | "Endpoints"
            | "Event"
            | "Role"
            | "RoleBinding"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "Lease"
            | "LimitRange"
            | "PodTemplate"
            | "ControllerRevision"
            | "EndpointSlice"
            | "PriorityClass"
            | "StorageClass"
            | "IngressClass"
            | "RuntimeClass"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
    )
}

/// Kinds in kubectl's `all` category.
const ALL_CATEGORY: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "ReplicationController"),
    ("", "Service"),
    ("apps", "DaemonSet"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("batch", "CronJob"),
    ("batch", "Job"),
    ("apps.openshift.io", "DeploymentConfig"),
    ("build.openshift.io", "BuildConfig"),
    ("build.openshift.io", "Build"),
    ("image.openshift.io", "ImageStream"),
    ("route.openshift.io", "Route"),
];

/// The versions a CRD serves (v1 `versions[].served`, or v1beta1's single
/// `version`).
fn served_versions(crd: &J) -> Vec<String> {
    let spec = crd.get("spec");
    let mut out: Vec<String> = spec
        .and_then(|s| s.get("versions"))
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(J::as_bool) != Some(false))
        .filter_map(|v| v.get("name").and_then(J::as_str).map(str::to_string))
        .collect();
    if out.is_empty() {
        if let Some(v) = spec.and_then(|s| s.get("version")).and_then(J::as_str) {
            out.push(v.to_string());
        }
    }
    out
}

/// The resource a CRD object defines (v1 or v1beta1 layout).
pub fn from_crd(crd: &J) -> Option<ApiResource> {
    let spec = crd.get("spec")?;
    let group = spec.get("group")?.as_str()?.to_string();
    let names = spec.get("names")?;
    let plural = names.get("plural")?.as_str()?.to_string();
    let kind = names.get("kind")?.as_str()?.to_string();
    let strs = |v: Option<&J>| -> Vec<String> {
        v.and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(J::as_str)
            .map(str::to_string)
            .collect()
    };
    let versions: Vec<&J> = spec
        .get("versions")
        .and_then(J::as_array)
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    // The storage version (objects are stored in it), else the first served.
    let chosen = versions
        .iter()
        .find(|v| v.get("storage").and_then(J::as_bool) == Some(true))
        .or_else(|| versions.first())
        .copied();
    let version = chosen
        .and_then(|v| v.get("name")?.as_str())
        .or_else(|| spec.get("version")?.as_str())?
        .to_string();
    let columns = chosen
        .and_then(|v| v.get("additionalPrinterColumns"))
        .or_else(|| spec.get("additionalPrinterColumns"))
        .and_then(J::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    // v1beta1 spells the path JSONPath.
                    let mut c = c.clone();
                    if c.get("jsonPath").is_none() {
                        if let Some(p) = c.get("JSONPath").cloned() {
                            c["jsonPath"] = p;
                        }
                    }
                    c
                })
                .collect()
        })
        .unwrap_or_default();
    let sub = chosen
        .and_then(|v| v.get("subresources"))
        .or_else(|| spec.get("subresources"));
    Some(ApiResource {
        singular: names
            .get("singular")
            .and_then(J::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_ascii_lowercase()),
        short_names: strs(names.get("shortNames")),
        categories: strs(names.get("categories")),
        namespaced: spec.get("scope").and_then(J::as_str) != Some("Cluster"),
        printer_columns: Some(columns),
        status: sub.and_then(|s| s.get("status")).is_some(),
        scale: sub.and_then(|s| s.get("scale")).is_some(),
        group,
        version,
        plural,
        kind,
        count: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_order_as_the_apiserver_prefers() {
        let mut v = vec!["v1beta1", "v1", "v2beta2", "v1alpha1", "v2"];
        v.sort_by_key(|x| version_rank(x));
        assert_eq!(v, ["v2", "v1", "v2beta2", "v1beta1", "v1alpha1"]);
    }

    #[test]
    fn crd_gives_its_resource() {
        let crd = json!({"spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "additionalPrinterColumns": [{"name": "Color", "type": "string", "jsonPath": ".spec.color"}],
                "subresources": {"status": {}}}]}});
        let r = from_crd(&crd).unwrap();
        assert_eq!(
            (r.group.as_str(), r.version.as_str(), r.kind.as_str()),
            ("example.com", "v1", "Widget")
        );
        assert!(r.namespaced && r.status && !r.scale);
        assert_eq!(r.short_names, ["wd"]);
        assert_eq!(r.printer_columns.unwrap().len(), 1);
    }

    #[test]
    fn schema_catalog_has_the_usual_resources() {
        let idx = Index::build(&[]);
        let c = Catalog::build(&idx, None);
        let pods = c.find("", "pods").unwrap();
        assert_eq!(
            (pods.version.as_str(), pods.kind.as_str(), pods.namespaced),
            ("v1", "Pod", true)
        );
        assert_eq!(c.find("apps", "deployments").unwrap().version, "v1");
        assert!(!c.find("", "nodes").unwrap().namespaced);
        assert!(c.find("route.openshift.io", "routes").is_some());
        assert!(c.find("", "podlists").is_none());
        assert_eq!(c.groups()[0].0, "");
    }
}
