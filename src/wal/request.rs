//! What a raft entry asks etcd to do: a normal entry's data is an
//! `etcdserverpb.InternalRaftRequest` (v3: put, delete range, txn,
//! compaction, lease, auth, alarm, cluster requests; or a wrapped v2
//! request), a bare v2 `Request` from before 3.1, or empty (a new leader's
//! first entry); a conf-change entry is a `raftpb.ConfChange` whose context
//! is the member as JSON.

use prost::Message;
use thiserror::Error;

use super::kv_request::KvRequestError;
use super::log::{Entry, ENTRY_CONF_CHANGE, ENTRY_CONF_CHANGE_V2};
use crate::proto::etcdserverpb::{
    compare, request_op, Compare, InternalRaftRequest, Request as V2Request, RequestOp,
};
use crate::proto::raftpb::ConfChange;

/// A decoded entry.
#[derive(Debug, Clone)]
pub enum Body {
    /// No data: a leader's empty entry at the start of its term.
    Empty,
    Raft(Box<InternalRaftRequest>),
    V2(V2Request),
    ConfChange(ConfChange),
    /// `ConfChangeV2` (etcd 3.4/3.5 never propose one).
    ConfChangeV2,
}

/// An entry whose data does not decode as its type says.
#[derive(Debug, Clone, Error)]
pub enum RequestError {
    #[error("entry {index} at offset {offset}: not a raftpb.ConfChange: {source}")]
    ConfChange {
        index: u64,
        offset: u64,
        #[source]
        source: prost::DecodeError,
    },
    #[error("entry {index} at offset {offset}: neither an InternalRaftRequest ({raft}) nor a v2 Request ({v2})")]
    Neither {
        index: u64,
        offset: u64,
        raft: prost::DecodeError,
        v2: prost::DecodeError,
    },
    /// Prost reads it, the replay's borrowed reader does not (an unknown
    /// field encoded as a protobuf group, which etcd never writes).
    #[error("entry {index} at offset {offset}: the replay cannot read this InternalRaftRequest: {source}")]
    Borrowed {
        index: u64,
        offset: u64,
        #[source]
        source: KvRequestError,
    },
}

impl RequestError {
    pub(crate) fn borrowed(e: &Entry<'_>, source: KvRequestError) -> RequestError {
        RequestError::Borrowed {
            index: e.index,
            offset: e.offset,
            source,
        }
    }

    /// The raft index of the entry.
    pub fn index(&self) -> u64 {
        match self {
            RequestError::ConfChange { index, .. }
            | RequestError::Neither { index, .. }
            | RequestError::Borrowed { index, .. } => *index,
        }
    }
}

/// Decodes an entry's data as etcd's apply loop does.
pub fn decode(e: &Entry<'_>) -> Result<Body, RequestError> {
    match e.typ {
        ENTRY_CONF_CHANGE => ConfChange::decode(e.data)
            .map(Body::ConfChange)
            .map_err(|source| RequestError::ConfChange {
                index: e.index,
                offset: e.offset,
                source,
            }),
        ENTRY_CONF_CHANGE_V2 => Ok(Body::ConfChangeV2),
        _ if e.data.is_empty() => Ok(Body::Empty),
        _ => match InternalRaftRequest::decode(e.data) {
            Ok(r) => match r.v2 {
                Some(v2) => Ok(Body::V2(v2)),
                None => Ok(Body::Raft(Box::new(r))),
            },
            Err(raft) => {
                V2Request::decode(e.data)
                    .map(Body::V2)
                    .map_err(|v2| RequestError::Neither {
                        index: e.index,
                        offset: e.offset,
                        raft,
                        v2,
                    })
            }
        },
    }
}

/// One key (or range) a request touches, for listings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Touch {
    pub op: &'static str,
    pub key: Vec<u8>,
    pub range_end: Vec<u8>,
    pub value_len: Option<usize>,
    pub value: Vec<u8>,
    pub lease: i64,
}

/// A one-line account of an entry: the operation, the keys it touches,
/// header ID and user, and a detail line.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub op: String,
    pub touches: Vec<Touch>,
    pub id: Option<u64>,
    pub user: Option<String>,
    pub detail: String,
}

pub(crate) fn summarize(b: &Body) -> Summary {
    let mut s = Summary::default();
    match b {
        Body::Empty => s.op = "empty".into(),
        Body::ConfChangeV2 => s.op = "conf-change-v2".into(),
        Body::ConfChange(cc) => {
            s.op = match cc.r#type.unwrap_or(0) {
                0 => "member-add",
                1 => "member-remove",
                2 => "member-update",
                3 => "member-add-learner",
                _ => "conf-change",
            }
            .into();
            s.id = cc.id.filter(|&i| i != 0);
            s.detail = format!("member {:x}", cc.node_id.unwrap_or(0));
            if let Some(c) = cc.context.as_deref().filter(|c| !c.is_empty()) {
                s.detail.push(' ');
                s.detail.push_str(&String::from_utf8_lossy(c));
            }
        }
        Body::V2(r) => {
            s.op = format!("v2 {}", r.method);
            s.id = Some(r.id);
            s.touches.push(Touch {
                op: "v2",
                key: r.path.as_bytes().to_vec(),
                value_len: Some(r.val.len()),
                value: r.val.as_bytes().to_vec(),
                ..Touch::default()
            });
        }
        Body::Raft(r) => {
            if let Some(h) = &r.header {
                s.id = Some(h.id).filter(|&i| i != 0);
                s.user = Some(h.username.clone()).filter(|u| !u.is_empty());
            }
            if s.id.is_none() && r.id != 0 {
                s.id = Some(r.id);
            }
            raft_summary(r, &mut s);
        }
    }
    s
}

fn raft_summary(r: &InternalRaftRequest, s: &mut Summary) {
    let named = |op: &str, n: &Option<crate::proto::etcdserverpb::Named>, s: &mut Summary| {
        s.op = op.to_string();
        if let Some(n) = n {
            s.detail = n.name.clone();
        }
    };
    if let Some(p) = &r.put {
        s.op = "put".into();
        s.touches.push(put_touch(p));
    } else if let Some(d) = &r.delete_range {
        s.op = "delete".into();
        s.touches.push(Touch {
            op: "delete",
            key: d.key.clone(),
            range_end: d.range_end.clone(),
            ..Touch::default()
        });
    } else if let Some(t) = &r.txn {
        s.op = "txn".into();
        let cmp: Vec<String> = t.compare.iter().map(compare_text).collect();
        s.detail = format!(
            "if {} then {} ops else {} ops",
            if cmp.is_empty() {
                "true".to_string()
            } else {
                cmp.join(" && ")
            },
            t.success.len(),
            t.failure.len()
        );
        for op in t.success.iter().chain(&t.failure) {
            op_touches(op, &mut s.touches);
        }
    } else if let Some(rg) = &r.range {
        s.op = "range".into();
        s.touches.push(Touch {
            op: "range",
            key: rg.key.clone(),
            range_end: rg.range_end.clone(),
            ..Touch::default()
        });
    } else if let Some(c) = &r.compaction {
        s.op = "compaction".into();
        s.detail = format!(
            "revision {}{}",
            c.revision,
            if c.physical { " (physical)" } else { "" }
        );
    } else if let Some(l) = &r.lease_grant {
        s.op = "lease-grant".into();
        s.detail = format!("lease {:x} ttl {}s", l.id, l.ttl);
    } else if let Some(l) = &r.lease_revoke {
        s.op = "lease-revoke".into();
        s.detail = format!("lease {:x}", l.id);
    } else if let Some(l) = &r.lease_checkpoint {
        s.op = "lease-checkpoint".into();
        s.detail = l
            .checkpoints
            .iter()
            .map(|c| format!("lease {:x} remaining {}s", c.id, c.remaining_ttl))
            .collect::<Vec<_>>()
            .join(", ");
    } else if let Some(a) = &r.alarm {
        s.op = "alarm".into();
        let action = ["get", "activate", "deactivate"]
            .get(a.action as usize)
            .copied()
            .unwrap_or("?");
        let alarm = ["none", "nospace", "corrupt"]
            .get(a.alarm as usize)
            .copied()
            .unwrap_or("?");
        s.detail = format!("{action} {alarm} member {:x}", a.member_id);
    } else if r.auth_enable.is_some() {
        s.op = "auth-enable".into();
    } else if r.auth_disable.is_some() {
        s.op = "auth-disable".into();
    } else if r.auth_status.is_some() {
        s.op = "auth-status".into();
    } else if r.authenticate.is_some() {
        named("authenticate", &r.authenticate, s);
    } else if r.auth_user_add.is_some() {
        named("user-add", &r.auth_user_add, s);
    } else if r.auth_user_delete.is_some() {
        named("user-delete", &r.auth_user_delete, s);
    } else if r.auth_user_get.is_some() {
        named("user-get", &r.auth_user_get, s);
    } else if r.auth_user_change_password.is_some() {
        named("user-change-password", &r.auth_user_change_password, s);
    } else if let Some(p) = r
        .auth_user_grant_role
        .as_ref()
        .or(r.auth_user_revoke_role.as_ref())
    {
        s.op = if r.auth_user_grant_role.is_some() {
            "user-grant-role"
        } else {
            "user-revoke-role"
        }
        .into();
        s.detail = format!("user {} role {}", p.name, p.role);
    } else if r.auth_user_list.is_some() {
        s.op = "user-list".into();
    } else if r.auth_role_list.is_some() {
        s.op = "role-list".into();
    } else if r.auth_role_add.is_some() {
        named("role-add", &r.auth_role_add, s);
    } else if r.auth_role_delete.is_some() {
        named("role-delete", &r.auth_role_delete, s);
    } else if r.auth_role_get.is_some() {
        named("role-get", &r.auth_role_get, s);
    } else if r.auth_role_grant_permission.is_some() {
        named("role-grant-permission", &r.auth_role_grant_permission, s);
    } else if r.auth_role_revoke_permission.is_some() {
        named("role-revoke-permission", &r.auth_role_revoke_permission, s);
    } else if let Some(v) = &r.cluster_version_set {
        s.op = "cluster-version-set".into();
        s.detail = v.ver.clone();
    } else if let Some(m) = &r.cluster_member_attr_set {
        s.op = "member-attr-set".into();
        let (name, urls) = m
            .member_attributes
            .as_ref()
            .map(|a| (a.name.clone(), a.client_urls.join(",")))
            .unwrap_or_default();
        s.detail = format!("member {:x} name {name} client urls {urls}", m.member_id);
    } else if let Some(d) = &r.downgrade_info_set {
        s.op = "downgrade-info-set".into();
        s.detail = format!("enabled {} version {}", d.enabled, d.ver);
    } else {
        s.op = "unknown".into();
    }
}

fn put_touch(p: &crate::proto::etcdserverpb::PutRequest) -> Touch {
    Touch {
        op: "put",
        key: p.key.clone(),
        range_end: Vec::new(),
        value_len: if p.ignore_value {
            None
        } else {
            Some(p.value.len())
        },
        value: p.value.clone(),
        lease: p.lease,
    }
}

fn op_touches(op: &RequestOp, out: &mut Vec<Touch>) {
    match &op.request {
        Some(request_op::Request::RequestPut(p)) => out.push(put_touch(p)),
        Some(request_op::Request::RequestDeleteRange(d)) => out.push(Touch {
            op: "delete",
            key: d.key.clone(),
            range_end: d.range_end.clone(),
            ..Touch::default()
        }),
        Some(request_op::Request::RequestRange(r)) => out.push(Touch {
            op: "range",
            key: r.key.clone(),
            range_end: r.range_end.clone(),
            ..Touch::default()
        }),
        Some(request_op::Request::RequestTxn(t)) => {
            for o in t.success.iter().chain(&t.failure) {
                op_touches(o, out);
            }
        }
        None => {}
    }
}

/// `mod("/k") = 5`, as a person reads a compare.
pub(crate) fn compare_text(c: &Compare) -> String {
    let target = match c.target {
        0 => "version",
        1 => "create",
        2 => "mod",
        3 => "value",
        4 => "lease",
        _ => "?",
    };
    let op = match c.result {
        0 => "=",
        1 => ">",
        2 => "<",
        3 => "!=",
        _ => "?",
    };
    let v = match &c.target_union {
        Some(compare::TargetUnion::Version(x))
        | Some(compare::TargetUnion::CreateRevision(x))
        | Some(compare::TargetUnion::ModRevision(x))
        | Some(compare::TargetUnion::Lease(x)) => x.to_string(),
        Some(compare::TargetUnion::Value(b)) => format!("<{} bytes>", b.len()),
        None => "0".into(),
    };
    format!("{target}({}) {op} {v}", crate::bolt::show_key(&c.key))
}
