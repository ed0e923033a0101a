//! The API server's EncryptionConfiguration file (docs/encryption.md), in
//! YAML or JSON: `apiserver.config.k8s.io/v1` `EncryptionConfiguration`, or
//! the legacy `v1` `EncryptionConfig`.

use base64::Engine as _;
use serde::Deserialize;

use super::error::{CryptError, Result};
use super::providers::{Cipher, KeyBytes, KeyError, ProviderKind};

/// A parsed configuration. Key bytes are decoded and length-checked.
#[derive(Debug, Clone)]
pub struct EncryptionConfig {
    /// `apiVersion` as written (for the summary).
    pub api_version: String,
    pub resources: Vec<ResourceEntry>,
}

/// One `resources[]` entry: which resources, and their providers in order
/// (the first writes; all read).
#[derive(Debug, Clone)]
pub struct ResourceEntry {
    pub resources: Vec<String>,
    pub providers: Vec<Provider>,
}

#[derive(Debug, Clone)]
pub enum Provider {
    /// aescbc, aesgcm or secretbox keys, in config order.
    Keys {
        kind: ProviderKind,
        keys: Vec<ConfigKey>,
    },
    Identity,
    /// KMS v1 or v2: only the provider name is useful offline.
    Kms {
        kind: ProviderKind,
        name: String,
    },
}

/// A named key. `Debug` shows the name, never the bytes.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    pub name: String,
    pub secret: KeyBytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    api_version: Option<String>,
    kind: Option<String>,
    resources: Option<Vec<RawResource>>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    providers: Vec<RawProvider>,
}

#[derive(Deserialize)]
struct RawProvider {
    aescbc: Option<RawKeys>,
    aesgcm: Option<RawKeys>,
    secretbox: Option<RawKeys>,
    identity: Option<Empty>,
    kms: Option<RawKms>,
}

impl RawProvider {
    fn key_count(&self) -> usize {
        [&self.aescbc, &self.aesgcm, &self.secretbox]
            .iter()
            .filter_map(|k| k.as_ref())
            .map(|k| k.keys.len())
            .sum()
    }
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
struct RawKeys {
    #[serde(default)]
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
struct RawKey {
    #[serde(default)]
    name: String,
    #[serde(default)]
    secret: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKms {
    api_version: Option<String>,
    #[serde(default)]
    name: String,
}

impl EncryptionConfig {
    /// Parses a configuration. `origin` names where it came from (file, tar
    /// member, Secret) for error messages.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<EncryptionConfig> {
        let bad = |what: String| CryptError::Config {
            origin: origin.to_string(),
            what,
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let raw: RawConfig = match first {
            None => return Err(bad("the file is empty".into())),
            Some(b'{') => serde_json::from_slice(bytes).map_err(|e| {
                bad(format!(
                    "invalid JSON at line {}: {}",
                    e.line(),
                    json_class(&e)
                ))
            })?,
            Some(_) => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|e| bad(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
                serde_saphyr::from_str(text).map_err(|e| bad(yaml_msg(&e)))?
            }
        };
        let api_version = raw.api_version.unwrap_or_default();
        let kind = raw.kind.unwrap_or_default();
        match (api_version.as_str(), kind.as_str()) {
            ("apiserver.config.k8s.io/v1", "EncryptionConfiguration") | ("v1", "EncryptionConfig") => {}
            _ => {
                return Err(bad(format!(
                    "apiVersion {api_version:?} kind {kind:?}: expected apiserver.config.k8s.io/v1 EncryptionConfiguration (or legacy v1 EncryptionConfig)"
                )))
            }
        }
        let raw_resources = raw.resources.unwrap_or_default();
        if raw_resources.is_empty() {
            return Err(bad("no resources[] entries".into()));
        }
        let listed: usize = raw_resources
            .iter()
            .flat_map(|r| r.providers.iter())
            .map(RawProvider::key_count)
            .sum();
        if listed > crate::crypt::keyring::MAX_KEYS {
            return Err(bad(format!(
                "lists {listed} keys, more than the {} this tool accepts (a real cluster holds a handful)",
                crate::crypt::keyring::MAX_KEYS
            )));
        }
        let mut resources = Vec::with_capacity(raw_resources.len());
        for (i, r) in raw_resources.into_iter().enumerate() {
            if r.resources.is_empty() {
                return Err(bad(format!("resources[{i}].resources is empty")));
            }
            if r.providers.is_empty() {
                return Err(bad(format!("resources[{i}].providers is empty")));
            }
            let mut providers = Vec::with_capacity(r.providers.len());
            for (j, p) in r.providers.into_iter().enumerate() {
                let at = format!("resources[{i}].providers[{j}]");
                providers.push(provider(p, &at).map_err(|e| bad(e.to_string()))?);
            }
            resources.push(ResourceEntry {
                resources: r.resources,
                providers,
            });
        }
        Ok(EncryptionConfig {
            api_version,
            resources,
        })
    }
}

/// Why one `providers[]` entry is unusable; `at` is its path in the config.
#[derive(Debug, thiserror::Error)]
enum ProviderError {
    #[error("{at}: sets {set} provider types; exactly one of aescbc, aesgcm, secretbox, identity, kms is required")]
    ProviderCount { at: String, set: usize },
    #[error("{at}.kms: apiVersion {version:?} is not v1 or v2")]
    KmsVersion { at: String, version: String },
    #[error("{at}.kms: name is empty")]
    KmsName { at: String },
    #[error("{at}: no provider")]
    NoProvider { at: String },
    #[error("{at}.{kind}: keys is empty")]
    NoKeys { at: String, kind: ProviderKind },
    #[error("{at}.{kind}.keys[{n}]: name is empty")]
    KeyName {
        at: String,
        kind: ProviderKind,
        n: usize,
    },
    #[error("{at}: secret is not valid standard base64")]
    Base64 { at: String },
    #[error("{at}: {source}")]
    Key {
        at: String,
        #[source]
        source: KeyError,
    },
}

fn provider(p: RawProvider, at: &str) -> std::result::Result<Provider, ProviderError> {
    let at_ = || at.to_string();
    let set = [
        p.aescbc.is_some(),
        p.aesgcm.is_some(),
        p.secretbox.is_some(),
        p.identity.is_some(),
        p.kms.is_some(),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if set != 1 {
        return Err(ProviderError::ProviderCount { at: at_(), set });
    }
    if p.identity.is_some() {
        return Ok(Provider::Identity);
    }
    if let Some(k) = p.kms {
        let kind = match k.api_version.as_deref() {
            None | Some("") | Some("v1") => ProviderKind::KmsV1,
            Some("v2") => ProviderKind::KmsV2,
            Some(v) => {
                return Err(ProviderError::KmsVersion {
                    at: at_(),
                    version: v.to_string(),
                })
            }
        };
        if k.name.is_empty() {
            return Err(ProviderError::KmsName { at: at_() });
        }
        return Ok(Provider::Kms { kind, name: k.name });
    }
    let (kind, raw) = match (p.aescbc, p.aesgcm, p.secretbox) {
        (Some(r), _, _) => (ProviderKind::AesCbc, r),
        (_, Some(r), _) => (ProviderKind::AesGcm, r),
        (_, _, Some(r)) => (ProviderKind::Secretbox, r),
        _ => return Err(ProviderError::NoProvider { at: at_() }),
    };
    if raw.keys.is_empty() {
        return Err(ProviderError::NoKeys { at: at_(), kind });
    }
    let mut keys = Vec::with_capacity(raw.keys.len());
    for (n, k) in raw.keys.into_iter().enumerate() {
        let where_ = format!("{at}.{kind}.keys[{n}] (name {:?})", k.name);
        if k.name.is_empty() {
            return Err(ProviderError::KeyName { at: at_(), kind, n });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(k.secret.trim().as_bytes())
            .map_err(|_| ProviderError::Base64 { at: where_.clone() })?;
        let secret = KeyBytes::new(bytes);
        // Checks the length (the message gives lengths only).
        Cipher::new(kind, &secret).map_err(|source| ProviderError::Key {
            at: where_.clone(),
            source,
        })?;
        keys.push(ConfigKey {
            name: k.name,
            secret,
        });
    }
    Ok(Provider::Keys { kind, keys })
}

/// serde_json's message without the offending value (which could be a
/// secret): only its category.
fn json_class(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "syntax error",
        Category::Data => "a field has the wrong type or shape",
        Category::Eof => "unexpected end of input",
    }
}

/// serde-saphyr's message, cut before any quoted source text so no
/// secret can leak into it.
fn yaml_msg(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("").trim();
    let cut = first.split(['`', '"', '\'']).next().unwrap_or("").trim();
    format!("invalid YAML: {}", cut.trim_start_matches("error: "))
}

#[cfg(test)]
/// Whether a config resource string (`secrets`, `routes.route.openshift.io`,
/// `*.group`, `*.` for the core group, `*.*`) covers a group-resource
/// written as `resource` (core) or `resource.group`.
pub(crate) fn resource_matches(pattern: &str, group_resource: &str) -> bool {
    if pattern == "*.*" {
        return true;
    }
    let group = group_resource.split_once('.').map(|(_, g)| g).unwrap_or("");
    match pattern.strip_prefix("*.") {
        Some(g) => g == group,
        None => pattern == group_resource,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY32: &str = "c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/IDMyYnl0ZXM="; // 35 bytes: bad
    const GOOD32: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn yaml_and_json_and_legacy() {
        let y = format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources:\n      - secrets\n      - '*.apps'\n    providers:\n      - aesgcm:\n          keys:\n            - name: 'k:1'\n              secret: {GOOD32}\n      - secretbox:\n          keys:\n            - name: sb\n              secret: {GOOD32}\n      - kms:\n          apiVersion: v2\n          name: vault\n          endpoint: unix:///tmp/k.sock\n      - identity: {{}}\n"
        );
        let c = EncryptionConfig::parse(y.as_bytes(), "t.yaml").unwrap();
        assert_eq!(c.resources[0].resources, ["secrets", "*.apps"]);
        assert_eq!(c.resources[0].providers.len(), 4);
        match &c.resources[0].providers[0] {
            Provider::Keys { kind, keys } => {
                assert_eq!(*kind, ProviderKind::AesGcm);
                assert_eq!(keys[0].name, "k:1");
                assert_eq!(keys[0].secret.expose(), b"0123456789abcdef0123456789abcdef");
            }
            p => panic!("{p:?}"),
        }
        assert!(matches!(
            &c.resources[0].providers[2],
            Provider::Kms { kind: ProviderKind::KmsV2, name } if name == "vault"
        ));
        assert!(matches!(c.resources[0].providers[3], Provider::Identity));
        // The Debug form has names, never bytes.
        let dbg = format!("{c:?}");
        assert!(dbg.contains("k:1") && !dbg.contains("0123456789abcdef"));

        let j = format!(
            r#"{{"kind":"EncryptionConfig","apiVersion":"v1","resources":[{{"resources":["configmaps"],"providers":[{{"aescbc":{{"keys":[{{"name":"1","secret":"{GOOD32}"}}]}}}},{{"identity":{{}}}}]}}]}}"#
        );
        let c = EncryptionConfig::parse(j.as_bytes(), "t.json").unwrap();
        assert_eq!(c.api_version, "v1");
    }

    fn err(text: &str) -> String {
        EncryptionConfig::parse(text.as_bytes(), "cfg")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn malformed_configs_are_clear() {
        let head = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n";
        assert!(err("").contains("empty"));
        assert!(err("kind: Pod\napiVersion: v1\n").contains("expected apiserver.config.k8s.io/v1"));
        assert!(err(&format!("{head}resources: []\n")).contains("no resources"));
        assert!(err("{ not json").contains("invalid JSON"));
        assert!(err("a: [unclosed\n").starts_with("cfg: malformed"));
        let two = format!("{head}resources:\n- resources: [secrets]\n  providers:\n  - identity: {{}}\n    aescbc:\n      keys: [{{name: a, secret: {GOOD32}}}]\n");
        assert!(err(&two).contains("exactly one"), "{}", err(&two));
        let badlen = format!("{head}resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys: [{{name: a, secret: {KEY32}}}]\n");
        let e = err(&badlen);
        assert!(e.contains("35 bytes") && e.contains("name \"a\""), "{e}");
        assert!(!e.contains(KEY32));
        let badb64 = format!("{head}resources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys: [{{name: a, secret: 'not base64!!'}}]\n");
        let e = err(&badb64);
        assert!(e.contains("base64") && !e.contains("not base64!!"), "{e}");
        let noname = format!("{head}resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys: [{{secret: {GOOD32}}}]\n");
        assert!(err(&noname).contains("name is empty"));
        // A wrongly typed secret must not be echoed.
        let typed = format!("{head}resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n        - name: a\n          secret: [SuperSecretValue]\n");
        let e = err(&typed);
        assert!(!e.contains("SuperSecretValue"), "{e}");
    }

    #[test]
    fn wildcards() {
        assert!(resource_matches("*.*", "secrets"));
        assert!(resource_matches("*.*", "routes.route.openshift.io"));
        assert!(resource_matches("*.", "secrets"));
        assert!(!resource_matches("*.", "deployments.apps"));
        assert!(resource_matches(
            "*.route.openshift.io",
            "routes.route.openshift.io"
        ));
        assert!(!resource_matches(
            "*.openshift.io",
            "routes.route.openshift.io"
        ));
        assert!(resource_matches("secrets", "secrets"));
        assert!(!resource_matches("secrets", "configmaps"));
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn random_text_never_panics(s in "[ -~\n\t:{}\\[\\]'\"-]{0,200}") {
            let _ = super::EncryptionConfig::parse(s.as_bytes(), "p");
        }

        #[test]
        fn random_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = super::EncryptionConfig::parse(&b, "p");
        }

        #[test]
        fn mangled_config_never_panics(cut in 0usize..400, flip in 0usize..400) {
            let mut c = br#"apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets, "*.apps"]
    providers:
      - aescbc:
          keys: [{name: "1", secret: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]
      - kms: {apiVersion: v2, name: k}
      - identity: {}
"#.to_vec();
            if flip < c.len() { c[flip] ^= 0x20; }
            c.truncate(cut.min(c.len()));
            let _ = super::EncryptionConfig::parse(&c, "p");
        }
    }
}
