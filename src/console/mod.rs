//! The web console's values: what its pages show, computed by the library
//! and returned as serialisable values; `serve::ui` only routes requests
//! here and writes the JSON.
//!
//! * [`overview`] — the snapshot's verdict, revisions, encryption and what
//!   fills it (computed once: it reads every value).
//! * [`browse`] — list rows with `kubectl get`'s printer columns, one
//!   object with its storage facts, and its history with field diffs.
//! * [`compare`] — two states (two revisions, or two snapshots) grouped by
//!   resource and namespace, each change with its field paths.
//!
//! Secrets: every view takes a [`crate::redact::Redaction`]; the console
//! hides Secret data unless the request asks to reveal it and the server
//! was not started with `--redact` (then the plaintext is never sent).

pub(crate) mod browse;
pub(crate) mod compare;
pub(crate) mod overview;

use serde::Serialize;

use crate::kube::key::{self, KeyKind};

/// Where a key belongs, for grouping and display.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Place {
    /// `group/plural`, or the plural alone for the core group; a
    /// parenthesised label for keys of no Kubernetes layout.
    pub resource: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

/// The resource, namespace and name an etcd key names.
pub(crate) fn place(k: &[u8]) -> Place {
    match key::parse(k) {
        Some(sk) if sk.kind == KeyKind::CompactRevKey => Place {
            resource: "(compact_rev_key)".into(),
            namespace: String::new(),
            name: String::from_utf8_lossy(k).into_owned(),
        },
        Some(sk) if !sk.resource.is_empty() => {
            let group = match sk.group {
                Some(g) => g.to_string(),
                None => key::resolve(sk.resource)
                    .map(|r| r.group)
                    .unwrap_or_default(),
            };
            Place {
                resource: if group.is_empty() {
                    sk.resource.to_string()
                } else {
                    format!("{group}/{}", sk.resource)
                },
                namespace: sk.namespace.unwrap_or("").to_string(),
                name: sk.name.to_string(),
            }
        }
        _ => Place {
            resource: "(other keys)".into(),
            namespace: String::new(),
            name: String::from_utf8_lossy(k).into_owned(),
        },
    }
}

/// The encryption provider a stored value names ("identity" when plain).
pub(crate) fn provider_of(v: &[u8]) -> String {
    match crate::crypt::providers::split_provider(v) {
        None => "identity".into(),
        Some(Ok((kind, _))) => kind.as_str().to_string(),
        Some(Err(())) => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_of_keys() {
        let p = place(b"/registry/deployments/shop/web");
        assert_eq!(
            (p.resource.as_str(), p.namespace.as_str(), p.name.as_str()),
            ("apps/deployments", "shop", "web")
        );
        let p = place(b"/kubernetes.io/secrets/default/db");
        assert_eq!((p.resource.as_str(), p.name.as_str()), ("secrets", "db"));
        assert_eq!(place(b"/registry/namespaces/x").namespace, "");
        assert_eq!(provider_of(b"k8s:enc:aescbc:v1:k:xx"), "aescbc");
        assert_eq!(provider_of(b"k8s\0xx"), "identity");
    }

    fn fixture() -> crate::session::Session<'static> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/encrypted");
        crate::session::Session::open_path(&dir, &[]).unwrap()
    }

    const PLAIN: &str = "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";
    const KEY: &[u8] = b"/kubernetes.io/secrets/default/db-password";

    #[test]
    fn history_diffs_and_hides_secret_data() {
        let s = fixture();
        let hide = crate::redact::Redaction::new(true, false);
        let h = browse::history(&s.store, s.keys.as_ref(), KEY, hide);
        assert_eq!(
            h.iter().map(|x| x.entry.revision).collect::<Vec<_>>(),
            [4, 11, 18]
        );
        assert!(
            h[0].created && !h[1].created && h[1].changes.iter().any(|c| c.path == "data.password")
        );
        let text = serde_json::to_string(&h).unwrap();
        assert!(!text.contains(PLAIN), "{text}");
        let o = browse::object(&s.store, s.keys.as_ref(), KEY, 38, hide).unwrap();
        assert!(o.secret && o.hidden && !o.yaml.as_deref().unwrap().contains(PLAIN));
        let show = crate::redact::Redaction::new(false, false);
        let o = browse::object(&s.store, s.keys.as_ref(), KEY, 38, show).unwrap();
        assert!(!o.hidden && o.yaml.as_deref().unwrap().contains(PLAIN));
        assert_eq!(o.encryption.unwrap().provider, "aescbc");
        // Before its first revision it is not held.
        assert!(browse::object(&s.store, s.keys.as_ref(), KEY, 3, show).is_none());
    }

    #[test]
    fn compare_groups_by_resource_and_namespace() {
        let s = fixture();
        let side = |rev| compare::Side {
            store: &s.store,
            keys: s.keys.as_ref(),
            rev: Some(rev),
        };
        let red = crate::redact::Redaction::new(true, false);
        let d = compare::diff(&side(10), &side(18), red, 100).unwrap();
        assert_eq!((d.added, d.removed, d.changed), (6, 0, 1));
        let g = d
            .groups
            .iter()
            .find(|g| g.resource == "secrets" && g.namespace == "default")
            .unwrap();
        assert_eq!(g.changed[0].name, "db-password");
        assert!(g.changed[0]
            .changes
            .iter()
            .any(|c| c.path == "data.password"));
        assert!(!serde_json::to_string(&d).unwrap().contains(PLAIN));
        // Only the count is kept past the limit.
        let d = compare::diff(&side(10), &side(18), red, 0).unwrap();
        assert_eq!((d.changed, d.truncated), (1, 1));
    }
}
