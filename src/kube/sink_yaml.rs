//! YAML text as `kubectl get -o yaml` lays it out: a [`Sink`] of the schema
//! traversal, so YAML output needs no `serde_json::Value`.
//!
//! This module owns the layout: block style, two-space indent, sequences
//! not indented under their key, `{}`/`[]` when empty, keys sorted as
//! go-yaml sorts them (they arrive in Go struct order and are sorted when
//! their map ends, by moving the members' text), keys over 128 bytes written `? key` / `: value`.
//! How each string is spelled (plain, quoted, `|` block, folding at column
//! 80) is [`super::yaml_scalar`]'s, as go-yaml v2 (sigs.k8s.io/yaml) does it.

use serde_json::Value as J;

use super::decode::{Mark, Sink};
use super::schema::Field;
use super::text_scan::append_prefix;
use super::yaml_scalar::{
    chars, is_quiet_plain, key_less_bytes, scan_utf8, sort_by_less, write_base64, write_key,
    write_scanned, write_time, write_value,
};

enum Kind {
    Map,
    Seq,
}

struct Frame {
    kind: Kind,
    /// Column of this container's keys or dashes.
    col: usize,
    /// Members written so far.
    count: usize,
    /// For maps: (key range in `keys`, member start in `out`) per member.
    members_from: usize,
    /// Where `keys` stood when the map opened.
    keys_from: usize,
    /// The first member shares a `- ` line.
    inline: bool,
    /// Members arrive in key order ([`Sink::members_sorted`]): their keys
    /// are not kept and the map is not reordered when it ends.
    sorted: bool,
}

/// Where the next value goes.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum At {
    /// At the start of a line (top level, or a sequence item to come).
    LineStart,
    /// Right after `key:`.
    AfterColon,
    /// Right after `- `, or after the `: ` of a `? key` (the value
    /// continues on that line).
    AfterDash,
}

/// A line break and indentation, copied rather than filled byte by byte
/// (from index 1: indentation alone).
static NL_SPACES: [u8; 129] = {
    let mut t = [b' '; 129];
    t[0] = b'\n';
    t
};

/// YAML text appended to a buffer.
pub struct YamlEmitter<'o> {
    out: &'o mut Vec<u8>,
    stack: Vec<Frame>,
    at: At,
    /// Raw key text of open maps' members.
    keys: Vec<u8>,
    /// (key start, key end, member start in `out`) of open maps' members.
    members: Vec<(usize, usize, usize)>,
    /// Scratch for reordering members.
    scratch: Vec<u8>,
    /// Output column after the last `key:` or `- ` (where a scalar starts).
    column: usize,
    /// Scratch for a value's text (base64, a time).
    text: Vec<u8>,
}

/// An emitter's working stacks, kept per thread between emitters (one
/// per object of a listing), so an object allocates none of them.
#[derive(Default)]
struct Spare {
    stack: Vec<Frame>,
    keys: Vec<u8>,
    members: Vec<(usize, usize, usize)>,
    scratch: Vec<u8>,
    text: Vec<u8>,
}

thread_local! {
    static SPARE: std::cell::RefCell<Spare> = std::cell::RefCell::default();
}

impl Drop for YamlEmitter<'_> {
    fn drop(&mut self) {
        let mut spare = Spare {
            stack: std::mem::take(&mut self.stack),
            keys: std::mem::take(&mut self.keys),
            members: std::mem::take(&mut self.members),
            scratch: std::mem::take(&mut self.scratch),
            text: std::mem::take(&mut self.text),
        };
        spare.stack.clear();
        spare.keys.clear();
        spare.members.clear();
        spare.scratch.clear();
        spare.text.clear();
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                *s = spare;
            }
        });
    }
}

impl<'o> YamlEmitter<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        let spare = SPARE
            .try_with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        YamlEmitter {
            out,
            stack: spare.stack,
            at: At::LineStart,
            keys: spare.keys,
            members: spare.members,
            scratch: spare.scratch,
            column: 0,
            text: spare.text,
        }
    }

    /// An emitter for one item of a block sequence at column 0: `- `,
    /// then the value at column 2, its strings folded where kubectl folds
    /// them in a List's `items:`.
    pub fn list_item(out: &'o mut Vec<u8>) -> Self {
        let mut e = YamlEmitter::new(out);
        e.stack.push(Frame {
            kind: Kind::Seq,
            col: 0,
            count: 0,
            members_from: 0,
            keys_from: 0,
            inline: false,
            sorted: false,
        });
        e
    }

    fn spaces(&mut self, n: usize) {
        if !append_prefix(self.out, &NL_SPACES[1..], n) {
            self.out.resize(self.out.len() + n, b' ');
        }
    }

    /// A line break when `newline`, then `n` spaces.
    #[inline]
    fn newline_spaces(&mut self, newline: bool, n: usize) {
        let from = usize::from(!newline);
        if !append_prefix(self.out, &NL_SPACES[from..], n + 1 - from) {
            if newline {
                self.out.push(b'\n');
            }
            self.out.resize(self.out.len() + n, b' ');
        }
    }

    /// The column of the key or dash that introduces the next value.
    fn col(&self) -> usize {
        self.stack.last().map_or(0, |f| f.col)
    }

    /// Before a value: a sequence item's dash.
    #[inline(always)]
    fn pre(&mut self) {
        let Some(f) = self.stack.last_mut() else {
            return;
        };
        if let Kind::Seq = f.kind {
            let col = f.col;
            f.count += 1;
            if self.at != At::AfterDash {
                if self.at == At::AfterColon {
                    self.out.push(b'\n');
                }
                self.spaces(col);
            }
            self.out.extend_from_slice(b"- ");
            self.at = At::AfterDash;
            self.column = col + 2;
        }
    }

    fn plain(&mut self, text: &[u8]) {
        self.pre();
        if self.at == At::AfterColon {
            self.out.push(b' ');
        }
        self.out.extend_from_slice(text);
        self.out.push(b'\n');
        self.at = At::LineStart;
    }

    /// A scalar value: the dash before it in a sequence, then `write`
    /// with (output, a space goes first, column, continuation indent),
    /// which ends the line.
    fn scalar(&mut self, write: impl FnOnce(&mut Vec<u8>, bool, usize, usize)) {
        self.pre();
        let indent = self.col() + 2;
        write(self.out, self.at == At::AfterColon, self.column, indent);
        self.at = At::LineStart;
    }

    fn string(&mut self, s: &str) {
        self.scalar(|out, space, column, indent| write_value(out, s, space, column, indent));
    }

    /// A scalar written from the scratch text `fill` makes.
    fn scratch_scalar(
        &mut self,
        fill: impl FnOnce(&mut Vec<u8>),
        write: impl FnOnce(&mut Vec<u8>, &[u8], bool, usize, usize),
    ) {
        let mut t = std::mem::take(&mut self.text);
        t.clear();
        fill(&mut t);
        self.scalar(|out, space, column, indent| write(out, &t, space, column, indent));
        self.text = t;
    }

    fn open(&mut self, kind: Kind) {
        self.pre();
        let parent_col = self.col();
        let col = match (&kind, self.stack.last().map(|f| &f.kind)) {
            (_, None) => 0,
            // A map's keys go two in from its key or dash.
            (Kind::Map, Some(_)) => parent_col + 2,
            // After `? key` / `: `, the dashes follow the colon.
            (Kind::Seq, Some(Kind::Map)) if self.at == At::AfterDash => parent_col + 2,
            // A sequence under a key: dashes at the key's column.
            (Kind::Seq, Some(Kind::Map)) => parent_col,
            // A sequence in a sequence item: after the outer dash.
            (Kind::Seq, Some(Kind::Seq)) => parent_col + 2,
        };
        self.stack.push(Frame {
            kind,
            col,
            count: 0,
            members_from: self.members.len(),
            keys_from: self.keys.len(),
            inline: false,
            sorted: false,
        });
    }

    fn close(&mut self, empty: &[u8]) {
        let Some(f) = self.stack.pop() else { return };
        if f.count == 0 {
            if self.at == At::AfterColon {
                self.out.push(b' ');
            }
            self.out.extend_from_slice(empty);
            self.out.push(b'\n');
            self.at = At::LineStart;
        }
        if let Kind::Map = f.kind {
            if f.count > 1 && !f.sorted {
                self.sort_members(f.members_from, f.inline, f.col);
            }
            self.members.truncate(f.members_from);
            self.keys.truncate(f.keys_from);
        }
    }

    /// Reorders the members of the map that just ended by key (go-yaml's
    /// order, [`key_less_bytes`]),
    /// moving their text; of duplicate keys the last one written stays.
    /// Only the stretch from the first misplaced member to the last one is
    /// rewritten (a List item's `kind` and `apiVersion`, say, not the whole
    /// object after them).
    /// `inline`: the first member shares a `- ` line (no indentation of its
    /// own), at column `col`.
    fn sort_members(&mut self, from: usize, inline: bool, col: usize) {
        let ms = &self.members[from..];
        let keys = &self.keys;
        let key = |s: usize, e: usize| keys.get(s..e).unwrap_or_default();
        if ms
            .windows(2)
            .all(|w| key_less_bytes(key(w[0].0, w[0].1), key(w[1].0, w[1].1)))
        {
            return;
        }
        let start = ms[0].2;
        let end = self.out.len();
        // (key start, key end, text start, text end) in written order.
        let written: Vec<(usize, usize, usize, usize)> = ms
            .iter()
            .enumerate()
            .map(|(i, m)| (m.0, m.1, m.2, ms.get(i + 1).map_or(end, |n| n.2)))
            .collect();
        let mut spans = written.clone();
        sort_by_less(&mut spans, |a, b| {
            key_less_bytes(key(a.0, a.1), key(b.0, b.1))
        });
        let dups = spans
            .windows(2)
            .any(|w| keys[w[0].0..w[0].1] == keys[w[1].0..w[1].1]);
        // Without duplicates the members keep their total length: rewrite
        // the misplaced stretch in place.
        let (lo, hi) = if dups {
            (0, spans.len())
        } else {
            let lo = (0..spans.len()).find(|&i| spans[i].2 != written[i].2);
            let hi = (0..spans.len()).rev().find(|&i| spans[i].2 != written[i].2);
            match (lo, hi) {
                (Some(lo), Some(hi)) => (lo, hi + 1),
                _ => return,
            }
        };
        self.scratch.clear();
        let mut first = lo == 0;
        for (i, s) in spans.iter().enumerate().take(hi).skip(lo) {
            if spans
                .get(i + 1)
                .is_some_and(|n| keys[n.0..n.1] == keys[s.0..s.1])
            {
                continue;
            }
            let mut text = &self.out[s.2..s.3];
            if inline {
                let was_first = s.2 == start;
                if first && !was_first {
                    text = text.get(col..).unwrap_or_default();
                } else if !first && was_first {
                    self.scratch.resize(self.scratch.len() + col, b' ');
                }
            }
            self.scratch.extend_from_slice(text);
            first = false;
        }
        if dups {
            self.out.truncate(start);
            self.out.extend_from_slice(&self.scratch);
        } else {
            let at = written[lo].2;
            self.out[at..at + self.scratch.len()].copy_from_slice(&self.scratch);
        }
    }

    /// Said by the traversal before the first key of a map whose members
    /// come in key order.
    fn sorted_members(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            if matches!(f.kind, Kind::Map) && f.count == 0 {
                f.sorted = true;
            }
        }
    }

    /// A new member of the open map: its line and indentation, and the
    /// key kept for the sort when the map's keys do not come sorted.
    /// Returns the keys' column (`None` outside a map).
    #[inline(always)]
    fn member(&mut self, k: &str) -> Option<usize> {
        let f = self.stack.last_mut()?;
        f.count += 1;
        if f.count == 1 && self.at == At::AfterDash {
            f.inline = true;
        }
        let col = f.col;
        let sorted = f.sorted;
        let member_start = if self.at == At::AfterDash {
            // The first key of a sequence item's map shares the dash's
            // line; its text starts after the dash so moving it keeps `- `.
            self.out.len()
        } else {
            self.newline_spaces(self.at == At::AfterColon, col);
            self.out.len() - col
        };
        if !sorted {
            let ks = self.keys.len();
            self.keys.extend_from_slice(k.as_bytes());
            self.members.push((ks, self.keys.len(), member_start));
        }
        Some(col)
    }

    /// A key that is written as it is, `:` included (a field's
    /// [`Field::yaml_key`]).
    #[inline(always)]
    fn plain_key(&mut self, k: &str, with_colon: &[u8]) {
        let Some(col) = self.member(k) else { return };
        // `with_colon` holds `k:` and padding ([`Field::yaml_key`]).
        let len = k.len() + 1;
        append_prefix(self.out, with_colon, len);
        self.column = col + len;
        self.at = At::AfterColon;
    }

    fn map_key(&mut self, k: &str) {
        let Some(col) = self.member(k) else { return };
        let key_start = self.out.len();
        if write_key(self.out, k, col) {
            self.column = col + chars(&self.out[key_start..]) + 1;
            self.out.push(b':');
            self.at = At::AfterColon;
            return;
        }
        // A complex key: `? key`, then `: ` at the key's column, the value
        // continuing on that line.
        self.out.push(b'?');
        write_value(self.out, k, true, col + 1, col + 2);
        self.spaces(col);
        self.out.extend_from_slice(b": ");
        self.column = col + 2;
        self.at = At::AfterDash;
    }
}

fn digits(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

impl Sink for YamlEmitter<'_> {
    const SORTED_KEYS: bool = true;

    /// The output's length, the open containers, and what a value written
    /// in the innermost one changes of it (its member count, whether its
    /// first member shares a dash's line) and of the line.
    fn mark(&self) -> Option<Mark> {
        let (count, inline) = self
            .stack
            .last()
            .map_or((0, false), |f| (f.count, f.inline));
        Some(Mark {
            len: self.out.len(),
            state: [
                self.stack.len(),
                count,
                usize::from(inline) | (self.at as usize) << 1,
                self.column,
                self.keys.len(),
                self.members.len(),
            ],
            ..Mark::default()
        })
    }

    fn rewind(&mut self, mark: Mark) {
        let [depth, count, flags, column, keys, members] = mark.state;
        self.out.truncate(mark.len);
        self.stack.truncate(depth);
        if let Some(f) = self.stack.last_mut() {
            f.count = count;
            f.inline = flags & 1 != 0;
        }
        self.at = match flags >> 1 {
            0 => At::LineStart,
            1 => At::AfterColon,
            _ => At::AfterDash,
        };
        self.column = column;
        self.keys.truncate(keys);
        self.members.truncate(members);
    }

    fn members_sorted(&mut self) {
        self.sorted_members();
    }

    fn begin_object(&mut self) {
        self.open(Kind::Map);
    }

    fn end_object(&mut self) {
        self.close(b"{}");
    }

    fn begin_array(&mut self) {
        self.open(Kind::Seq);
    }

    fn end_array(&mut self) {
        self.close(b"[]");
    }

    fn key(&mut self, k: &str) {
        self.map_key(k);
    }

    fn field_key(&mut self, f: &'static Field) {
        // A name the schema did not spell as a plain key (padded past
        // its length) goes through the key rules.
        if f.yaml_key.len() <= f.json.len() {
            self.map_key(f.json);
        } else {
            self.plain_key(f.json, f.yaml_key.as_bytes());
        }
    }

    fn key_bytes(&mut self, k: &[u8]) {
        let k = String::from_utf8_lossy(k);
        self.map_key(&k);
    }

    fn null(&mut self) {
        self.plain(b"null");
    }

    fn bool(&mut self, b: bool) {
        self.plain(if b { b"true" } else { b"false" });
    }

    fn i64(&mut self, v: i64) {
        let mut buf = [0u8; 20];
        let d = digits(v.unsigned_abs(), &mut buf);
        if v < 0 {
            let mut t = [0u8; 21];
            t[0] = b'-';
            t[1..=d.len()].copy_from_slice(d);
            self.plain(&t[..=d.len()]);
        } else {
            self.plain(d);
        }
    }

    fn u64(&mut self, v: u64) {
        let mut buf = [0u8; 20];
        let d = digits(v, &mut buf);
        self.plain(d);
    }

    fn f64(&mut self, f: f64) {
        if !f.is_finite() {
            self.null();
        } else if f.fract() == 0.0 && f.abs() < 1e15 {
            self.i64(f as i64);
        } else {
            self.plain(super::numfmt::yaml_float(f).as_bytes());
        }
    }

    fn str_bytes(&mut self, b: &[u8]) {
        if is_quiet_plain(b) {
            return self.scalar(|out, space, _, _| {
                if space {
                    out.push(b' ');
                }
                out.extend_from_slice(b);
                out.push(b'\n');
            });
        }
        match scan_utf8(b) {
            Some(sc) => self.scalar(|out, space, column, indent| {
                write_scanned(out, b, &sc, space, column, indent)
            }),
            None => self.string(&String::from_utf8_lossy(b)),
        }
    }

    fn str(&mut self, s: &str) {
        self.string(s);
    }

    fn base64(&mut self, b: &[u8]) {
        self.scalar(|out, space, column, indent| write_base64(out, b, space, column, indent));
    }

    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        self.scratch_scalar(
            |t| super::timefmt::write_rfc3339(t, seconds, micros),
            write_time,
        );
    }

    fn raw_json(&mut self, b: &[u8]) {
        match serde_json::from_slice::<J>(b) {
            Ok(v) => self.value(&v),
            Err(_) => self.str_bytes(b),
        }
    }

    fn value(&mut self, v: &J) {
        super::decode::replay(v, self);
    }
}

/// Appends the YAML of one stored value (any encoding), keys sorted as
/// kubectl prints them; `resource_version` fills
/// `metadata.resourceVersion`. On error `out` may hold a partial document.
pub fn write_value_rv(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<(), super::KubeError> {
    super::decode_into(value, resource_version, &mut YamlEmitter::new(out))
}

/// [`write_value_rv`] as an item of a List's `items:` (`- ` first, the
/// object at column 2).
pub fn write_list_item_rv(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<(), super::KubeError> {
    super::decode_into(value, resource_version, &mut YamlEmitter::list_item(out))
}

/// Appends the YAML of a `serde_json::Value`, keys sorted.
pub fn write_json_value(v: &J, out: &mut Vec<u8>) {
    YamlEmitter::new(out).value(v);
}

/// [`write_json_value`] as an item of a List's `items:`.
pub fn write_json_list_item(v: &J, out: &mut Vec<u8>) {
    YamlEmitter::list_item(out).value(v);
}
