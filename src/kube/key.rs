//! Storage keys (docs/kubernetes.md) and kubectl-style resource names.
//!
//! A key is `/<etcd prefix>/<resource prefix>/[<namespace>/]<name>`. The
//! resource prefix is the plural resource without its group for built-in
//! types (with a few historical overrides such as `minions` for nodes),
//! `<group>/<plural>` for custom resources, CRDs and APIServices, and
//! `oauth/accesstokens`-style paths for some OpenShift types.
//!
//! Which API server wrote a key (kube-apiserver, openshift-apiserver,
//! oauth-apiserver) follows from its etcd prefix and, under
//! `/openshift.io`, from its resource's group ([`StorageKey::api_server`],
//! [`ResourcePath::api_server`]): the one table of that is [`SERVED_BY`].

use std::collections::HashMap;
use std::sync::OnceLock;

use super::schema::schema;

/// What a key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An API object.
    Object,
    /// `compact_rev_key`: the last compacted revision, decimal text.
    CompactRevKey,
    /// `<prefix>/masterleases/<ip>`: a v1 Endpoints with a TTL lease.
    MasterLease,
    /// `<prefix>/ranges/<allocator>`: a v1 RangeAllocation.
    Range,
}

/// A parsed storage key; all strings borrow the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageKey<'a> {
    pub kind: KeyKind,
    /// The etcd prefix, e.g. `/registry` (empty for `compact_rev_key`).
    pub prefix: &'a str,
    /// The resource prefix as stored, e.g. `pods`, `services/specs`,
    /// `route.openshift.io/routes`.
    pub resource_prefix: &'a str,
    /// API group when the key says it (`<group>/<plural>` keys or a
    /// group-specific override), `None` when the key does not tell.
    pub group: Option<&'a str>,
    /// The plural resource name (`nodes` for `minions`, `services` for
    /// `services/specs`, `oauthaccesstokens` for `oauth/accesstokens`).
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

/// Resource prefixes that are not the plural resource name:
/// (prefix, group or None for "several", plural).
const OVERRIDES: &[(&str, Option<&str>, &str)] = &[
    ("minions", Some(""), "nodes"),
    ("services/specs", Some(""), "services"),
    ("services/endpoints", Some(""), "endpoints"),
    ("controllers", Some(""), "replicationcontrollers"),
    ("ingress", None, "ingresses"),
    ("masterleases", Some(""), "endpoints"),
    ("ranges/serviceips", Some(""), "rangeallocations"),
    ("ranges/secondaryserviceips", Some(""), "rangeallocations"),
    ("ranges/servicenodeports", Some(""), "rangeallocations"),
    (
        "oauth/accesstokens",
        Some("oauth.openshift.io"),
        "oauthaccesstokens",
    ),
    (
        "oauth/authorizetokens",
        Some("oauth.openshift.io"),
        "oauthauthorizetokens",
    ),
    ("oauth/clients", Some("oauth.openshift.io"), "oauthclients"),
    (
        "oauth/clientauthorizations",
        Some("oauth.openshift.io"),
        "oauthclientauthorizations",
    ),
    ("useridentities", Some("user.openshift.io"), "identities"),
    (
        "registry/sdnnetworks",
        Some("network.openshift.io"),
        "clusternetworks",
    ),
    (
        "registry/sdnsubnets",
        Some("network.openshift.io"),
        "hostsubnets",
    ),
    (
        "registry/sdnnetnamespaces",
        Some("network.openshift.io"),
        "netnamespaces",
    ),
    (
        "registry/egressnetworkpolicy",
        Some("network.openshift.io"),
        "egressnetworkpolicies",
    ),
];

/// First segments that always take a second segment to form the prefix.
const TWO_SEGMENT: &[&str] = &["services", "oauth", "registry", "ranges", "authorization"];

/// The API servers that write to etcd (docs/openshift.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ApiServer {
    /// kube-apiserver: `/registry` upstream, `/kubernetes.io` on OpenShift
    /// (custom resources and CRDs included).
    Kube,
    /// openshift-apiserver: `/openshift.io`.
    Openshift,
    /// oauth-apiserver: `/openshift.io` too.
    Oauth,
}

/// The API groups openshift-apiserver and oauth-apiserver serve (stored
/// under `/openshift.io`); every other group is kube-apiserver's.
pub(crate) const SERVED_BY: &[(&str, ApiServer)] = &[
    ("oauth.openshift.io", ApiServer::Oauth),
    ("user.openshift.io", ApiServer::Oauth),
    ("apps.openshift.io", ApiServer::Openshift),
    ("authorization.openshift.io", ApiServer::Openshift),
    ("build.openshift.io", ApiServer::Openshift),
    ("image.openshift.io", ApiServer::Openshift),
    ("project.openshift.io", ApiServer::Openshift),
    ("quota.openshift.io", ApiServer::Openshift),
    ("route.openshift.io", ApiServer::Openshift),
    ("security.openshift.io", ApiServer::Openshift),
    ("template.openshift.io", ApiServer::Openshift),
];

/// The API server that serves `group` (`""` = core).
pub(crate) fn served_by(group: &str) -> ApiServer {
    SERVED_BY
        .iter()
        .find(|(g, _)| *g == group)
        .map_or(ApiServer::Kube, |&(_, s)| s)
}

/// The API server that writes under an etcd prefix: `Kube` for
/// `/registry` and `/kubernetes.io`; for `/openshift.io` (shared by two
/// servers) the one serving `group`, openshift-apiserver when the group is
/// unknown; `None` for other prefixes.
fn server_of_prefix(prefix: &str, group: Option<&str>) -> Option<ApiServer> {
    match prefix {
        "/registry" | "/kubernetes.io" => Some(ApiServer::Kube),
        "/openshift.io" => Some(match group.map(served_by) {
            Some(ApiServer::Oauth) => ApiServer::Oauth,
            _ => ApiServer::Openshift,
        }),
        _ => None,
    }
}

/// The API server that wrote `key`, judged by its etcd prefix alone (for
/// keys [`resource_path`] cannot split; see [`ResourcePath::api_server`]).
pub(crate) fn prefix_server(key: &[u8]) -> Option<ApiServer> {
    let (first, after) = split_seg(key.strip_prefix(b"/")?);
    after?;
    server_of_prefix(&format!("/{}", std::str::from_utf8(first).ok()?), None)
}

/// The first part of a storage key, up to its resource prefix; the rest
/// (namespace and name) left as bytes. Lenient where [`parse`] is strict:
/// any tail is accepted, and it need not be UTF-8, so a hostile key still
/// says what resource it is stored as (redaction relies on that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResourcePath<'a> {
    /// The etcd prefix, e.g. `/registry`.
    pub prefix: &'a str,
    /// The resource prefix as stored, e.g. `services/specs`.
    pub resource_prefix: &'a str,
    /// As [`StorageKey::group`].
    pub group: Option<&'a str>,
    /// As [`StorageKey::resource`].
    pub resource: &'a str,
    /// What follows `<resource prefix>/` (empty when nothing does).
    pub rest: &'a [u8],
    /// Whether a `/` followed the resource prefix.
    pub has_rest: bool,
}

/// The next `/`-separated segment of `b` and what follows its `/`.
fn split_seg(b: &[u8]) -> (&[u8], Option<&[u8]>) {
    match b.iter().position(|&c| c == b'/') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    }
}

/// The namespace and name of a core Secret's key under any one-segment
/// etcd prefix, as bytes (names may hold anything in a hostile snapshot).
pub(crate) fn secret_place(key: &[u8]) -> Option<(&[u8], &[u8])> {
    resource_path(key)
        .filter(|p| p.has_rest && p.is_core("secrets"))?
        .namespace_name()
}

/// [`ResourcePath`] of a key with any one-segment etcd prefix.
pub(crate) fn resource_path(key: &[u8]) -> Option<ResourcePath<'_>> {
    let (first, _) = split_seg(key.strip_prefix(b"/")?);
    resource_path_at(key, first.len() + 1)
}

/// [`ResourcePath`] of a key whose etcd prefix is its first `p_len` bytes.
fn resource_path_at(key: &[u8], p_len: usize) -> Option<ResourcePath<'_>> {
    let prefix = std::str::from_utf8(key.get(..p_len)?).ok()?;
    let rest = key[p_len..].strip_prefix(b"/")?;
    let (s0, after0) = split_seg(rest);
    let s0 = std::str::from_utf8(s0).ok()?;
    if s0.is_empty() {
        return None;
    }
    let two = s0.contains('.') || TWO_SEGMENT.contains(&s0);
    let (rp_len, after) = if two {
        let (s1, after1) = split_seg(after0?);
        if s1.is_empty() {
            return None;
        }
        (s0.len() + 1 + s1.len(), after1)
    } else {
        (s0.len(), after0)
    };
    let resource_prefix = std::str::from_utf8(&rest[..rp_len]).ok()?;
    let (mut group, mut resource) = match resource_prefix.split_once('/') {
        Some((g, r)) if s0.contains('.') => (Some(g), r),
        _ => (None, resource_prefix),
    };
    if let Some(&(_, g, plural)) = OVERRIDES.iter().find(|o| o.0 == resource_prefix) {
        group = g;
        resource = plural;
    }
    Some(ResourcePath {
        prefix,
        resource_prefix,
        group,
        resource,
        rest: after.unwrap_or(&[]),
        has_rest: after.is_some(),
    })
}

impl<'a> ResourcePath<'a> {
    /// Whether the key is stored as the core-group resource `plural`.
    pub(crate) fn is_core(&self, plural: &str) -> bool {
        self.resource == plural && self.group.is_none_or(|g| g.is_empty())
    }

    /// The namespace and name of a namespaced key, as bytes: the rest split
    /// at its first `/` (the name keeps any further `/`).
    pub(crate) fn namespace_name(&self) -> Option<(&'a [u8], &'a [u8])> {
        let i = self.rest.iter().position(|&b| b == b'/')?;
        Some((&self.rest[..i], &self.rest[i + 1..]))
    }

    /// The API server that wrote the key, when the prefix and resource say.
    pub(crate) fn api_server(&self) -> Option<ApiServer> {
        server_of(self.prefix, self.group, self.resource)
    }

    /// `(resource, group)` with the group filled in for built-in resources
    /// stored under a group-less prefix (`deployments` → `apps`); `None`
    /// when the group is not known.
    pub(crate) fn group_resource(&self) -> Option<(&'a str, &'a str)> {
        group_resource(self.prefix, self.group, self.resource)
    }
}

/// The group of a built-in resource stored without one: the most likely
/// group serving that plural (for `/openshift.io` keys, the most likely
/// of those openshift/oauth-apiserver serve).
fn builtin_group(prefix: &str, plural: &str) -> Option<&'static str> {
    let t = table();
    let candidates = t.by_alias.get(plural)?;
    let openshift = prefix == "/openshift.io";
    candidates
        .iter()
        .map(|&i| &t.resources[i])
        .filter(|r| r.plural == plural)
        .find(|r| !openshift || served_by(&r.group) != ApiServer::Kube)
        .map(|r| r.group.as_str())
}

fn group_resource<'a>(
    prefix: &str,
    group: Option<&'a str>,
    resource: &'a str,
) -> Option<(&'a str, &'a str)> {
    let g = match group {
        Some(g) => g,
        None => builtin_group(prefix, resource)?,
    };
    if prefix == "/openshift.io" && served_by(g) == ApiServer::Kube {
        return None;
    }
    Some((resource, g))
}

fn server_of(prefix: &str, group: Option<&str>, resource: &str) -> Option<ApiServer> {
    let group = match prefix {
        "/openshift.io" => group_resource(prefix, group, resource).map(|(_, g)| g),
        _ => group,
    };
    server_of_prefix(prefix, group)
}

impl StorageKey<'_> {}

/// Parses a key with any one-segment etcd prefix (`/registry`,
/// `/kubernetes.io`, `/openshift.io`, or a custom `/<x>`), and
/// `compact_rev_key`. Returns `None` for keys that fit no layout.
pub(crate) fn parse(key: &[u8]) -> Option<StorageKey<'_>> {
    let key = std::str::from_utf8(key).ok()?;
    if key == "compact_rev_key" {
        return Some(StorageKey {
            kind: KeyKind::CompactRevKey,
            prefix: "",
            resource_prefix: "",
            group: None,
            resource: "",
            namespace: None,
            name: key,
        });
    }
    let rest = key.strip_prefix('/')?;
    let end = rest.find('/')?;
    parse_str_with_prefix(key, &key[..end + 1])
}

/// Parses a key under a known etcd prefix (e.g. `/registry` or a custom
/// multi-segment `/a/b`; a trailing `/` is optional).
pub(crate) fn parse_with_prefix<'a>(key: &'a [u8], prefix: &str) -> Option<StorageKey<'a>> {
    parse_str_with_prefix(std::str::from_utf8(key).ok()?, prefix)
}

/// [`parse_with_prefix`] of a key already known to be UTF-8.
fn parse_str_with_prefix<'a>(key: &'a str, prefix: &str) -> Option<StorageKey<'a>> {
    let p = prefix.trim_end_matches('/');
    let rest = key.strip_prefix(p)?.strip_prefix('/')?;
    let prefix = &key[..p.len()];
    // At most four segments (a two-segment resource prefix, a namespace
    // and a name), none empty; gathered without an allocation, as every
    // key of a store is parsed when a query filters them.
    let mut held = [""; 4];
    let mut n = 0;
    for s in rest.split('/') {
        if s.is_empty() || n == held.len() {
            return None;
        }
        held[n] = s;
        n += 1;
    }
    let segs = &held[..n];
    // How many segments form the resource prefix.
    let rp_len = if segs[0].contains('.') || TWO_SEGMENT.contains(&segs[0]) {
        2
    } else {
        1
    };
    if segs.len() < rp_len {
        return None;
    }
    let rp_end = segs[..rp_len].iter().map(|s| s.len()).sum::<usize>() + rp_len - 1;
    let resource_prefix = &rest[..rp_end];
    let tail = &segs[rp_len..];
    let (mut group, mut resource) = if rp_len == 2 && segs[0].contains('.') {
        (Some(segs[0]), segs[1])
    } else {
        (None, resource_prefix)
    };
    if let Some(&(_, g, plural)) = OVERRIDES.iter().find(|o| o.0 == resource_prefix) {
        group = g;
        resource = plural;
    }
    let mut kind = KeyKind::Object;
    if segs[0] == "ranges" && tail.is_empty() {
        kind = KeyKind::Range;
        return Some(StorageKey {
            kind,
            prefix,
            resource_prefix,
            group,
            resource,
            namespace: None,
            name: segs[1],
        });
    }
    if segs[0] == "masterleases" {
        kind = KeyKind::MasterLease;
    }
    let (namespace, name) = match tail {
        [name] => (None, *name),
        [ns, name] => (Some(*ns), *name),
        _ => return None,
    };
    Some(StorageKey {
        kind,
        prefix,
        resource_prefix,
        group,
        resource,
        namespace,
        name,
    })
}

/// A resource as users name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// API group (`""` = core).
    pub group: String,
    /// Plural resource name.
    pub plural: String,
    /// Kind, if the schema knows the type (empty for unknown custom resources).
    pub kind: String,
}

impl Resource {
    /// Whether a storage key holds this resource.
    pub fn matches(&self, k: &StorageKey<'_>) -> bool {
        k.resource == self.plural && k.group.is_none_or(|g| g == self.group)
    }

    #[cfg(test)]
    /// Likely resource prefixes in storage, most likely first.
    pub(crate) fn storage_prefixes(&self) -> Vec<String> {
        let mut v: Vec<String> = OVERRIDES
            .iter()
            .filter(|o| o.2 == self.plural && o.1.is_none_or(|g| g == self.group))
            .filter(|o| !o.0.starts_with("masterleases") && !o.0.starts_with("ranges/"))
            .map(|o| o.0.to_string())
            .collect();
        if self.group.is_empty() {
            v.push(self.plural.clone());
        } else {
            let grouped = format!("{}/{}", self.group, self.plural);
            let builtin = !self.kind.is_empty()
                && self.group != "apiextensions.k8s.io"
                && self.group != "apiregistration.k8s.io";
            if builtin {
                v.push(self.plural.clone());
                v.push(grouped);
            } else {
                v.push(grouped);
            }
        }
        v.dedup();
        v
    }
}

/// kubectl short names (from the upstream and OpenShift REST storage).
const SHORT_NAMES: &[(&str, &str, &str)] = &[
    ("cs", "", "componentstatuses"),
    ("cm", "", "configmaps"),
    ("ep", "", "endpoints"),
    ("ev", "", "events"),
    ("limits", "", "limitranges"),
    ("ns", "", "namespaces"),
    ("no", "", "nodes"),
    ("pvc", "", "persistentvolumeclaims"),
    ("pv", "", "persistentvolumes"),
    ("po", "", "pods"),
    ("rc", "", "replicationcontrollers"),
    ("quota", "", "resourcequotas"),
    ("sa", "", "serviceaccounts"),
    ("svc", "", "services"),
    ("ds", "apps", "daemonsets"),
    ("deploy", "apps", "deployments"),
    ("rs", "apps", "replicasets"),
    ("sts", "apps", "statefulsets"),
    ("hpa", "autoscaling", "horizontalpodautoscalers"),
    ("cj", "batch", "cronjobs"),
    ("csr", "certificates.k8s.io", "certificatesigningrequests"),
    ("ing", "networking.k8s.io", "ingresses"),
    ("netpol", "networking.k8s.io", "networkpolicies"),
    ("pdb", "policy", "poddisruptionbudgets"),
    ("psp", "policy", "podsecuritypolicies"),
    ("pc", "scheduling.k8s.io", "priorityclasses"),
    ("sc", "storage.k8s.io", "storageclasses"),
    ("crd", "apiextensions.k8s.io", "customresourcedefinitions"),
    ("crds", "apiextensions.k8s.io", "customresourcedefinitions"),
    ("dc", "apps.openshift.io", "deploymentconfigs"),
    ("bc", "build.openshift.io", "buildconfigs"),
    ("is", "image.openshift.io", "imagestreams"),
    ("istag", "image.openshift.io", "imagestreamtags"),
    ("isimage", "image.openshift.io", "imagestreamimages"),
    ("scc", "security.openshift.io", "securitycontextconstraints"),
    (
        "clusterquota",
        "quota.openshift.io",
        "clusterresourcequotas",
    ),
];

/// kubectl short names of one resource (e.g. `po` for pods).
pub(crate) fn short_names(group: &str, plural: &str) -> Vec<String> {
    SHORT_NAMES
        .iter()
        .filter(|(s, g, p)| *g == group && *p == plural && *s != "crds")
        .map(|(s, _, _)| s.to_string())
        .collect()
}

/// Go's `meta.UnsafeGuessKindToResource` plural.
pub(crate) fn plural_of(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k.is_empty() || k.ends_with("endpoints") {
        return k;
    }
    if k.ends_with('s') {
        return format!("{k}es");
    }
    if let Some(stem) = k.strip_suffix('y') {
        return format!("{stem}ies");
    }
    format!("{k}s")
}

fn is_storable_kind(kind: &str) -> bool {
    !(kind.ends_with("List")
        || kind.ends_with("Options")
        || matches!(
            kind,
            "WatchEvent" | "Status" | "APIGroup" | "APIVersions" | "APIResourceList"
        ))
}

/// Group priority when several groups serve the same plural (kubectl-like:
/// core, then Kubernetes groups, `extensions` last, then OpenShift).
fn group_rank(g: &str) -> u8 {
    match g {
        "" => 0,
        "extensions" => 3,
        _ if g.ends_with(".openshift.io") => 2,
        _ => 1,
    }
}

struct Table {
    /// lowercase alias → candidate resources, best first.
    by_alias: HashMap<String, Vec<usize>>,
    resources: Vec<Resource>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let s = schema();
        let mut resources: Vec<Resource> = Vec::new();
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        for av in s.api_versions() {
            let group = av.rsplit_once('/').map_or("", |(g, _)| g);
            let Some(kinds) = s.kinds_of(av) else {
                continue;
            };
            for (kind, info) in kinds {
                if !is_storable_kind(kind) || (info.legacy && group.is_empty()) {
                    continue;
                }
                let plural = plural_of(kind);
                index
                    .entry((group.to_string(), plural.clone()))
                    .or_insert_with(|| {
                        resources.push(Resource {
                            group: group.to_string(),
                            plural,
                            kind: kind.to_string(),
                        });
                        resources.len() - 1
                    });
            }
        }
        let mut by_alias: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in resources.iter().enumerate() {
            let singular = r.kind.to_ascii_lowercase();
            let mut names = vec![r.plural.clone(), singular];
            names.extend(
                SHORT_NAMES
                    .iter()
                    .filter(|(_, g, p)| *g == r.group && *p == r.plural)
                    .map(|(s, _, _)| s.to_string()),
            );
            for n in names {
                by_alias.entry(n.clone()).or_default().push(i);
                if !r.group.is_empty() {
                    by_alias
                        .entry(format!("{n}.{}", r.group))
                        .or_default()
                        .push(i);
                }
            }
        }
        for v in by_alias.values_mut() {
            v.sort_by_key(|&i| (group_rank(&resources[i].group), i));
            v.dedup();
        }
        Table {
            by_alias,
            resources,
        }
    })
}

/// Resolves a resource name as kubectl users type it: `pods`, `pod`, `po`,
/// `Pod`, `secret`, `deployments.apps`, `deploy`, `deployments.v1.apps`,
/// `routes.route.openshift.io`. An unknown `plural.group` (a custom
/// resource) resolves to itself with an empty kind.
pub(crate) fn resolve(name: &str) -> Option<Resource> {
    resolve_all(name).into_iter().next()
}

/// Every resource a name can mean, most likely first.
pub fn resolve_all(name: &str) -> Vec<Resource> {
    let t = table();
    let lname = name.trim().to_ascii_lowercase();
    if lname.is_empty() {
        return Vec::new();
    }
    let lookup = |n: &str| -> Vec<Resource> {
        t.by_alias
            .get(n)
            .map(|v| v.iter().map(|&i| t.resources[i].clone()).collect())
            .unwrap_or_default()
    };
    let found = lookup(&lname);
    if !found.is_empty() {
        return found;
    }
    // resource.version.group
    if let Some((res, rest)) = lname.split_once('.') {
        if let Some((ver, group)) = rest.split_once('.') {
            if ver.starts_with('v') && ver[1..].starts_with(|c: char| c.is_ascii_digit()) {
                let found = lookup(&format!("{res}.{group}"));
                if !found.is_empty() {
                    return found;
                }
            }
        }
        // An unknown custom resource: plural.group.
        if rest.contains('.') {
            return vec![Resource {
                group: rest.to_string(),
                plural: res.to_string(),
                kind: String::new(),
            }];
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let k = parse(b"/registry/pods/default/web-1").unwrap();
        assert_eq!(
            (k.prefix, k.resource, k.namespace, k.name),
            ("/registry", "pods", Some("default"), "web-1")
        );
        let k = parse(b"/kubernetes.io/secrets/openshift-config/pull").unwrap();
        assert_eq!((k.prefix, k.resource), ("/kubernetes.io", "secrets"));
        let k = parse(b"/registry/namespaces/kube-system").unwrap();
        assert_eq!((k.namespace, k.name), (None, "kube-system"));
        let k = parse(b"/registry/minions/node-a").unwrap();
        assert_eq!(
            (k.resource_prefix, k.resource, k.group),
            ("minions", "nodes", Some(""))
        );
        let k = parse(b"/registry/services/specs/default/kubernetes").unwrap();
        assert_eq!((k.resource, k.namespace), ("services", Some("default")));
        let k = parse(b"/registry/services/endpoints/default/kubernetes").unwrap();
        assert_eq!(k.resource, "endpoints");
        let k = parse(b"/registry/controllers/ns/rc1").unwrap();
        assert_eq!(k.resource, "replicationcontrollers");
        let k = parse(b"/registry/ingress/ns/i").unwrap();
        assert_eq!((k.resource, k.group), ("ingresses", None));
        let k = parse(b"/openshift.io/oauth/accesstokens/sha256~abc").unwrap();
        assert_eq!(
            (k.resource, k.group, k.namespace, k.name),
            (
                "oauthaccesstokens",
                Some("oauth.openshift.io"),
                None,
                "sha256~abc"
            )
        );
        let k = parse(b"/openshift.io/routes/ns/r").unwrap();
        assert_eq!((k.resource, k.namespace), ("routes", Some("ns")));
        let k = parse(b"/kubernetes.io/config.openshift.io/clusterversions/version").unwrap();
        assert_eq!(
            (k.group, k.resource, k.name),
            (Some("config.openshift.io"), "clusterversions", "version")
        );
        let k = parse(b"/registry/example.com/widgets/ns/w").unwrap();
        assert_eq!(k.resource_prefix, "example.com/widgets");
        let k = parse(b"compact_rev_key").unwrap();
        assert_eq!(k.kind, KeyKind::CompactRevKey);
        let k = parse(b"/registry/masterleases/10.0.0.1").unwrap();
        assert_eq!(
            (k.kind, k.resource, k.name),
            (KeyKind::MasterLease, "endpoints", "10.0.0.1")
        );
        let k = parse(b"/registry/ranges/serviceips").unwrap();
        assert_eq!((k.kind, k.name), (KeyKind::Range, "serviceips"));
        let k = parse(b"/corp/leases/kube-node-lease/n1").unwrap();
        assert_eq!((k.prefix, k.resource), ("/corp", "leases"));
        let k = parse_with_prefix(b"/a/b/pods/ns/p", "/a/b/").unwrap();
        assert_eq!((k.prefix, k.resource, k.name), ("/a/b", "pods", "p"));
        assert!(parse(b"/registry/pods/a/b/c").is_none());
        assert!(parse(b"/registry//x").is_none());
        assert!(parse(b"/registry").is_none());
        assert!(parse(b"\xff\xfe").is_none());
    }

    #[test]
    fn api_servers_and_groups() {
        fn at(k: &[u8]) -> (Option<ApiServer>, Option<(&str, &str)>) {
            let p = resource_path(k).unwrap();
            (p.api_server(), p.group_resource())
        }
        use ApiServer::*;
        assert_eq!(
            at(b"/kubernetes.io/secrets/a/b"),
            (Some(Kube), Some(("secrets", "")))
        );
        assert_eq!(
            at(b"/registry/deployments/a/b"),
            (Some(Kube), Some(("deployments", "apps")))
        );
        assert_eq!(
            at(b"/registry/ingress/a/b"),
            (Some(Kube), Some(("ingresses", "networking.k8s.io")))
        );
        assert_eq!(
            at(b"/registry/roles/a/b"),
            (Some(Kube), Some(("roles", "rbac.authorization.k8s.io")))
        );
        assert_eq!(
            at(b"/openshift.io/oauth/accesstokens/x"),
            (
                Some(Oauth),
                Some(("oauthaccesstokens", "oauth.openshift.io"))
            )
        );
        assert_eq!(
            at(b"/openshift.io/useridentities/x"),
            (Some(Oauth), Some(("identities", "user.openshift.io")))
        );
        assert_eq!(
            at(b"/openshift.io/groups/x"),
            (Some(Oauth), Some(("groups", "user.openshift.io")))
        );
        assert_eq!(
            at(b"/openshift.io/routes/ns/r"),
            (Some(Openshift), Some(("routes", "route.openshift.io")))
        );
        assert_eq!(
            at(b"/openshift.io/rangeallocations/x"),
            (
                Some(Openshift),
                Some(("rangeallocations", "security.openshift.io"))
            )
        );
        assert_eq!(
            at(b"/openshift.io/templateinstances/ns/x"),
            (
                Some(Openshift),
                Some(("templateinstances", "template.openshift.io"))
            )
        );
        // A core resource under /openshift.io: the server is not known from
        // the group, openshift-apiserver is the better guess.
        assert_eq!(at(b"/openshift.io/secrets/ns/x"), (Some(Openshift), None));
        assert_eq!(at(b"/corp/pods/ns/p").0, None);
        assert_eq!(prefix_server(b"/registry//x"), Some(Kube));
        assert_eq!(prefix_server(b"/openshift.io/"), Some(Openshift));
        assert_eq!(prefix_server(b"/registry"), None);
        // Secrets, by bytes, whatever follows.
        assert_eq!(
            secret_place(b"/kubernetes.io/secrets/ns/a/b\xff"),
            Some((&b"ns"[..], &b"a/b\xff"[..]))
        );
        assert_eq!(
            secret_place(b"/openshift.io/secrets//x"),
            Some((&b""[..], &b"x"[..]))
        );
        assert_eq!(secret_place(b"/registry/secrets/ns"), None);
        assert_eq!(secret_place(b"/registry/example.com/secrets/ns/x"), None);
        assert_eq!(secret_place(b"/registry/secretsx/ns/x"), None);
    }

    #[test]
    fn aliases() {
        let r = |n: &str| resolve(n).map(|r| (r.group, r.plural));
        let s = |g: &str, p: &str| Some((g.to_string(), p.to_string()));
        assert_eq!(r("pods"), s("", "pods"));
        assert_eq!(r("po"), s("", "pods"));
        assert_eq!(r("Pod"), s("", "pods"));
        assert_eq!(r("secret"), s("", "secrets"));
        assert_eq!(r("deployments.apps"), s("apps", "deployments"));
        assert_eq!(r("deploy"), s("apps", "deployments"));
        assert_eq!(r("deployments"), s("apps", "deployments"));
        assert_eq!(r("deployments.v1.apps"), s("apps", "deployments"));
        assert_eq!(
            r("routes.route.openshift.io"),
            s("route.openshift.io", "routes")
        );
        assert_eq!(r("route"), s("route.openshift.io", "routes"));
        assert_eq!(r("ing"), s("networking.k8s.io", "ingresses"));
        assert_eq!(r("endpoints"), s("", "endpoints"));
        assert_eq!(
            r("networkpolicies"),
            s("networking.k8s.io", "networkpolicies")
        );
        assert_eq!(r("widgets.example.com"), s("example.com", "widgets"));
        assert_eq!(r("nonsense"), None);
        let svc = resolve("svc").unwrap();
        assert_eq!(svc.storage_prefixes(), ["services/specs", "services"]);
        let k = parse(b"/registry/services/specs/default/kubernetes").unwrap();
        assert!(svc.matches(&k));
        let route = resolve("routes").unwrap();
        assert!(route.matches(&parse(b"/openshift.io/routes/ns/r").unwrap()));
        let crd = resolve("crd").unwrap();
        assert_eq!(
            crd.storage_prefixes(),
            ["apiextensions.k8s.io/customresourcedefinitions"]
        );
    }
}
