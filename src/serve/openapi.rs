//! A minimal OpenAPI v3 for the served resources: what kubectl reads
//! before it writes. `kubectl apply`/`edit`/`create` (validation on, the
//! default) first fetch `/openapi/v3` and the document of the object's
//! group version, to learn whether the server validates fields itself: a
//! PATCH operation tagged with the kind's `x-kubernetes-group-version-kind`
//! and a `fieldValidation` query parameter says it does, and kubectl then
//! skips its own schema validation and sends the write, which the server
//! answers 405 "read-only snapshot". Without a document kubectl stops at
//! "failed to download openapi" before any request reaches the server.
//!
//! Per group version: the index lists `/openapi/v3/{api/v1|apis/G/V}`;
//! each document holds the item and collection paths of every resource
//! with get/list (and the write operations, tagged, whose answers are the
//! 405 Status), and an object schema per kind that keeps every field
//! (`x-kubernetes-preserve-unknown-fields`), so no client-side check
//! rejects what the snapshot itself holds.

use serde_json::{json, Value as J};

use super::api::{Reply, State};
use super::catalog::ApiResource;

/// The path of a group version under `/openapi/v3/`.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: every group version discovery offers.
pub(crate) fn index(state: &State) -> Reply {
    let mut paths = serde_json::Map::new();
    for (g, versions) in state.catalog.groups() {
        for v in versions {
            let p = gv_path(&g, &v);
            // The hash names this server's revision: documents change only
            // with the snapshot served.
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=etcdsnap-{}", state.rev)}),
            );
        }
    }
    Reply::json(200, &json!({ "paths": paths }))
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/G/V`: `None` when discovery
/// does not offer that group version.
pub(crate) fn document(state: &State, segs: &[&str]) -> Option<Reply> {
    let (group, version) = match segs {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    if !state.catalog.has_version(group, version) {
        return None;
    }
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for r in state.catalog.discovered(group, version) {
        add_resource(&r, &mut paths, &mut schemas);
    }
    Some(Reply::json(
        200,
        &json!({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes (etcdsnap read-only snapshot)", "version": state.version["gitVersion"].clone()},
            "paths": paths,
            "components": {"schemas": schemas},
        }),
    ))
}

/// The schema name of a kind, as the apiserver spells definitions
/// (`io.k8s.api.core.v1.ConfigMap` style is not needed by clients; a
/// reverse-DNS name of the group keeps them apart).
fn schema_name(r: &ApiResource) -> String {
    let group = if r.group.is_empty() { "core" } else { &r.group };
    let rev: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{}.{}", rev.join("."), r.version, r.kind)
}

fn add_resource(
    r: &ApiResource,
    paths: &mut serde_json::Map<String, J>,
    schemas: &mut serde_json::Map<String, J>,
) {
    let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let name = schema_name(r);
    let reference = json!({"$ref": format!("#/components/schemas/{name}")});
    schemas.insert(
        name,
        json!({
            "type": "object",
            "description": format!("{} as the snapshot holds it (read-only).", r.kind),
            "x-kubernetes-preserve-unknown-fields": true,
            "x-kubernetes-group-version-kind": [gvk.clone()],
        }),
    );
    let base = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let collection = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{base}/{}", r.plural)
    };
    let item = format!("{collection}/{{name}}");
    let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}});
    let refused = json!({"405": {"description": "read-only snapshot"}});
    let op = |action: &str, responses: &J, extra: Vec<J>| {
        let mut params = vec![];
        params.extend(extra);
        json!({
            "operationId": format!("{action}{}", r.kind),
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "parameters": params,
            "responses": responses,
        })
    };
    let validation = || {
        vec![
            json!({"name": "dryRun", "in": "query", "schema": {"type": "string"}}),
            json!({"name": "fieldManager", "in": "query", "schema": {"type": "string"}}),
            json!({"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}),
        ]
    };
    let body = json!({"content": {"application/json": {"schema": reference}}});
    let mut scope =
        vec![json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string"}})];
    if r.namespaced {
        scope.push(json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string"}}));
    }
    let mut put = op("put", &refused, validation());
    put["requestBody"] = body.clone();
    let mut patch = op("patch", &refused, validation());
    patch["requestBody"] = json!({"content": {
        "application/json-patch+json": {"schema": {"type": "object"}},
        "application/merge-patch+json": {"schema": {"type": "object"}},
        "application/strategic-merge-patch+json": {"schema": {"type": "object"}},
        "application/apply-patch+yaml": {"schema": {"type": "object"}},
    }});
    paths.insert(
        item,
        json!({
            "parameters": scope,
            "get": op("get", &ok, vec![]),
            "put": put,
            "patch": patch,
            "delete": op("delete", &refused, vec![]),
        }),
    );
    let mut post = op("post", &refused, validation());
    post["requestBody"] = body;
    let mut coll = json!({
        "get": op("list", &json!({"200": {"description": "OK"}}), vec![]),
        "post": post,
    });
    if r.namespaced {
        coll["parameters"] = json!([{"name": "namespace", "in": "path", "required": true, "schema": {"type": "string"}}]);
    }
    paths.insert(collection, coll);
}
