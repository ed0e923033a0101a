//! Machine output: the name and version every JSON document etcdsnap
//! writes for scripts carries (each command's `-o json`, export's
//! `index.json`, `restore --salvage`'s loss report). One table, used by the
//! commands that write the documents and by the tests that check them
//! against their JSON Schemas in `docs/json/`; the versioning promise is
//! in `docs/json/README.md`.
//!
//! Every such document is a JSON object with two top-level members:
//! `"format": "etcdsnap.<name>"` and `"version": <integer>`. They come
//! first, except in `status` where `etcdctl snapshot status -w json`'s four
//! fields lead (so its bytes start as etcdctl's do).
//!
//! Not here: `get -o json` and `decode -o json` print Kubernetes objects
//! and `List`s, whose `apiVersion` and `kind` already name their format.

use serde::Serialize;

/// One versioned document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// `etcdsnap.<name>`, the value of `format`.
    pub name: &'static str,
    /// The value of `version`: raised only when a member is removed or
    /// changes meaning (new members may appear in any version).
    pub version: u32,
    /// The command that writes it, as typed on the command line.
    pub command: &'static str,
    /// What the document is, for the docs and test messages.
    pub what: &'static str,
}

macro_rules! formats {
    ($($id:ident = $name:literal version $v:literal by $cmd:literal: $what:literal;)*) => {
        $(
            #[doc = $what]
            pub const $id: Format = Format { name: $name, version: $v, command: $cmd, what: $what };
        )*
        /// Every format, in the order the docs list them.
        pub const ALL: &[Format] = &[$($id),*];
    };
}

formats! {
    STATUS = "etcdsnap.status" version 1 by "status": "`status -o json`: etcdctl's four fields, then the detail";
    VERIFY = "etcdsnap.verify" version 1 by "verify": "`verify -o json`: the layered integrity report";
    KEYS = "etcdsnap.keys" version 1 by "keys": "`keys -o json`: key sources found and the keys values need";
    LS = "etcdsnap.ls" version 1 by "ls": "`ls -o json`: every live key (with --decode, its object)";
    LS_DELETED = "etcdsnap.ls-deleted" version 1 by "ls": "`ls --deleted -o json`: keys deleted within the held history";
    HISTORY = "etcdsnap.history" version 1 by "history": "`history -o json`: every held revision of one key";
    DIFF = "etcdsnap.diff" version 1 by "diff": "`diff -o json`: objects added, removed and changed";
    STATS = "etcdsnap.stats" version 1 by "stats": "`stats -o json`: what fills the database";
    EXPORT_INDEX = "etcdsnap.export-index" version 1 by "export": "`export`'s DIR/index.json: every object exported or failed";
    RESTORE = "etcdsnap.restore" version 1 by "restore": "`restore -o json`: the data dir built";
    SALVAGE_REPORT = "etcdsnap.salvage-report" version 1 by "restore": "`restore --salvage`'s <data-dir>.salvage-report.json: the loss report";
    DEFRAG = "etcdsnap.defrag" version 1 by "defrag": "`defrag -o json`: the compact copy written";
    HASHKV = "etcdsnap.hashkv" version 1 by "hashkv": "`hashkv -o json`: etcdctl's hash, compact_revision, hash_revision";
    WAL = "etcdsnap.wal" version 1 by "wal": "`wal -o json`: the WAL's entries, decoded";
    TIMELINE = "etcdsnap.timeline" version 1 by "timeline": "`timeline -o json`: one row per backup";
    CERTS = "etcdsnap.certs" version 1 by "certs": "`certs -o json`: every X.509 certificate found";
}

/// A body serialized with `format` and `version` first; the body must
/// serialize as a JSON object (a struct or a map).
#[derive(Serialize)]
pub struct Document<'a, T: ?Sized> {
    pub format: &'static str,
    pub version: u32,
    #[serde(flatten)]
    pub body: &'a T,
}

impl Format {
    /// `body` with this format's `format` and `version` in front.
    pub fn document<'a, T: Serialize + ?Sized>(&self, body: &'a T) -> Document<'a, T> {
        Document {
            format: self.name,
            version: self.version,
            body,
        }
    }

    /// `body` (an object) with `format` and `version` inserted after its
    /// first `lead` members: for outputs whose first members must stay
    /// another tool's (status: etcdctl's four).
    pub fn document_after<T: Serialize + ?Sized>(
        &self,
        body: &T,
        lead: usize,
    ) -> serde_json::Result<serde_json::Value> {
        let v = serde_json::to_value(body)?;
        let serde_json::Value::Object(m) = v else {
            return Ok(v);
        };
        let mut out = serde_json::Map::with_capacity(m.len() + 2);
        let n = m.len();
        for (i, (k, val)) in m.into_iter().enumerate() {
            if i == lead {
                self.insert(&mut out);
            }
            out.insert(k, val);
        }
        if lead >= n {
            self.insert(&mut out);
        }
        Ok(serde_json::Value::Object(out))
    }

    fn insert(&self, m: &mut serde_json::Map<String, serde_json::Value>) {
        m.insert("format".into(), self.name.into());
        m.insert("version".into(), self.version.into());
    }

    /// `"format":"…","version":N` as JSON text: the leading members for a
    /// writer that streams its object itself.
    pub fn members(&self) -> String {
        format!(
            "\"format\":{},\"version\":{}",
            serde_json::Value::from(self.name),
            self.version
        )
    }

    /// The file name of this format's JSON Schema in `docs/json/`.
    pub fn schema_file(&self) -> String {
        format!(
            "{}.schema.json",
            self.name.strip_prefix("etcdsnap.").unwrap_or(self.name)
        )
    }

    /// Whether a parsed document is of this format and version.
    pub fn is(&self, doc: &serde_json::Value) -> bool {
        doc.get("format").and_then(|f| f.as_str()) == Some(self.name)
            && doc.get("version").and_then(|v| v.as_u64()) == Some(u64::from(self.version))
    }
}

/// The formats a command writes.
pub fn of_command(command: &str) -> impl Iterator<Item = &'static Format> + '_ {
    ALL.iter().filter(move |f| f.command == command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prefixed() {
        let mut names: Vec<&str> = ALL.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert!(ALL.iter().all(|f| f.name.starts_with("etcdsnap.")));
        assert_eq!(STATUS.schema_file(), "status.schema.json");
        assert_eq!(of_command("ls").count(), 2);
    }

    #[test]
    fn document_puts_format_and_version_first() {
        #[derive(Serialize)]
        struct B {
            a: u8,
            b: &'static str,
        }
        let s = serde_json::to_string(&HASHKV.document(&B { a: 1, b: "x" })).unwrap();
        assert_eq!(
            s,
            r#"{"format":"etcdsnap.hashkv","version":1,"a":1,"b":"x"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert!(HASHKV.is(&v));
        assert!(!STATUS.is(&v));
        assert!(s.starts_with(&format!("{{{},", HASHKV.members())));
    }

    #[test]
    fn document_after_keeps_the_lead() {
        let body = serde_json::json!({"hash": 1, "revision": 2, "x": 3});
        let s = serde_json::to_string(&STATUS.document_after(&body, 2).unwrap()).unwrap();
        assert_eq!(
            s,
            r#"{"hash":1,"revision":2,"format":"etcdsnap.status","version":1,"x":3}"#
        );
        let s = serde_json::to_string(&STATUS.document_after(&body, 9).unwrap()).unwrap();
        assert!(s.ends_with(r#""x":3,"format":"etcdsnap.status","version":1}"#));
    }
}
