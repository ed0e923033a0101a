//! Apply-ready objects: what must go from an object read out of etcd before
//! `kubectl apply`/`create` accepts it in a cluster, and the order a stream
//! of objects must be applied in.
//!
//! The apiserver owns `uid`, `resourceVersion`, `creationTimestamp`,
//! `generation`, `managedFields`, `selfLink` and `status`; a create that
//! carries a `resourceVersion` is rejected. `ownerReferences` name owners by
//! uid, which a new cluster does not have, so they go too unless asked for;
//! an object a controller owns is left out by default (its owner makes it
//! again). A Service's allocated `clusterIP(s)` go (the new cluster
//! allocates its own; a headless Service's `None` stays).

use serde_json::Value as J;

/// What [`strip`] keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    pub keep_status: bool,
    pub keep_owner_references: bool,
}

/// Metadata fields the apiserver sets; never part of an applied object.
pub(crate) const SERVER_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Makes `obj` apply-ready in place.
pub fn strip(obj: &mut J, opts: ApplyOptions) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    if !opts.keep_status {
        o.remove("status");
    }
    let is_service = o.get("kind").and_then(J::as_str) == Some("Service")
        && o.get("apiVersion").and_then(J::as_str) == Some("v1");
    if let Some(meta) = o.get_mut("metadata").and_then(J::as_object_mut) {
        for f in SERVER_METADATA {
            meta.remove(f);
        }
        if !opts.keep_owner_references {
            meta.remove("ownerReferences");
        }
    }
    if is_service {
        if let Some(spec) = o.get_mut("spec").and_then(J::as_object_mut) {
            let headless = spec.get("clusterIP").and_then(J::as_str) == Some("None");
            if !headless {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
        }
    }
}

/// Whether a controller owns the object (an ownerReference with
/// `controller: true`): its owner recreates it.
pub fn controller_owned(obj: &J) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(J::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("controller").and_then(J::as_bool) == Some(true))
        })
}

/// The group of an `apiVersion` ("" for the core group).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Where an object goes in an apply stream: what others depend on first.
/// 0 CRDs, 1 Namespaces, 2 ServiceAccounts, 3 RBAC roles, 4 RBAC bindings,
/// 5 ConfigMaps and Secrets, 6 storage and other prerequisites, 7 Services,
/// 8 workloads, 9 the rest (custom resources, routes, …).
pub fn rank(obj: &J) -> u8 {
    let kind = obj.get("kind").and_then(J::as_str).unwrap_or("");
    let g = group(obj.get("apiVersion").and_then(J::as_str).unwrap_or(""));
    match (g, kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 0,
        ("", "Namespace") => 1,
        ("", "ServiceAccount") => 2,
        ("rbac.authorization.k8s.io", "ClusterRole" | "Role") => 3,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding" | "RoleBinding") => 4,
        ("", "ConfigMap" | "Secret") => 5,
        ("", "PersistentVolume" | "PersistentVolumeClaim" | "LimitRange" | "ResourceQuota")
        | ("storage.k8s.io", "StorageClass")
        | ("scheduling.k8s.io", "PriorityClass")
        | ("policy", "PodDisruptionBudget") => 6,
        ("", "Service") => 7,
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job" | "CronJob")
        | ("", "Pod" | "ReplicationController")
        | ("apps.openshift.io", "DeploymentConfig") => 8,
        _ => 9,
    }
}

/// Sorts objects into apply order: by [`rank`], then namespace, kind and
/// name, so the stream is the same on every run.
pub fn sort_for_apply(objs: &mut [J]) {
    let key = |o: &J| {
        let s = |p: &str| o.pointer(p).and_then(J::as_str).unwrap_or("").to_string();
        (
            rank(o),
            s("/metadata/namespace"),
            s("/kind"),
            s("/metadata/name"),
        )
    };
    objs.sort_by_cached_key(key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_server_fields_and_keeps_spec() {
        let mut o = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a", "uid": "u", "resourceVersion": "5",
                "creationTimestamp": "2026-01-01T00:00:00Z", "generation": 3,
                "managedFields": [], "selfLink": "/x", "labels": {"app": "web"},
                "ownerReferences": [{"uid": "o", "controller": true}]},
            "spec": {"replicas": 2}, "status": {"replicas": 2}
        });
        strip(&mut o, ApplyOptions::default());
        assert_eq!(
            o,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "a", "labels": {"app": "web"}},
                "spec": {"replicas": 2}})
        );
    }

    #[test]
    fn keeps_what_is_asked() {
        let mut o = json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "ownerReferences": [{"uid": "o"}]}, "status": {"phase": "Running"}});
        strip(
            &mut o,
            ApplyOptions {
                keep_status: true,
                keep_owner_references: true,
            },
        );
        assert!(o.pointer("/status/phase").is_some());
        assert!(o.pointer("/metadata/ownerReferences").is_some());
    }

    #[test]
    fn services_lose_allocated_ips_but_not_headless() {
        let mut s = json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "s"},
            "spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"], "ports": []}});
        strip(&mut s, ApplyOptions::default());
        assert_eq!(s["spec"], json!({"ports": []}));
        let mut h = json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "h"},
            "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        strip(&mut h, ApplyOptions::default());
        assert_eq!(h["spec"]["clusterIP"], "None");
    }

    #[test]
    fn dependency_order() {
        let mk = |api: &str, kind: &str, name: &str| json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}});
        let mut v = vec![
            mk("route.openshift.io/v1", "Route", "r"),
            mk("apps/v1", "Deployment", "d"),
            mk("v1", "Secret", "s"),
            mk("rbac.authorization.k8s.io/v1", "RoleBinding", "rb"),
            mk("rbac.authorization.k8s.io/v1", "Role", "ro"),
            mk("v1", "ServiceAccount", "sa"),
            mk("v1", "Namespace", "n"),
            mk("apiextensions.k8s.io/v1", "CustomResourceDefinition", "c"),
            mk("v1", "ConfigMap", "cm"),
            mk("v1", "Service", "svc"),
        ];
        sort_for_apply(&mut v);
        let kinds: Vec<&str> = v.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition",
                "Namespace",
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "ConfigMap",
                "Secret",
                "Service",
                "Deployment",
                "Route"
            ]
        );
    }

    #[test]
    fn controller_ownership() {
        assert!(controller_owned(
            &json!({"metadata": {"ownerReferences": [{"controller": true}]}})
        ));
        assert!(!controller_owned(
            &json!({"metadata": {"ownerReferences": [{"controller": false}]}})
        ));
        assert!(!controller_owned(&json!({"metadata": {}})));
    }
}
