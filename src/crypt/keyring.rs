//! One key ring from every key source, and the decryption of one value.
//!
//! A value names its key (`k8s:enc:aescbc:v1:<name>:`), but names are only
//! unique within one API server's configuration: OpenShift numbers the keys
//! of kube-apiserver, openshift-apiserver and oauth-apiserver separately. So
//! a key is looked up by name among the keys of the API server that owns the
//! value's etcd key, and first among those configured for the value's
//! resource (docs/encryption.md).

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::config::{EncryptionConfig, Provider};
use super::error::{show_key, CryptError, Result};
use super::providers::{
    guess_name, is_known_encoding, kms_v2_key_id, split_provider, strip_name, Cipher, Failure,
    KeyBytes, ProviderKind,
};
use crate::kube::key::{self, ApiServer};

/// The API server that wrote a value (and whose configuration holds its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    KubeApiserver,
    OpenshiftApiserver,
    OauthApiserver,
    /// A configuration file given by the user without saying whose it is:
    /// its keys serve any etcd key whose resource it lists.
    Unknown,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::KubeApiserver => "kube-apiserver",
            Component::OpenshiftApiserver => "openshift-apiserver",
            Component::OauthApiserver => "oauth-apiserver",
            Component::Unknown => "any",
        }
    }

    /// From OpenShift's operand namespace names (`openshift-kube-apiserver`…)
    /// or the plain component names.
    pub(crate) fn from_name(s: &str) -> Option<Component> {
        Some(match s {
            "openshift-kube-apiserver" | "kube-apiserver" => Component::KubeApiserver,
            "openshift-apiserver" => Component::OpenshiftApiserver,
            "openshift-oauth-apiserver" | "oauth-apiserver" => Component::OauthApiserver,
            _ => return None,
        })
    }

    /// The resources OpenShift's operators encrypt for each component
    /// (docs/openshift.md).
    pub(crate) fn default_resources(self) -> &'static [&'static str] {
        match self {
            Component::KubeApiserver => &["secrets", "configmaps"],
            Component::OpenshiftApiserver => &["routes.route.openshift.io"],
            Component::OauthApiserver => &[
                "oauthaccesstokens.oauth.openshift.io",
                "oauthauthorizetokens.oauth.openshift.io",
            ],
            Component::Unknown => &[],
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which key of the ring decrypted a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub u32);

/// The result of [`KeyRing::decrypt`].
#[derive(Debug)]
pub struct Decrypted<'v> {
    /// The stored bytes when the value was not encrypted; else the plaintext.
    pub plaintext: Cow<'v, [u8]>,
    /// The key used; `None` for a value stored as it is (identity).
    pub key: Option<KeyId>,
}

/// What [`KeyRing::decrypt_into`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not encrypted: use the value as it is (`out` is untouched).
    Plain,
    /// Decrypted into `out` with this key.
    Decrypted(KeyId),
}

/// A key as the `keys` command shows it: never its bytes.
#[derive(Debug, Clone, Serialize)]
pub struct KeySummary {
    pub component: Component,
    pub provider: ProviderKind,
    pub name: String,
    /// Key length in bytes (0 for KMS).
    pub length: usize,
    /// Resources whose configuration lists this key.
    pub resources: Vec<String>,
    /// Where it was found (file, tar member, etcd key), first one first.
    pub sources: Vec<String>,
    /// Whether some source has it as the write key.
    pub write: bool,
    /// Whether it can decrypt offline (false for KMS).
    pub offline: bool,
}

impl fmt::Display for KeySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<20} {:<9} {:<6} {}{} for {} from {}",
            self.component.as_str(),
            self.provider.as_str(),
            self.name,
            if self.length > 0 {
                format!("{} bytes", self.length)
            } else {
                "external KMS".to_string()
            },
            if self.write { ", write key" } else { "" },
            if self.resources.is_empty() {
                "-".to_string()
            } else {
                self.resources.join(",")
            },
            self.sources.join(", ")
        )
    }
}

struct RingKey {
    component: Component,
    kind: ProviderKind,
    name: String,
    secret: KeyBytes,
    cipher: Option<Cipher>,
    resources: Vec<String>,
    sources: Vec<String>,
    write: bool,
}

impl fmt::Debug for RingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingKey")
            .field("component", &self.component)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("secret", &self.secret)
            .field("resources", &self.resources)
            .field("sources", &self.sources)
            .finish()
    }
}

/// Every key from every source. Build it with `add_*` / `load_*`
/// (see [`super::sources`]), then call [`KeyRing::decrypt`].
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<RingKey>,
    /// Positions in `keys` by (component, provider, name): adding a key is
    /// a lookup, not a scan (a hostile config may hold many keys).
    by_name: std::collections::HashMap<(Component, ProviderKind, String), Vec<usize>>,
    notes: Vec<String>,
    noted: std::collections::HashSet<String>,
}

/// The most keys a ring holds; a config listing more is refused with a
/// clear error (real clusters hold a handful).
pub(crate) const MAX_KEYS: usize = 50_000;

/// Where an etcd key belongs: the API servers that may have written it
/// (preferred first) and its group-resource if known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location<'k> {
    pub components: &'static [Component],
    /// `(resource, group)`; the group is "" for the core group.
    pub resource: Option<(&'k str, &'k str)>,
}

const KUBE: &[Component] = &[Component::KubeApiserver];
const OAS_FIRST: &[Component] = &[Component::OpenshiftApiserver, Component::OauthApiserver];
const OAUTH_FIRST: &[Component] = &[Component::OauthApiserver, Component::OpenshiftApiserver];
const ANY: &[Component] = &[
    Component::KubeApiserver,
    Component::OpenshiftApiserver,
    Component::OauthApiserver,
];

/// Which API server owns an etcd key, and the key's group-resource: both
/// from the storage-key parser (`kube::key`), whose table says which API
/// server serves which group. Keys the parser cannot split fall back to
/// their etcd prefix; keys under no known prefix may be anyone's.
pub(crate) fn locate(etcd_key: &[u8]) -> Location<'_> {
    let path = key::resource_path(etcd_key).filter(|p| p.has_rest);
    let server = match path {
        Some(p) => p.api_server(),
        None => key::prefix_server(etcd_key),
    };
    let components = match server {
        Some(ApiServer::Kube) => KUBE,
        Some(ApiServer::Openshift) => OAS_FIRST,
        Some(ApiServer::Oauth) => OAUTH_FIRST,
        None => ANY,
    };
    let resource = match server {
        Some(_) => path.and_then(|p| p.group_resource()),
        None => None,
    };
    Location {
        components,
        resource,
    }
}

/// [`super::config::resource_matches`] without building `resource.group`.
fn covers(pattern: &str, resource: &str, group: &str) -> bool {
    if pattern == "*.*" {
        return true;
    }
    if let Some(g) = pattern.strip_prefix("*.") {
        return g == group;
    }
    match pattern.strip_prefix(resource) {
        Some("") => group.is_empty(),
        Some(rest) => !group.is_empty() && rest.strip_prefix('.') == Some(group),
        None => false,
    }
}

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// What was skipped or noticed while loading (placeholder keys, identity
    /// and KMS keys, conflicting keys…), for the user.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    pub(crate) fn note(&mut self, n: String) {
        if self.noted.insert(n.clone()) {
            self.notes.push(n);
        }
    }

    /// Appends a key and indexes it.
    fn push_key(&mut self, k: RingKey) {
        self.by_name
            .entry((k.component, k.kind, k.name.clone()))
            .or_default()
            .push(self.keys.len());
        self.keys.push(k);
    }

    /// Positions of the keys of one component, provider and name.
    fn named(&self, component: Component, kind: ProviderKind, name: &str) -> &[usize] {
        self.by_name
            .get(&(component, kind, name.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Adds every key of a configuration. `origin` names the file, tar
    /// member or etcd key it came from.
    pub fn add_config(&mut self, config: &EncryptionConfig, component: Component, origin: &str) {
        for entry in &config.resources {
            for (i, p) in entry.providers.iter().enumerate() {
                match p {
                    Provider::Keys { kind, keys } => {
                        for (j, k) in keys.iter().enumerate() {
                            self.add_key(
                                component,
                                *kind,
                                &k.name,
                                k.secret.clone(),
                                &entry.resources,
                                origin,
                                i == 0 && j == 0,
                            );
                        }
                    }
                    Provider::Identity => {}
                    Provider::Kms { kind, name } => {
                        self.add_kms(component, *kind, name, &entry.resources, origin);
                    }
                }
            }
        }
    }

    fn add_kms(
        &mut self,
        component: Component,
        kind: ProviderKind,
        name: &str,
        resources: &[String],
        origin: &str,
    ) {
        if let Some(&i) = self.named(component, kind, name).first() {
            let k = &mut self.keys[i];
            merge(&mut k.resources, resources);
            merge(&mut k.sources, &[origin.to_string()]);
            return;
        }
        if self.keys.len() >= MAX_KEYS {
            self.note(format!(
                "{origin}: more than {MAX_KEYS} keys in all: {component} key \"{name}\" and later ones ignored"
            ));
            return;
        }
        self.push_key(RingKey {
            component,
            kind,
            name: name.to_string(),
            secret: KeyBytes::new(Vec::new()),
            cipher: None,
            resources: resources.to_vec(),
            sources: vec![origin.to_string()],
            write: false,
        });
    }

    /// Adds one key. Placeholder keys (16 zero bytes) are noted and skipped;
    /// a key already present (same component, provider, name and bytes)
    /// only gains the new resources and source. Returns whether a new key
    /// was added.
    #[allow(clippy::too_many_arguments)]
    pub fn add_key(
        &mut self,
        component: Component,
        kind: ProviderKind,
        name: &str,
        secret: KeyBytes,
        resources: &[String],
        origin: &str,
        write: bool,
    ) -> bool {
        if secret.is_placeholder() {
            self.note(format!(
                "{origin}: {component} {kind} key \"{name}\" is OpenShift's placeholder (16 zero bytes) for an identity key: ignored"
            ));
            return false;
        }
        let cipher = match Cipher::new(kind, &secret) {
            Ok(c) => c,
            Err(e) => {
                self.note(format!(
                    "{origin}: {component} key \"{name}\": {e}: ignored"
                ));
                return false;
            }
        };
        let same_name: Vec<usize> = self.named(component, kind, name).to_vec();
        if let Some(&i) = same_name.iter().find(|&&i| self.keys[i].secret == secret) {
            let k = &mut self.keys[i];
            merge(&mut k.resources, resources);
            merge(&mut k.sources, &[origin.to_string()]);
            k.write |= write;
            return false;
        }
        if self.keys.len() >= MAX_KEYS {
            self.note(format!(
                "{origin}: more than {MAX_KEYS} keys in all: {component} {kind} key \"{name}\" and later ones ignored"
            ));
            return false;
        }
        if !same_name.is_empty() {
            self.note(format!(
                "{origin}: {component} has two different {kind} keys named \"{name}\": both are tried"
            ));
        }
        self.push_key(RingKey {
            component,
            kind,
            name: name.to_string(),
            secret,
            cipher: Some(cipher),
            resources: resources.to_vec(),
            sources: vec![origin.to_string()],
            write,
        });
        true
    }

    /// Where a key came from, for reports.
    pub fn key(&self, id: KeyId) -> Option<KeySummary> {
        self.keys.get(id.0 as usize).map(summary_of)
    }

    /// Every key: component, provider, name, length, resources, sources.
    /// Never the bytes.
    pub fn summary(&self) -> Vec<KeySummary> {
        let mut v: Vec<KeySummary> = self.keys.iter().map(summary_of).collect();
        v.sort_by(|a, b| {
            (a.component, a.provider, &a.name).cmp(&(b.component, b.provider, &b.name))
        });
        v
    }

    /// Decrypts one stored value. `etcd_key` is the full key (GCM's AAD, and
    /// what selects the API server whose keys are tried).
    pub fn decrypt<'v>(&self, etcd_key: &[u8], value: &'v [u8]) -> Result<Decrypted<'v>> {
        let mut out = Vec::new();
        match self.decrypt_into(etcd_key, value, &mut out)? {
            Outcome::Plain => Ok(Decrypted {
                plaintext: Cow::Borrowed(value),
                key: None,
            }),
            Outcome::Decrypted(id) => Ok(Decrypted {
                plaintext: Cow::Owned(out),
                key: Some(id),
            }),
        }
    }

    /// Like [`KeyRing::decrypt`], reusing the caller's buffer: no allocation
    /// on the success path once `out` is large enough.
    pub fn decrypt_into(
        &self,
        etcd_key: &[u8],
        value: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Outcome> {
        let (kind, rest) = match split_provider(value) {
            None => return Ok(Outcome::Plain),
            Some(Err(())) => {
                let end = value.len().min(40);
                return Err(CryptError::UnknownPrefix {
                    etcd_key: show_key(etcd_key),
                    prefix: String::from_utf8_lossy(&value[..end])
                        .escape_debug()
                        .to_string(),
                });
            }
            Some(Ok(x)) => x,
        };
        let loc = locate(etcd_key);
        if !kind.offline() {
            return Err(self.kms_error(etcd_key, kind, rest, &loc));
        }
        // Tier 0: the owning component's keys configured for this resource
        // (or any component's, for keys of unknown origin); tier 1: the
        // component's other keys. Preferred component first in each tier.
        let mut failures: Vec<CryptError> = Vec::new();
        for tier in 0..2 {
            for &comp in loc.components {
                for (i, k) in self.keys.iter().enumerate() {
                    if k.kind != kind || !(k.component == comp || k.component == Component::Unknown)
                    {
                        continue;
                    }
                    // Keys of unknown origin are tried once, with the first
                    // component.
                    if k.component == Component::Unknown && comp != loc.components[0] {
                        continue;
                    }
                    let listed = match loc.resource {
                        Some((r, g)) => k.resources.iter().any(|p| covers(p, r, g)),
                        None => k.resources.iter().any(|p| p == "*.*"),
                    };
                    if (tier == 0) != listed {
                        continue;
                    }
                    let Some(payload) = strip_name(rest, k.name.as_bytes()) else {
                        continue;
                    };
                    let Some(cipher) = &k.cipher else { continue };
                    match cipher.decrypt_into(payload, etcd_key, out) {
                        Ok(()) if is_known_encoding(out) => {
                            return Ok(Outcome::Decrypted(KeyId(i as u32)))
                        }
                        Ok(()) => {
                            out.clear();
                            failures.push(CryptError::NotPlaintext {
                                etcd_key: show_key(etcd_key),
                                provider: kind,
                                name: k.name.clone(),
                                origin: origin_of(k),
                            });
                        }
                        Err(f) => failures.push(failure(etcd_key, kind, k, payload.len(), f)),
                    }
                }
            }
        }
        match failures.len() {
            0 => {
                // A key of that name elsewhere gives the name (which may
                // hold ':') and a hint.
                let other = self
                    .keys
                    .iter()
                    .find(|k| k.kind == kind && strip_name(rest, k.name.as_bytes()).is_some());
                Err(CryptError::MissingKey {
                    etcd_key: show_key(etcd_key),
                    provider: kind,
                    name: other.map(|k| k.name.clone()).unwrap_or_else(|| guess_name(rest)),
                    scope: scope(&loc),
                    hint: other
                        .map(|k| {
                            format!(
                                "; {} has {kind} key \"{}\", not used: key names are per API server",
                                k.component, k.name
                            )
                        })
                        .unwrap_or_default(),
                })
            }
            1 => Err(failures.remove(0)),
            _ => Err(CryptError::AllFailed {
                etcd_key: show_key(etcd_key),
                tried: failures,
            }),
        }
    }

    fn kms_error(
        &self,
        etcd_key: &[u8],
        kind: ProviderKind,
        rest: &[u8],
        loc: &Location,
    ) -> CryptError {
        // KMS v1 names may contain ':': prefer a configured name.
        let configured = self
            .keys
            .iter()
            .filter(|k| k.kind == kind && loc.components.contains(&k.component))
            .find_map(|k| strip_name(rest, k.name.as_bytes()).map(|p| (k.name.clone(), p)));
        let (name, payload) = match configured {
            Some(x) => x,
            None => {
                let n = guess_name(rest);
                let p = rest.get(n.len() + 1..).unwrap_or(&[]);
                (n, p)
            }
        };
        let key_id = if kind == ProviderKind::KmsV2 {
            kms_v2_key_id(payload)
                .map(|id| format!(", key id \"{}\"", id.escape_debug()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        CryptError::Kms {
            etcd_key: show_key(etcd_key),
            provider: kind,
            name,
            key_id,
        }
    }
}

fn merge(into: &mut Vec<String>, more: &[String]) {
    for m in more {
        if !into.contains(m) {
            into.push(m.clone());
        }
    }
}

fn origin_of(k: &RingKey) -> String {
    format!(
        "{} key from {}",
        k.component,
        k.sources.first().map(String::as_str).unwrap_or("?")
    )
}

fn scope(loc: &Location) -> String {
    let comps: Vec<&str> = loc.components.iter().map(|c| c.as_str()).collect();
    let res = match loc.resource {
        Some((r, "")) => r.to_string(),
        Some((r, g)) => format!("{r}.{g}"),
        None => "this resource".to_string(),
    };
    format!("{} ({res})", comps.join(" or "))
}

fn failure(etcd_key: &[u8], kind: ProviderKind, k: &RingKey, len: usize, f: Failure) -> CryptError {
    let etcd_key = show_key(etcd_key);
    let name = k.name.clone();
    let origin = origin_of(k);
    match f {
        Failure::Truncated { need, .. } => CryptError::Truncated {
            etcd_key,
            provider: kind,
            name,
            origin,
            len,
            need: need.to_string(),
        },
        Failure::BadPadding => CryptError::BadPadding {
            etcd_key,
            name,
            origin,
        },
        Failure::TagMismatch => CryptError::TagMismatch {
            etcd_key,
            provider: kind,
            name,
            origin,
        },
    }
}

fn summary_of(k: &RingKey) -> KeySummary {
    KeySummary {
        component: k.component,
        provider: k.kind,
        name: k.name.clone(),
        length: k.secret.len(),
        resources: k.resources.clone(),
        sources: k.sources.clone(),
        write: k.write,
        offline: k.kind.offline(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use cbc::cipher::block_padding::{NoPadding, Pkcs7};
    use cbc::cipher::{BlockEncryptMut, KeyIvInit};

    const PLAIN: &[u8] = b"k8s\0\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x00";

    /// An EncryptionConfiguration (JSON) of `n` aescbc keys k0..k(n-1).
    fn many_keys_config(n: usize) -> Vec<u8> {
        use base64::Engine as _;
        let keys: Vec<String> = (0..n)
            .map(|i| {
                let mut k = [0u8; 32];
                k[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                format!(
                    r#"{{"name":"k{i}","secret":"{}"}}"#,
                    base64::engine::general_purpose::STANDARD.encode(k)
                )
            })
            .collect();
        format!(
            r#"{{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{{"resources":["secrets"],"providers":[{{"aescbc":{{"keys":[{}]}}}}]}}]}}"#,
            keys.join(",")
        )
        .into_bytes()
    }

    /// 20,000 keys load (indexed: a quadratic search took minutes), each
    /// once, and loading them again only adds sources; more than MAX_KEYS
    /// are refused with a clear error.
    #[test]
    fn many_keys_load_and_a_cap_refuses_more() {
        let cfg = EncryptionConfig::parse(&many_keys_config(20_000), "many.json").unwrap();
        let mut ring = KeyRing::new();
        ring.add_config(&cfg, Component::Unknown, "many.json");
        assert_eq!(ring.len(), 20_000);
        ring.add_config(&cfg, Component::Unknown, "again.json");
        assert_eq!(ring.len(), 20_000);
        assert_eq!(
            ring.named(Component::Unknown, ProviderKind::AesCbc, "k19999")
                .len(),
            1
        );
        let e = EncryptionConfig::parse(&many_keys_config(MAX_KEYS + 1), "huge.json").unwrap_err();
        assert!(e.to_string().contains("more than the 50000"), "{e}");
    }

    fn cbc(name: &str, key: &[u8; 32], plain: &[u8], nopad: bool) -> Vec<u8> {
        let iv = [7u8; 16];
        let enc = cbc::Encryptor::<aes::Aes256>::new(key.into(), &iv.into());
        let mut buf = vec![0u8; plain.len() + 16];
        buf[..plain.len()].copy_from_slice(plain);
        let ct = if nopad {
            enc.encrypt_padded_mut::<NoPadding>(&mut buf, plain.len())
                .unwrap()
                .to_vec()
        } else {
            enc.encrypt_padded_mut::<Pkcs7>(&mut buf, plain.len())
                .unwrap()
                .to_vec()
        };
        [format!("k8s:enc:aescbc:v1:{name}:").as_bytes(), &iv, &ct].concat()
    }

    fn gcm(name: &str, key: &[u8; 32], plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = [3u8; 12];
        let mut buf = plain.to_vec();
        let tag = aes_gcm::Aes256Gcm::new(key.into())
            .encrypt_in_place_detached(&nonce.into(), aad, &mut buf)
            .unwrap();
        [
            format!("k8s:enc:aesgcm:v1:{name}:").as_bytes(),
            &nonce,
            &buf,
            &tag,
        ]
        .concat()
    }

    fn sbox(name: &str, key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
        let nonce = [5u8; 24];
        let mut buf = plain.to_vec();
        let tag = crypto_secretbox::XSalsa20Poly1305::new(key.into())
            .encrypt_in_place_detached(&nonce.into(), b"", &mut buf)
            .unwrap();
        [
            format!("k8s:enc:secretbox:v1:{name}:").as_bytes(),
            &nonce,
            &tag,
            &buf,
        ]
        .concat()
    }

    type TestKey<'a> = (Component, ProviderKind, &'a str, [u8; 32], &'a [&'a str]);

    fn ring(keys: &[TestKey]) -> KeyRing {
        let mut r = KeyRing::new();
        for (c, kind, name, bytes, res) in keys {
            let res: Vec<String> = res.iter().map(|s| s.to_string()).collect();
            r.add_key(
                *c,
                *kind,
                name,
                KeyBytes::new(bytes.to_vec()),
                &res,
                "test",
                false,
            );
        }
        r
    }

    const A: [u8; 32] = [0x41; 32];
    const B: [u8; 32] = [0x42; 32];
    const SECRET_KEY: &[u8] = b"/kubernetes.io/secrets/ns/s";
    const ROUTE_KEY: &[u8] = b"/openshift.io/routes/ns/r";
    use Component::*;
    use ProviderKind::*;

    #[test]
    fn round_trips_and_plain() {
        let r = ring(&[
            (KubeApiserver, AesCbc, "1", A, &["secrets"]),
            (KubeApiserver, AesGcm, "2", B, &["secrets"]),
            (KubeApiserver, Secretbox, "3", A, &["secrets"]),
        ]);
        for v in [
            cbc("1", &A, PLAIN, false),
            gcm("2", &B, PLAIN, SECRET_KEY),
            sbox("3", &A, PLAIN),
        ] {
            let d = r.decrypt(SECRET_KEY, &v).unwrap();
            assert_eq!(&*d.plaintext, PLAIN);
            assert!(d.key.is_some());
        }
        let d = r.decrypt(SECRET_KEY, PLAIN).unwrap();
        assert!(matches!(d.plaintext, Cow::Borrowed(_)) && d.key.is_none());
    }

    #[test]
    fn component_scoping() {
        // kube-apiserver's "2" is not openshift-apiserver's "2".
        let route = cbc("2", &B, PLAIN, false);
        let kube_only = ring(&[(KubeApiserver, AesCbc, "2", A, &["secrets", "configmaps"])]);
        let e = kube_only.decrypt(ROUTE_KEY, &route).unwrap_err();
        assert!(matches!(e, CryptError::MissingKey { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("\"2\"")
                && msg.contains("openshift-apiserver")
                && msg.contains("routes.route.openshift.io"),
            "{msg}"
        );
        assert!(
            msg.contains("; kube-apiserver has aescbc key \"2\", not used"),
            "{msg}"
        );
        let both = ring(&[
            (KubeApiserver, AesCbc, "2", A, &["secrets"]),
            (
                OpenshiftApiserver,
                AesCbc,
                "2",
                B,
                &["routes.route.openshift.io"],
            ),
        ]);
        let d = both.decrypt(ROUTE_KEY, &route).unwrap();
        assert_eq!(
            both.key(d.key.unwrap()).unwrap().component,
            OpenshiftApiserver
        );
        let v = cbc("2", &A, PLAIN, false);
        let d = both.decrypt(SECRET_KEY, &v).unwrap();
        assert_eq!(both.key(d.key.unwrap()).unwrap().component, KubeApiserver);
        // An oauth token prefers oauth-apiserver but accepts
        // openshift-apiserver's key (OCP 4.5-4.7 hand-over).
        let tok = b"/openshift.io/oauth/accesstokens/sha256~x";
        let r = ring(&[(
            OpenshiftApiserver,
            AesCbc,
            "5",
            A,
            &["oauthaccesstokens.oauth.openshift.io"],
        )]);
        assert!(r.decrypt(tok, &cbc("5", &A, PLAIN, false)).is_ok());
    }

    #[test]
    fn names_with_colons() {
        let r = ring(&[
            (Unknown, AesGcm, "a", A, &["secrets"]),
            (Unknown, AesGcm, "a:b", B, &["secrets"]),
        ]);
        let v = gcm("a:b", &B, PLAIN, SECRET_KEY);
        let d = r.decrypt(SECRET_KEY, &v).unwrap();
        assert_eq!(r.key(d.key.unwrap()).unwrap().name, "a:b");
    }

    #[test]
    fn wrong_key() {
        let r = ring(&[(KubeApiserver, AesCbc, "1", B, &["secrets"])]);
        let e = r
            .decrypt(SECRET_KEY, &cbc("1", &A, PLAIN, false))
            .unwrap_err();
        assert!(
            matches!(
                e,
                CryptError::BadPadding { .. } | CryptError::NotPlaintext { .. }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("wrong key"), "{e}");
        let r = ring(&[(KubeApiserver, AesGcm, "1", B, &["secrets"])]);
        let e = r
            .decrypt(SECRET_KEY, &gcm("1", &A, PLAIN, SECRET_KEY))
            .unwrap_err();
        assert!(matches!(e, CryptError::TagMismatch { .. }), "{e}");
        // Decrypts (right key) but is not a known encoding.
        let r = ring(&[(KubeApiserver, AesCbc, "1", A, &["secrets"])]);
        let e = r
            .decrypt(SECRET_KEY, &cbc("1", &A, b"hello, world", false))
            .unwrap_err();
        assert!(matches!(e, CryptError::NotPlaintext { .. }), "{e}");
    }

    #[test]
    fn missing_key_names_it() {
        let r = ring(&[(KubeApiserver, AesCbc, "1", A, &["secrets"])]);
        let e = r
            .decrypt(SECRET_KEY, &cbc("7", &A, PLAIN, false))
            .unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, CryptError::MissingKey { .. }));
        assert!(
            m.contains("aescbc key \"7\"")
                && m.contains("kube-apiserver (secrets)")
                && m.starts_with("/kubernetes.io/secrets/ns/s: "),
            "{m}"
        );
        let e = KeyRing::new()
            .decrypt(SECRET_KEY, &sbox("x", &A, PLAIN))
            .unwrap_err();
        assert!(matches!(e, CryptError::MissingKey { .. }));
    }

    #[test]
    fn truncated_padding_tag() {
        let r = ring(&[
            (KubeApiserver, AesCbc, "1", A, &["secrets"]),
            (KubeApiserver, AesGcm, "2", A, &["secrets"]),
            (KubeApiserver, Secretbox, "3", A, &["secrets"]),
        ]);
        let v = cbc("1", &A, PLAIN, false);
        // A whole block cut off still decrypts, to bad padding.
        let e = r.decrypt(SECRET_KEY, &v[..v.len() - 16]).unwrap_err();
        assert!(matches!(e, CryptError::BadPadding { .. }), "{e}");
        for cut in [v.len() - 1, v.len() - 17, "k8s:enc:aescbc:v1:1:".len() + 10] {
            let e = r.decrypt(SECRET_KEY, &v[..cut]).unwrap_err();
            assert!(matches!(e, CryptError::Truncated { .. }), "{e}");
            assert!(e.to_string().contains("truncated"));
        }
        // A last byte of 0 is never valid PKCS#7.
        let e = r
            .decrypt(SECRET_KEY, &cbc("1", &A, &[0u8; 32], true))
            .unwrap_err();
        assert!(matches!(e, CryptError::BadPadding { .. }), "{e}");
        // Padding byte larger than the plaintext.
        let mut block = [0u8; 16];
        block[15] = 17;
        let e = r
            .decrypt(SECRET_KEY, &cbc("1", &A, &block, true))
            .unwrap_err();
        assert!(matches!(e, CryptError::BadPadding { .. }), "{e}");
        for mut v in [gcm("2", &A, PLAIN, SECRET_KEY), sbox("3", &A, PLAIN)] {
            let n = v.len();
            v[n - 3] ^= 1;
            let e = r.decrypt(SECRET_KEY, &v).unwrap_err();
            assert!(matches!(e, CryptError::TagMismatch { .. }), "{e}");
            let e = r.decrypt(SECRET_KEY, &v[..25]).unwrap_err();
            assert!(matches!(e, CryptError::Truncated { .. }), "{e}");
        }
        // GCM binds the etcd key.
        let e = r
            .decrypt(
                b"/kubernetes.io/secrets/ns/other",
                &gcm("2", &A, PLAIN, SECRET_KEY),
            )
            .unwrap_err();
        assert!(matches!(e, CryptError::TagMismatch { .. }), "{e}");
    }

    #[test]
    fn several_candidates_all_fail() {
        let r = ring(&[
            (KubeApiserver, AesGcm, "1", A, &["secrets"]),
            (KubeApiserver, AesGcm, "1", B, &["configmaps"]),
        ]);
        let mut v = gcm("1", &A, PLAIN, SECRET_KEY);
        let n = v.len();
        v[n - 1] ^= 1;
        let e = r.decrypt(SECRET_KEY, &v).unwrap_err();
        assert!(
            matches!(&e, CryptError::AllFailed { tried, .. } if tried.len() == 2),
            "{e}"
        );
        // Resource-listed key first, the other as a fallback: the right one
        // is found whichever it is.
        let v = gcm("1", &B, PLAIN, SECRET_KEY);
        let d = r.decrypt(SECRET_KEY, &v).unwrap();
        assert_eq!(r.key(d.key.unwrap()).unwrap().resources, ["configmaps"]);
    }

    #[test]
    fn kms_and_unknown_prefix() {
        let r = KeyRing::new();
        let mut eo = Vec::new();
        crate::wire::put_bytes_field(&mut eo, 1, b"data");
        crate::wire::put_bytes_field(&mut eo, 2, b"key-42");
        let v = [b"k8s:enc:kms:v2:1_secrets:".as_slice(), &eo].concat();
        let e = r.decrypt(SECRET_KEY, &v).unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, CryptError::Kms { .. }));
        assert!(
            m.contains("\"1_secrets\"") && m.contains("key id \"key-42\"") && m.contains("offline"),
            "{m}"
        );
        let e = r
            .decrypt(SECRET_KEY, b"k8s:enc:kms:v1:vault:x:\x00\x02ab")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("encrypted by kms v1 provider \"vault\""),
            "{e}"
        );
        let e = r
            .decrypt(SECRET_KEY, b"k8s:enc:rot13:v1:k:zzz")
            .unwrap_err();
        assert!(matches!(e, CryptError::UnknownPrefix { .. }), "{e}");
    }

    #[test]
    fn placeholders_ignored_and_nothing_leaks() {
        let mut r = ring(&[(KubeApiserver, AesCbc, "1", A, &["secrets"])]);
        assert!(!r.add_key(
            KubeApiserver,
            AesGcm,
            "0",
            KeyBytes::new(vec![0; 16]),
            &[],
            "cfg",
            false
        ));
        assert_eq!(r.len(), 1);
        assert!(r.notes()[0].contains("placeholder"));
        let shown = format!(
            "{r:?} {} {}",
            serde_json::to_string(&r.summary()).unwrap(),
            r.summary()
                .iter()
                .map(|s| s.to_string())
                .collect::<String>()
        );
        for leak in ["65, 65", "AAAA", "QUFB", "4141"] {
            assert!(!shown.contains(leak), "{leak} in {shown}");
        }
        assert!(shown.contains("\"1\"") && shown.contains("32 bytes"));
    }

    #[test]
    fn ring_is_shareable_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<KeyRing>();
    }

    #[test]
    fn locations() {
        let l = locate(b"/kubernetes.io/secrets/a/b");
        assert_eq!(l.components, KUBE);
        assert_eq!(l.resource, Some(("secrets", "")));
        assert_eq!(
            locate(b"/registry/deployments/a/b").resource,
            Some(("deployments", "apps"))
        );
        assert_eq!(locate(b"/kubernetes.io/secretsx/a").resource, None);
        assert_eq!(
            locate(b"/kubernetes.io/route.openshift.io/routes/ns/r").resource,
            Some(("routes", "route.openshift.io"))
        );
        assert_eq!(locate(b"/kubernetes.io/example.com/widgets").resource, None);
        assert_eq!(
            locate(b"/openshift.io/oauth/authorizetokens/x").components[0],
            OauthApiserver
        );
        assert_eq!(
            locate(b"/openshift.io/routes/a/b").components[0],
            OpenshiftApiserver
        );
        assert_eq!(locate(b"/other/x").components, ANY);
        assert!(covers(
            "routes.route.openshift.io",
            "routes",
            "route.openshift.io"
        ));
        assert!(!covers("routes", "routes", "route.openshift.io"));
        assert!(!covers("routes.route", "routes", "route.openshift.io"));
        assert!(covers("*.", "secrets", ""));
        assert!(covers("*.apps", "deployments", "apps"));
        assert!(!covers("secrets.", "secrets", ""));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn ring() -> KeyRing {
        let mut r = KeyRing::new();
        let res = ["secrets".to_string(), "*.*".to_string()];
        for (i, kind) in [
            ProviderKind::AesCbc,
            ProviderKind::AesGcm,
            ProviderKind::Secretbox,
        ]
        .into_iter()
        .enumerate()
        {
            for (c, len) in [(Component::KubeApiserver, 32), (Component::Unknown, 16)] {
                let len = if kind == ProviderKind::Secretbox {
                    32
                } else {
                    len
                };
                r.add_key(
                    c,
                    kind,
                    "1",
                    KeyBytes::new(vec![i as u8 + 1; len]),
                    &res,
                    "t",
                    false,
                );
            }
        }
        r
    }

    proptest! {
        #[test]
        fn hostile_values_never_panic(
            prefix in prop::sample::select(vec![
                "k8s:enc:aescbc:v1:1:", "k8s:enc:aesgcm:v1:1:", "k8s:enc:secretbox:v1:1:",
                "k8s:enc:kms:v1:1:", "k8s:enc:kms:v2:1:", "k8s:enc:aescbc:v1:", "k8s:enc:", "",
            ]),
            body in prop::collection::vec(any::<u8>(), 0..300),
            key in prop::sample::select(vec![
                "/kubernetes.io/secrets/a/b", "/openshift.io/routes/a/b", "/x", "",
                "/kubernetes.io/a.b/c/d", "/kubernetes.io/a.b/",
            ]),
        ) {
            let r = ring();
            let v = [prefix.as_bytes(), &body].concat();
            match r.decrypt(key.as_bytes(), &v) {
                Ok(d) => prop_assert!(d.key.is_none() || is_known_encoding(&d.plaintext)),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}
