//! The `member/snap/<term>-<index>.snap` file a restore writes
//! (etcd `etcdserver/api/snap/snapshotter.go`; docs/wal-and-snap.md):
//! `snappb.snapshot{crc, data}` where data is a `raftpb.Snapshot` whose
//! payload is the etcd v2 store as JSON, holding the members'
//! `raftAttributes`.
//!
//! The JSON is written byte-for-byte as etcd 3.4/3.5 write it after adding
//! the members to an empty v2 store: the node tree, the watcher hub's event
//! history (a ring of 1000 slots, one `create` event per member), the
//! store statistics, `CurrentIndex` = number of members, `CurrentVersion` 2.
//!
//! Settled against real etcd: `WatcherHub` and `Stats` are optional for
//! etcd's reader (it `json.Unmarshal`s into a fresh store, so absent
//! pointer fields keep their defaults), but we write them anyway so the
//! file equals etcdutl's.

use std::io::Write;
use std::path::{Path, PathBuf};

use prost::Message;

use super::gojson;
use crate::proto::{raftpb, snappb};

/// A member as a restore creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewMember {
    pub id: u64,
    pub name: String,
    /// Sorted.
    pub peer_urls: Vec<String>,
}

impl NewMember {
    /// etcd's Member JSON: `{"id":…,"peerURLs":[…],"name":…}` (isLearner and
    /// clientURLs are empty, so omitted) — the `members` bucket value and the
    /// ConfChange context.
    pub(crate) fn json(&self) -> String {
        let mut o = format!("{{\"id\":{},\"peerURLs\":", self.id);
        gojson::string_array(&mut o, &self.peer_urls);
        if !self.name.is_empty() {
            o.push_str(",\"name\":");
            gojson::string(&mut o, &self.name);
        }
        o.push('}');
        o
    }

    /// `{"peerURLs":[…]}`: the v2 store's raftAttributes value.
    pub(crate) fn raft_attributes_json(&self) -> String {
        let mut o = String::from("{\"peerURLs\":");
        gojson::string_array(&mut o, &self.peer_urls);
        o.push('}');
        o
    }
}

const NO_EXPIRE: &str = "0001-01-01T00:00:00Z";
const HISTORY_CAPACITY: usize = 1000;

fn node_head(o: &mut String, path: &str, idx: u64) {
    o.push_str("{\"Path\":");
    gojson::string(o, path);
    o.push_str(&format!(
        ",\"CreatedIndex\":{idx},\"ModifiedIndex\":{idx},\"ExpireTime\":\"{NO_EXPIRE}\",\"Value\":"
    ));
}

/// Why a `.snap` file cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapFileError {
    #[error("no members")]
    NoMembers,
    #[error("{0} members: more than etcd's event history holds")]
    TooManyMembers(usize),
    #[error("empty snapshot file")]
    Empty,
    #[error("not a snappb.snapshot: {0}")]
    NotSnappb(String),
    #[error("snapshot has no data or no crc")]
    NoData,
    #[error("crc mismatch: stored {stored:#x}, computed {computed:#x}")]
    Crc { stored: u32, computed: u32 },
    #[error("not a raftpb.Snapshot: {0}")]
    NotRaftSnapshot(String),
}

/// The v2 store JSON after adding `members` (ascending ID order, the order
/// etcd adds them) to an empty store.
pub(crate) fn v2_store_json(members: &[NewMember]) -> Result<String, SnapFileError> {
    if members.is_empty() {
        return Err(SnapFileError::NoMembers);
    }
    if members.len() >= HISTORY_CAPACITY {
        return Err(SnapFileError::TooManyMembers(members.len()));
    }
    let mut o = String::with_capacity(8192 + members.len() * 512);
    o.push_str("{\"Root\":");
    node_head(&mut o, "/", 0);
    o.push_str("\"\",\"Children\":{\"0\":");
    node_head(&mut o, "/0", 0);
    o.push_str("\"\",\"Children\":{\"members\":");
    node_head(&mut o, "/0/members", 1);
    o.push_str("\"\",\"Children\":{");
    // Go marshals map keys in string order; CreatedIndex is the add order.
    let mut by_hex: Vec<(String, u64, &NewMember)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("{:x}", m.id), i as u64 + 1, m))
        .collect();
    by_hex.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (hex, idx, m)) in by_hex.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        gojson::string(&mut o, hex);
        o.push(':');
        let dir = format!("/0/members/{hex}");
        node_head(&mut o, &dir, *idx);
        o.push_str("\"\",\"Children\":{\"raftAttributes\":");
        node_head(&mut o, &format!("{dir}/raftAttributes"), *idx);
        gojson::string(&mut o, &m.raft_attributes_json());
        o.push_str(",\"Children\":null}}}");
    }
    o.push_str("}}}},\"1\":");
    node_head(&mut o, "/1", 0);
    o.push_str("\"\",\"Children\":{}}}},\"WatcherHub\":{\"EventHistory\":{\"Queue\":{\"Events\":[");
    let n = members.len();
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let key = format!("/0/members/{:x}/raftAttributes", m.id);
        o.push_str("{\"action\":\"create\",\"node\":{\"key\":");
        gojson::string(&mut o, &key);
        o.push_str(",\"value\":");
        gojson::string(&mut o, &m.raft_attributes_json());
        let idx = i + 1;
        o.push_str(&format!(
            ",\"modifiedIndex\":{idx},\"createdIndex\":{idx}}}}}"
        ));
    }
    for _ in n..HISTORY_CAPACITY {
        o.push_str(",null");
    }
    o.push_str(&format!(
        "],\"Size\":{n},\"Front\":0,\"Back\":{n},\"Capacity\":{HISTORY_CAPACITY}}},\"StartIndex\":1,\"LastIndex\":{n}}}}},\"CurrentIndex\":{n},\"Stats\":{{\"getsSuccess\":0,\"getsFail\":0,\"setsSuccess\":0,\"setsFail\":0,\"deleteSuccess\":0,\"deleteFail\":0,\"updateSuccess\":0,\"updateFail\":0,\"createSuccess\":{n},\"createFail\":0,\"compareAndSwapSuccess\":0,\"compareAndSwapFail\":0,\"compareAndDeleteSuccess\":0,\"compareAndDeleteFail\":0,\"expireCount\":0,\"watchers\":0}},\"CurrentVersion\":2}}"
    ));
    Ok(o)
}

/// `%016x-%016x.snap` of (term, index).
pub(crate) fn file_name(term: u64, index: u64) -> String {
    format!("{term:016x}-{index:016x}.snap")
}

/// The bytes of a .snap file: `snappb.snapshot{crc: CRC32C(B), data: B}`
/// with B = `raftpb.Snapshot{data, metadata{conf_state, index, term}}`.
pub fn encode(data: Vec<u8>, voters: &[u64], index: u64, term: u64) -> Vec<u8> {
    let snap = raftpb::Snapshot {
        data: Some(data),
        metadata: Some(raftpb::SnapshotMetadata {
            conf_state: Some(super::wal::conf_state(voters)),
            index: Some(index),
            term: Some(term),
        }),
    };
    let b = snap.encode_to_vec();
    snappb::Snapshot {
        crc: Some(crc32c::crc32c(&b)),
        data: Some(b),
    }
    .encode_to_vec()
}

/// Decodes and checks a .snap file's bytes, as etcd's snapshotter does.
pub fn decode(bytes: &[u8]) -> Result<raftpb::Snapshot, SnapFileError> {
    if bytes.is_empty() {
        return Err(SnapFileError::Empty);
    }
    let s = snappb::Snapshot::decode(bytes).map_err(|e| SnapFileError::NotSnappb(e.to_string()))?;
    let data = s.data.unwrap_or_default();
    let crc = s.crc.unwrap_or(0);
    if data.is_empty() || crc == 0 {
        return Err(SnapFileError::NoData);
    }
    let want = crc32c::crc32c(&data);
    if want != crc {
        return Err(SnapFileError::Crc {
            stored: crc,
            computed: want,
        });
    }
    raftpb::Snapshot::decode(&data[..]).map_err(|e| SnapFileError::NotRaftSnapshot(e.to_string()))
}

/// Writes the .snap file into `dir` (mode 0600, fsynced); returns its path.
pub(crate) fn write(dir: &Path, bytes: &[u8], term: u64, index: u64) -> std::io::Result<PathBuf> {
    let path = dir.join(file_name(term, index));
    let mut f = crate::bolt::writer::create_new_0600(&path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: u64, name: &str, urls: &[&str]) -> NewMember {
        NewMember {
            id,
            name: name.into(),
            peer_urls: urls.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn member_json_like_etcd() {
        assert_eq!(
            m(10276657743932975437, "default", &["http://localhost:2380"]).json(),
            r#"{"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default"}"#
        );
    }

    /// Compared with the JSON of an etcdutl 3.5.1 restore of one member
    /// `m1` at `http://127.0.0.1:23800`, token `etcd-cluster-1`.
    #[test]
    fn v2_json_one_member_matches_etcdutl() {
        let j = v2_store_json(&[m(0x7b5a8be93824acf5, "m1", &["http://127.0.0.1:23800"])]).unwrap();
        let head = r#"{"Root":{"Path":"/","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"0":{"Path":"/0","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"members":{"Path":"/0/members","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"7b5a8be93824acf5":{"Path":"/0/members/7b5a8be93824acf5","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{"raftAttributes":{"Path":"/0/members/7b5a8be93824acf5/raftAttributes","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","Value":"{\"peerURLs\":[\"http://127.0.0.1:23800\"]}","Children":null}}}}}}},"1":{"Path":"/1","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{}}}},"WatcherHub":{"EventHistory":{"Queue":{"Events":[{"action":"create","node":{"key":"/0/members/7b5a8be93824acf5/raftAttributes","value":"{\"peerURLs\":[\"http://127.0.0.1:23800\"]}","modifiedIndex":1,"createdIndex":1}},null,null"#;
        assert!(j.starts_with(head), "{}", &j[..600]);
        let tail = r#",null],"Size":1,"Front":0,"Back":1,"Capacity":1000},"StartIndex":1,"LastIndex":1}},"CurrentIndex":1,"Stats":{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":1,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0},"CurrentVersion":2}"#;
        assert!(j.ends_with(tail));
        assert_eq!(j.matches("null").count(), 999 + 1);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["CurrentIndex"], 1);
        // The envelope etcdutl wrote for it: 6491 bytes, metadata as below.
        let b = encode(j.into_bytes(), &[0x7b5a8be93824acf5], 1, 1);
        assert_eq!(b.len(), 6491);
        assert!(b.ends_with(&[
            0x12, 0x12, 0x0a, 0x0c, 0x08, 0xf5, 0xd9, 0x92, 0xc1, 0x93, 0xfd, 0xa2, 0xad, 0x7b,
            0x28, 0x00, 0x10, 0x01, 0x18, 0x01
        ]));
        let back = decode(&b).unwrap();
        assert_eq!(back.metadata.unwrap().index, Some(1));
        assert_eq!(file_name(1, 3), "0000000000000001-0000000000000003.snap");
    }
}
