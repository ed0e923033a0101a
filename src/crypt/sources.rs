//! Where keys come from (docs/openshift.md):
//!
//! 1. kube-apiserver's EncryptionConfiguration, from a
//!    `static_kuberesources_<ts>.tar.gz` (every
//!    `static-pod-resources/kube-apiserver-pod-<N>/secrets/encryption-config/encryption-config`),
//!    a backup dir holding one, or a config file;
//! 2. second stage, inside the snapshot: once Secrets decrypt, OpenShift's
//!    key Secrets `openshift-config-managed/encryption-key-<component>-<N>`
//!    and the `encryption-config*` Secrets of the API servers, which hold
//!    the keys of openshift-apiserver (routes) and oauth-apiserver (OAuth
//!    tokens).

use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::config::EncryptionConfig;
use super::error::{show_key, CryptError, Result};
use super::keyring::{Component, KeyRing, Outcome};
use super::providers::{KeyBytes, ProviderKind};
use super::secret::decode_secret;
use crate::input::{self, InputKind};
use crate::kube::key::{self, ApiServer};

/// Members bigger than this are not read (a config is a few KB).
const MAX_MEMBER: u64 = 16 << 20;

const CONFIG_TAIL: &str = "/secrets/encryption-config/encryption-config";
const POD_DIR: &str = "static-pod-resources/kube-apiserver-pod-";

/// The kube-apiserver configurations found in a tarball.
#[derive(Debug)]
pub struct TarballKeys {
    pub path: PathBuf,
    /// `(revision N, member path, config)`, newest revision first.
    pub configs: Vec<(u32, String, EncryptionConfig)>,
    /// Members read.
    pub members: usize,
}

impl TarballKeys {
    /// The revisions N found, ascending.
    pub fn revisions(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.configs.iter().map(|c| c.0).collect();
        v.sort_unstable();
        v
    }
}

/// The revision N if `member` is a kube-apiserver encryption-config,
/// tolerating `./` and `/` prefixes (and a leading `etc/kubernetes/`).
pub(crate) fn config_member_revision(member: &str) -> Option<u32> {
    let mut p = member;
    loop {
        if let Some(r) = p.strip_prefix("./") {
            p = r;
        } else if let Some(r) = p.strip_prefix('/') {
            p = r;
        } else {
            break;
        }
    }
    let p = p.strip_prefix("etc/kubernetes/").unwrap_or(p);
    let rest = p.strip_prefix(POD_DIR)?;
    let n = rest.strip_suffix(CONFIG_TAIL)?;
    if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Reads every kube-apiserver encryption-config from a
/// `static_kuberesources_*.tar.gz`.
pub fn read_tarball(path: &Path) -> Result<TarballKeys> {
    let f = std::fs::File::open(path).map_err(|e| CryptError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    read_tarball_from(f, path)
}

/// [`read_tarball`] from any reader; `path` is for messages.
pub fn read_tarball_from<R: Read>(reader: R, path: &Path) -> Result<TarballKeys> {
    let shown = path.display().to_string();
    let bad = |what: String| CryptError::Tarball {
        path: shown.clone(),
        what,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let entries = archive.entries().map_err(|e| bad(e.to_string()))?;
    let mut configs = Vec::new();
    let mut members = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("after {members} members: {e}")))?;
        members += 1;
        if !matches!(
            entry.header().entry_type(),
            tar::EntryType::Regular | tar::EntryType::Continuous
        ) {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(rev) = config_member_revision(&name) else {
            continue;
        };
        let mut buf = Vec::new();
        (&mut entry)
            .take(MAX_MEMBER)
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("member {name}: {e}")))?;
        let origin = format!("{shown}:{name}");
        let cfg = EncryptionConfig::parse(&buf, &origin)?;
        configs.push((rev, name, cfg));
    }
    if members == 0 {
        return Err(bad("no tar members (empty or not a tar.gz)".into()));
    }
    if configs.is_empty() {
        return Err(CryptError::NoConfigInTarball {
            path: shown,
            members,
        });
    }
    configs.sort_by_key(|c| std::cmp::Reverse(c.0));
    Ok(TarballKeys {
        path: path.to_path_buf(),
        configs,
        members,
    })
}

/// Reads an EncryptionConfiguration file (YAML or JSON).
pub fn read_config_file(path: &Path) -> Result<EncryptionConfig> {
    let bytes = input::read_file_whole(path, MAX_MEMBER).map_err(|e| CryptError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    EncryptionConfig::parse(&bytes, &path.display().to_string())
}

/// What the second stage found in the snapshot.
#[derive(Debug, Default, Clone)]
pub struct SnapshotKeys {
    /// Keys added, as `component provider "name" from <etcd key>`.
    pub added: Vec<String>,
    /// Key or config Secrets that could not be read, with why.
    pub problems: Vec<String>,
}

const KEY_DATA: &str = "encryption.apiserver.operator.openshift.io-key";
const MODE_ANNOTATION: &str = "encryption.apiserver.operator.openshift.io/mode";
const MIGRATED_ANNOTATION: &str = "encryption.apiserver.operator.openshift.io/migrated-resources";

/// What an etcd key is to the second stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySecret {
    /// `openshift-config-managed/encryption-key-<component>-<N>`
    Key(Component, u32),
    /// An `encryption-config*` Secret of a component.
    Config(Component),
}

/// Whether `etcd_key` is one of the Secrets the second stage reads keys
/// from (key material: see `crate::redact`).
pub(crate) fn is_key_secret(etcd_key: &[u8]) -> bool {
    classify(etcd_key).is_some()
}

/// kube-apiserver's Secrets only (openshift/oauth-apiserver store none).
fn classify(etcd_key: &[u8]) -> Option<KeySecret> {
    // Every name below starts with `encryption-` and is the key's last
    // segment: keys whose last segment does not start so cannot match, and
    // are most keys of a store, so they are turned away (a short search
    // back from the end) before the (much dearer) path parse.
    let name_at = memchr::memrchr(b'/', etcd_key)? + 1;
    if !etcd_key[name_at..].starts_with(b"encryption-") {
        return None;
    }
    let (ns, name) = key::resource_path(etcd_key)
        .filter(|p| p.api_server() == Some(ApiServer::Kube))
        .and_then(|_| key::secret_place(etcd_key))?;
    let ns = std::str::from_utf8(ns).ok()?;
    let name = std::str::from_utf8(name).ok()?;
    if ns == "openshift-config-managed" {
        if let Some(r) = name.strip_prefix("encryption-key-") {
            let (comp, n) = r.rsplit_once('-')?;
            let n: u32 = n.parse().ok()?;
            return Some(KeySecret::Key(Component::from_name(comp)?, n));
        }
        let comp = name.strip_prefix("encryption-config-")?;
        return Some(KeySecret::Config(Component::from_name(comp)?));
    }
    let comp = Component::from_name(ns)?;
    let suffix = name.strip_prefix("encryption-config")?;
    let ok = suffix.is_empty()
        || suffix
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(KeySecret::Config(comp))
}

impl KeyRing {
    /// Adds every configuration of a tarball (as kube-apiserver's, newest
    /// revision first).
    pub fn add_tarball(&mut self, t: &TarballKeys) {
        for (_, member, cfg) in &t.configs {
            let origin = format!("{}:{member}", t.path.display());
            self.add_config(cfg, Component::KubeApiserver, &origin);
        }
    }

    /// Loads a `static_kuberesources_*.tar.gz`; returns the revisions N found.
    pub fn load_tarball(&mut self, path: &Path) -> Result<Vec<u32>> {
        let t = read_tarball(path)?;
        self.add_tarball(&t);
        Ok(t.revisions())
    }

    /// Loads an EncryptionConfiguration file. `component` says whose it is
    /// when known; [`Component::Unknown`] lets it serve whatever resources
    /// it lists.
    pub fn load_config_file(&mut self, path: &Path, component: Component) -> Result<()> {
        let cfg = read_config_file(path)?;
        self.add_config(&cfg, component, &path.display().to_string());
        Ok(())
    }

    /// Loads the tarball paired with the snapshot of an OpenShift backup
    /// dir. Returns notes for the user (which files, revisions, and a
    /// warning when the timestamps differ).
    pub fn load_backup_dir(&mut self, dir: &Path) -> Result<Vec<String>> {
        let i = input::resolve(dir)?;
        if i.kind != InputKind::BackupDir {
            return Err(CryptError::NoTarball {
                path: dir.display().to_string(),
            });
        }
        let Some(tar) = &i.tarball else {
            return Err(CryptError::NoTarball {
                path: dir.display().to_string(),
            });
        };
        let revs = self.load_tarball(tar)?;
        let mut notes = i.notes;
        notes.push(format!(
            "{}: kube-apiserver encryption-config of revision{} {}",
            tar.display(),
            if revs.len() == 1 { "" } else { "s" },
            join_revs(&revs)
        ));
        Ok(notes)
    }

    /// Loads whatever `path` is, as a `--keys PATH` flag would take it: a
    /// directory is an OpenShift backup dir, `*.tar.gz`/`*.tgz` a
    /// static_kuberesources tarball, anything else an EncryptionConfiguration
    /// file (of [`Component::Unknown`]). Returns notes for the user.
    pub fn load_path(&mut self, path: &Path) -> Result<Vec<String>> {
        if path.is_dir() {
            return self.load_backup_dir(path);
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            let revs = self.load_tarball(path)?;
            return Ok(vec![format!(
                "{}: kube-apiserver encryption-config of revision{} {}",
                path.display(),
                if revs.len() == 1 { "" } else { "s" },
                join_revs(&revs)
            )]);
        }
        self.load_config_file(path, Component::Unknown)?;
        Ok(vec![format!(
            "{}: encryption configuration",
            path.display()
        )])
    }

    /// Second stage: reads OpenShift's key and config Secrets from the
    /// snapshot's `(key, value)` pairs (every revision is welcome: old
    /// revisions may hold keys that were rotated out since). Secrets are
    /// decrypted with the keys already in the ring; passes repeat while new
    /// keys appear.
    pub fn load_from_snapshot<'a, I>(&mut self, kvs: I) -> SnapshotKeys
    where
        I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
    {
        let wanted: Vec<(&[u8], &[u8], KeySecret)> = kvs
            .into_iter()
            .filter_map(|(k, v)| classify(k).map(|c| (k, v, c)))
            .collect();
        let mut report = SnapshotKeys::default();
        let mut done = vec![false; wanted.len()];
        let mut last_err: Vec<Option<String>> = vec![None; wanted.len()];
        let mut buf = Vec::new();
        for _pass in 0..4 {
            let mut progress = false;
            for (i, (k, v, what)) in wanted.iter().enumerate() {
                if done[i] {
                    continue;
                }
                let plain: &[u8] = match self.decrypt_into(k, v, &mut buf) {
                    Ok(Outcome::Plain) => v,
                    Ok(Outcome::Decrypted(_)) => &buf,
                    Err(e) => {
                        last_err[i] = Some(e.to_string());
                        continue;
                    }
                };
                done[i] = true;
                match self.add_secret(k, plain, *what, &mut report) {
                    Ok(added) => progress |= added,
                    Err(e) => report.problems.push(e.to_string()),
                }
            }
            if !progress {
                break;
            }
        }
        for (i, e) in last_err.into_iter().enumerate() {
            if !done[i] {
                if let Some(e) = e {
                    report.problems.push(e);
                }
            }
        }
        report
    }

    /// [`KeyRing::load_from_snapshot`] over every revision of a store.
    pub fn load_from_store(&mut self, store: &crate::mvcc::Store<'_>) -> SnapshotKeys {
        // Classifying reads every key of every revision (a cache miss each
        // into the mapped file): the few candidates are picked out in
        // parallel, in store order, and classified again below.
        let candidates: Vec<(&[u8], &[u8])> = store
            .records()
            .par_iter()
            .with_min_len(4096)
            .filter(|r| !r.is_delete() && classify(r.kv.key).is_some())
            .map(|r| (r.kv.key, r.kv.value))
            .collect();
        self.load_from_snapshot(candidates)
    }

    fn add_secret(
        &mut self,
        etcd_key: &[u8],
        plain: &[u8],
        what: KeySecret,
        report: &mut SnapshotKeys,
    ) -> Result<bool> {
        let shown = show_key(etcd_key);
        let bad = |what: String| CryptError::BadSecret {
            etcd_key: shown.clone(),
            what,
        };
        let s = decode_secret(plain).map_err(|e| bad(e.to_string()))?;
        match what {
            KeySecret::Key(comp, n) => {
                let mode = s.annotation(MODE_ANNOTATION).unwrap_or("");
                let kind = match mode {
                    "aescbc" => ProviderKind::AesCbc,
                    "aesgcm" => ProviderKind::AesGcm,
                    "secretbox" => ProviderKind::Secretbox,
                    "identity" | "" | "KMS" | "kms" => {
                        self.note(format!(
                            "{shown}: {comp} key {n} has mode {:?}: nothing to decrypt with",
                            if mode.is_empty() { "identity" } else { mode }
                        ));
                        return Ok(false);
                    }
                    other => return Err(bad(format!("unknown mode annotation {other:?}"))),
                };
                let key = s
                    .data(KEY_DATA)
                    .ok_or_else(|| bad(format!("no data key {KEY_DATA}")))?;
                let mut resources: Vec<String> = comp
                    .default_resources()
                    .iter()
                    .map(|r| r.to_string())
                    .collect();
                for r in migrated_resources(s.annotation(MIGRATED_ANNOTATION)) {
                    if !resources.contains(&r) {
                        resources.push(r);
                    }
                }
                let name = n.to_string();
                let added = self.add_key(
                    comp,
                    kind,
                    &name,
                    KeyBytes::new(key.to_vec()),
                    &resources,
                    &shown,
                    false,
                );
                if added {
                    report
                        .added
                        .push(format!("{comp} {kind} key \"{name}\" from {shown}"));
                }
                Ok(added)
            }
            KeySecret::Config(comp) => {
                let data = s
                    .data("encryption-config")
                    .ok_or_else(|| bad("no data key encryption-config".into()))?;
                let cfg =
                    EncryptionConfig::parse(data, &format!("{shown} (data encryption-config)"))?;
                let before = self.len();
                self.add_config(&cfg, comp, &shown);
                let added = self.len() > before;
                if added {
                    report.added.push(format!(
                        "{comp}: {} key{} from {shown}",
                        self.len() - before,
                        if self.len() - before == 1 { "" } else { "s" }
                    ));
                }
                Ok(added)
            }
        }
    }
}

fn join_revs(revs: &[u32]) -> String {
    revs.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `{"resources":[{"group":"route.openshift.io","resource":"routes"}]}` →
/// `routes.route.openshift.io`.
fn migrated_resources(ann: Option<&str>) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Gr {
        #[serde(default)]
        group: String,
        #[serde(default)]
        resource: String,
    }
    #[derive(serde::Deserialize)]
    struct M {
        #[serde(default)]
        resources: Vec<Gr>,
    }
    let Some(a) = ann else { return Vec::new() };
    let Ok(m) = serde_json::from_str::<M>(a) else {
        return Vec::new();
    };
    m.resources
        .into_iter()
        .filter(|g| !g.resource.is_empty())
        .map(|g| {
            if g.group.is_empty() {
                g.resource
            } else {
                format!("{}.{}", g.resource, g.group)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        let t =
            "static-pod-resources/kube-apiserver-pod-7/secrets/encryption-config/encryption-config";
        assert_eq!(config_member_revision(t), Some(7));
        assert_eq!(config_member_revision(&format!("./{t}")), Some(7));
        assert_eq!(config_member_revision(&format!("/{t}")), Some(7));
        assert_eq!(
            config_member_revision(&format!("/etc/kubernetes/{t}")),
            Some(7)
        );
        assert_eq!(config_member_revision(&format!("{t}.bak")), None);
        assert_eq!(
            config_member_revision("static-pod-resources/kube-apiserver-pod-x/secrets/encryption-config/encryption-config"),
            None
        );
        assert_eq!(
            config_member_revision(
                "static-pod-resources/etcd-pod-7/secrets/encryption-config/encryption-config"
            ),
            None
        );
    }

    #[test]
    fn classify_secrets() {
        use Component::*;
        let c = |s: &str| classify(s.as_bytes());
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-config-managed/encryption-key-openshift-apiserver-3"),
            Some(KeySecret::Key(OpenshiftApiserver, 3))
        );
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-config-managed/encryption-key-openshift-oauth-apiserver-12"),
            Some(KeySecret::Key(OauthApiserver, 12))
        );
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-config-managed/encryption-key-openshift-kube-apiserver-1"),
            Some(KeySecret::Key(KubeApiserver, 1))
        );
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-config-managed/encryption-config-openshift-oauth-apiserver"),
            Some(KeySecret::Config(OauthApiserver))
        );
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-apiserver/encryption-config-4"),
            Some(KeySecret::Config(OpenshiftApiserver))
        );
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-oauth-apiserver/encryption-config"),
            Some(KeySecret::Config(OauthApiserver))
        );
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-apiserver/encryption-configx"),
            None
        );
        assert_eq!(c("/kubernetes.io/secrets/default/encryption-config"), None);
        // The byte pre-filter turns these away; the path parse would too.
        assert_eq!(c("/kubernetes.io/secrets/openshift-apiserver/other"), None);
        assert_eq!(
            c("/kubernetes.io/secrets/openshift-apiserver/xencryption-config"),
            None
        );
        assert_eq!(c("/kubernetes.io/secrets/openshift-apiserver"), None);
        assert_eq!(
            c("/registry/secrets/openshift-oauth-apiserver/encryption-config-7"),
            Some(KeySecret::Config(OauthApiserver))
        );
        assert_eq!(
            c("/kubernetes.io/configmaps/openshift-apiserver/encryption-config"),
            None
        );
    }

    #[test]
    fn migrated() {
        assert_eq!(
            migrated_resources(Some(
                r#"{"resources":[{"group":"","resource":"secrets"},{"group":"route.openshift.io","resource":"routes"}]}"#
            )),
            ["secrets", "routes.route.openshift.io"]
        );
        assert!(migrated_resources(Some("nope")).is_empty());
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use std::io::Write;

    proptest! {
        #[test]
        fn random_gzip_payload_never_panics(b in prop::collection::vec(any::<u8>(), 0..2000)) {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&b).unwrap();
            let data = gz.finish().unwrap();
            let _ = super::read_tarball_from(&data[..], std::path::Path::new("x.tar.gz"));
            let _ = super::read_tarball_from(&b[..], std::path::Path::new("y.tar.gz"));
        }

        #[test]
        fn mangled_fixture_tarball_never_panics(at in 0usize..12_000, byte in any::<u8>(), cut in 0usize..12_000) {
            use std::io::Read;
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/encrypted/static_kuberesources_2026-11-21_101500.tar.gz");
            let gz = std::fs::read(path).unwrap();
            let mut tar = Vec::new();
            flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut tar).unwrap();
            let n = tar.len();
            tar[at % n] = byte;
            tar.truncate(cut.max(1));
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&tar).unwrap();
            let data = enc.finish().unwrap();
            let _ = super::read_tarball_from(&data[..], std::path::Path::new("m.tar.gz"));
        }
    }
}
