//! kubectl's JSONPath templates (`-o jsonpath=…`, `custom-columns`,
//! `--sort-by`), with kubectl's syntax and output rules: text between
//! `{…}` actions is printed as is; an action is a path (`.a.b`, `['a.b']`,
//! `[0]`, `[1:3]`, `[*]`, `[0,2]`, `..name`, `*`, filters `[?(@.x=="y")]`
//! with `== != < > <= >=` and bare `[?(@.x)]` for existence), a quoted
//! string (`{"\n"}`), or `{range PATH}…{end}`. Missing keys print nothing
//! (kubectl allows them when printing). Several results of one action are
//! joined by a space; maps and lists print as compact JSON with sorted keys
//! and `<`, `>`, `&` escaped, as Go's encoder does.
//!
//! Where Go iterates a map in random order (`*`, `..`), keys are sorted here.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value as J;

/// A parse or evaluation error, worded as kubectl words it where it can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonPathError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, JsonPathError> {
    Err(JsonPathError(s.into()))
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Param {
    value: i64,
    known: bool,
    derived: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Field(String),
    Array([Param; 3]),
    Filter {
        left: Vec<Node>,
        right: Vec<Node>,
        op: String,
    },
    Int(i64),
    Float(f64),
    Bool(bool),
    Wildcard,
    Recursive,
    Union(Vec<Vec<Node>>),
    Identifier(String),
}

/// One top-level piece of a template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Action(Vec<Node>),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
}

struct Parser<'s> {
    input: &'s str,
    pos: usize,
}

fn is_terminator(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => matches!(
            c,
            ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
        ),
    }
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'s> Parser<'s> {
    fn rest(&self) -> &'s str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Text and actions up to the end of the input.
    fn template(&mut self) -> Result<Vec<Piece>, JsonPathError> {
        let mut pieces = Vec::new();
        loop {
            match self.rest().find('{') {
                None => {
                    if !self.rest().is_empty() {
                        pieces.push(Piece::Text(self.rest().to_string()));
                    }
                    return Ok(pieces);
                }
                Some(i) => {
                    if i > 0 {
                        pieces.push(Piece::Text(self.rest()[..i].to_string()));
                    }
                    self.pos += i + 1;
                    let mut nodes = Vec::new();
                    self.inside(&mut nodes)?;
                    pieces.push(Piece::Action(nodes));
                }
            }
        }
    }

    /// The nodes of one action, through its closing `}`.
    fn inside(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        loop {
            let rest = self.rest();
            if rest.starts_with('}') {
                self.pos += 1;
                return Ok(());
            }
            if rest.starts_with("[?(") {
                self.pos += 3;
                self.filter(cur)?;
                continue;
            }
            if rest.starts_with("..") {
                if cur.last() == Some(&Node::Recursive) {
                    return err("invalid multiple recursive descent");
                }
                self.pos += 2;
                cur.push(Node::Recursive);
                if self.peek().is_some_and(is_alnum) {
                    self.field(cur);
                }
                continue;
            }
            match self.next() {
                None | Some('\r') | Some('\n') => return err("unclosed action"),
                Some(' ') | Some('@') | Some('$') => {}
                Some('[') => self.array(cur)?,
                Some(q @ ('"' | '\'')) => self.quote(cur, q)?,
                Some('.') => self.field(cur),
                Some(c) if c == '+' || c == '-' || c.is_ascii_digit() => {
                    self.pos -= c.len_utf8();
                    self.number(cur)?;
                }
                Some(c) if is_alnum(c) => {
                    self.pos -= c.len_utf8();
                    let start = self.pos;
                    while !is_terminator(self.peek()) {
                        self.next();
                    }
                    let word = &self.input[start..self.pos];
                    cur.push(match word {
                        "true" => Node::Bool(true),
                        "false" => Node::Bool(false),
                        w => Node::Identifier(w.to_string()),
                    });
                }
                Some(c) => return err(format!("unrecognized character in action: {c:?}")),
            }
        }
    }

    /// A field name up to the next unescaped terminator; `\` escapes.
    fn field(&mut self, cur: &mut Vec<Node>) {
        let mut name = String::new();
        loop {
            let c = self.peek();
            if c == Some('\\') {
                self.next();
                if let Some(e) = self.next() {
                    name.push(e);
                }
                continue;
            }
            if is_terminator(c) {
                break;
            }
            if let Some(c) = self.next() {
                name.push(c);
            }
        }
        cur.push(if name == "*" {
            Node::Wildcard
        } else {
            Node::Field(name)
        });
    }

    fn number(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        let start = self.pos;
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        while self.peek().is_some_and(|c| c == '.' || c.is_ascii_digit()) {
            self.next();
        }
        let text = &self.input[start..self.pos];
        if let Ok(i) = text.parse::<i64>() {
            cur.push(Node::Int(i));
        } else if let Ok(f) = text.parse::<f64>() {
            cur.push(Node::Float(f));
        } else {
            return err(format!("cannot parse number {text}"));
        }
        Ok(())
    }

    fn array(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        let start = self.pos;
        loop {
            match self.next() {
                None | Some('\n') => return err("unterminated array"),
                Some(']') => break,
                _ => {}
            }
        }
        let mut text = &self.input[start..self.pos - 1];
        if text == "*" {
            text = ":";
        }
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() > 1 {
            let mut union = Vec::new();
            for p in parts {
                union.push(action(&format!("[{}]", p.trim_matches(' ')))?);
            }
            cur.push(Node::Union(union));
            return Ok(());
        }
        if text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'') {
            let key = &text[1..text.len() - 1];
            if !key.contains('\'') {
                cur.extend(action(&format!(".{key}"))?);
                return Ok(());
            }
        }
        cur.push(Node::Array(slice_params(text)?));
        Ok(())
    }

    fn filter(&mut self, cur: &mut Vec<Node>) -> Result<(), JsonPathError> {
        let start = self.pos;
        let (mut begin, mut end) = (false, false);
        let mut pair = '"';
        loop {
            let before = self.pos;
            match self.next() {
                None | Some('\n') => return err("unterminated filter"),
                Some(q @ ('"' | '\'')) => {
                    if !begin {
                        begin = true;
                        pair = q;
                        continue;
                    }
                    if (before == 0 || self.input.as_bytes()[before - 1] != b'\\') && q == pair {
                        end = true;
                    }
                }
                Some(')') if begin == end => break,
                _ => {}
            }
        }
        if self.next() != Some(']') {
            return err("unclosed array expect ]");
        }
        let text = &self.input[start..self.pos - 2];
        match split_comparison(text) {
            None => cur.push(Node::Filter {
                left: action(text)?,
                right: Vec::new(),
                op: "exists".into(),
            }),
            Some((l, op, r)) => cur.push(Node::Filter {
                left: action(l)?,
                right: action(r)?,
                op: op.to_string(),
            }),
        }
        Ok(())
    }

    fn quote(&mut self, cur: &mut Vec<Node>, q: char) -> Result<(), JsonPathError> {
        let start = self.pos - 1;
        loop {
            let before = self.pos;
            match self.next() {
                None | Some('\n') => return err("unterminated quoted string"),
                Some(c) if c == q && self.input.as_bytes()[before - 1] != b'\\' => break,
                _ => {}
            }
        }
        let raw = &self.input[start..self.pos];
        let s = unquote(raw)
            .ok_or_else(|| JsonPathError(format!("unquote string {raw} error invalid syntax")))?;
        cur.push(Node::Text(s));
        Ok(())
    }
}

/// `LEFT OP RIGHT` as kubectl splits a filter: the left side holds none of
/// `!<>=`, the operator is the run of `!<>=~` after it.
fn split_comparison(text: &str) -> Option<(&str, &str, &str)> {
    let is_op = |c: char| matches!(c, '!' | '<' | '>' | '=' | '~');
    let i = text.find(['!', '<', '>', '='])?;
    if i == 0 {
        return None;
    }
    let op_len = text[i..]
        .find(|c: char| !is_op(c))
        .unwrap_or(text.len() - i);
    let right = &text[i + op_len..];
    if right.is_empty() {
        return None;
    }
    Some((&text[..i], &text[i..i + op_len], right))
}

/// `[a:b:c]`, `[a]`, `[:]` as kubectl reads them.
fn slice_params(text: &str) -> Result<[Param; 3], JsonPathError> {
    let bad = || JsonPathError(format!("invalid array index {text}"));
    // ^(-?\d*)(:-?\d*)?(:-?\d*)?$
    let mut groups: [Option<&str>; 3] = [None; 3];
    let mut rest = text;
    for (i, g) in groups.iter_mut().enumerate() {
        if i > 0 && !rest.starts_with(':') {
            break;
        }
        let skip = usize::from(i > 0);
        let body = &rest[skip..];
        let mut n = 0;
        if body.starts_with('-') {
            n = 1;
        }
        n += body[n..].bytes().take_while(u8::is_ascii_digit).count();
        *g = Some(&rest[..skip + n]);
        rest = &rest[skip + n..];
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    let mut p = [Param {
        value: 0,
        known: false,
        derived: false,
    }; 3];
    for i in 0..3 {
        let g = groups[i].unwrap_or("");
        if !g.is_empty() {
            let v = if i > 0 { &g[1..] } else { g };
            if i > 0 && v.is_empty() {
                p[i].known = false;
            } else {
                p[i].known = true;
                p[i].value = v
                    .parse()
                    .map_err(|_| JsonPathError(format!("array index {v} is not a number")))?;
            }
        } else if i == 1 {
            p[i] = Param {
                value: p[0].value + 1,
                known: true,
                derived: true,
            };
        }
    }
    Ok(p)
}

/// Go's `strconv.Unquote`, extended to single quotes as kubectl does.
fn unquote(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    if s.len() < 2 || !s.ends_with(q) || !(q == '"' || q == '\'') {
        return None;
    }
    let body = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c == q {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it.next()?;
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' | '"' if e == q => out.push(e),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| it.next()).collect();
                if hex.len() != n {
                    return None;
                }
                let v = u32::from_str_radix(&hex, 16).ok()?;
                out.push(char::from_u32(v)?);
            }
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + it.next()?.to_digit(8)?;
                }
                if v > 255 {
                    return None;
                }
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Parses `text` as the inside of one action.
fn action(text: &str) -> Result<Vec<Node>, JsonPathError> {
    let wrapped = format!("{{{text}}}");
    let mut p = Parser {
        input: &wrapped,
        pos: 0,
    };
    let pieces = p.template()?;
    match pieces.into_iter().next() {
        Some(Piece::Action(n)) => Ok(n),
        _ => Ok(Vec::new()),
    }
}

impl Template {
    /// Parses a kubectl JSONPath template.
    pub fn parse(text: &str) -> Result<Template, JsonPathError> {
        let mut p = Parser {
            input: text,
            pos: 0,
        };
        Ok(Template {
            pieces: p.template()?,
        })
    }

    /// kubectl's relaxed form for custom-columns and `--sort-by`:
    /// `a.b`, `.a.b`, `{a.b}` and `{.a.b}` all mean `{.a.b}`.
    pub fn parse_relaxed(path: &str) -> Result<Template, JsonPathError> {
        if path.is_empty() {
            return Template::parse(path);
        }
        let inner = if let Some(i) = path.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            i.strip_prefix('.').unwrap_or(i)
        } else {
            path.strip_prefix('.').unwrap_or(path)
        };
        if inner.is_empty() || inner.contains(['{', '}']) {
            return err("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
        }
        Template::parse(&format!("{{.{inner}}}"))
    }

    /// The result sets, one per action (and per round of a range), as
    /// kubectl's `FindResults` gives them.
    pub fn find<'a>(&self, data: &'a J) -> Result<Vec<Vec<Cow<'a, J>>>, JsonPathError> {
        let mut out = Vec::new();
        let (end, _) = run(&self.pieces, 0, data, &mut out, false)?;
        if end < self.pieces.len() {
            return err("not in range, nothing to end");
        }
        Ok(out)
    }

    /// Executes the template on `data` as `kubectl -o jsonpath` prints it.
    pub fn render(&self, data: &J) -> Result<String, JsonPathError> {
        let mut s = String::new();
        for set in self.find(data)? {
            for (i, v) in set.iter().enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                if v.is_object() || v.is_array() {
                    go_json(&mut s, v);
                } else {
                    go_text(&mut s, v);
                }
            }
        }
        Ok(s)
    }

    /// `-o jsonpath-as-json`: all results as one indented JSON array per
    /// result set.
    pub fn render_json(&self, data: &J) -> Result<String, JsonPathError> {
        let mut s = String::new();
        for set in self.find(data)? {
            let arr = J::Array(set.into_iter().map(Cow::into_owned).collect());
            go_json_indent(&mut s, &arr, 0);
            s.push('\n');
        }
        Ok(s)
    }
}

fn is_range(nodes: &[Node]) -> bool {
    matches!(nodes.first(), Some(Node::Identifier(w)) if w == "range")
}

fn is_end(nodes: &[Node]) -> bool {
    matches!(nodes, [Node::Identifier(w)] if w == "end")
}

/// Runs pieces from `i` until the end or an `{end}` (when `in_range`);
/// returns the index after the `{end}` consumed and whether one was met.
fn run<'a>(
    pieces: &[Piece],
    mut i: usize,
    data: &'a J,
    out: &mut Vec<Vec<Cow<'a, J>>>,
    in_range: bool,
) -> Result<(usize, bool), JsonPathError> {
    while i < pieces.len() {
        match &pieces[i] {
            Piece::Text(t) => out.push(vec![Cow::Owned(J::String(t.clone()))]),
            Piece::Action(nodes) if is_end(nodes) => {
                if !in_range {
                    return err("not in range, nothing to end");
                }
                return Ok((i + 1, true));
            }
            Piece::Action(nodes) if is_range(nodes) => {
                let items = eval_list(vec![Cow::Borrowed(data)], &nodes[1..])?;
                let mut after = None;
                for item in &items {
                    let item: &J = item;
                    // A borrowed item keeps the data's lifetime; a literal
                    // (owned) one is rendered here and kept as text.
                    let mut sub = Vec::new();
                    let (next, _) = run(pieces, i + 1, item, &mut sub, true)?;
                    for set in sub {
                        out.push(
                            set.into_iter()
                                .map(|c| Cow::Owned(c.into_owned()))
                                .collect(),
                        );
                    }
                    after = Some(next);
                }
                let next = match after {
                    Some(n) => n,
                    None => skip_range(pieces, i + 1),
                };
                i = next;
                continue;
            }
            Piece::Action(nodes) => out.push(eval_list(vec![Cow::Borrowed(data)], nodes)?),
        }
        i += 1;
    }
    Ok((i, false))
}

/// The index after the `{end}` closing a range whose body starts at `i`.
fn skip_range(pieces: &[Piece], mut i: usize) -> usize {
    let mut depth = 1;
    while i < pieces.len() {
        if let Piece::Action(n) = &pieces[i] {
            if is_range(n) {
                depth += 1;
            } else if is_end(n) {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
        }
        i += 1;
    }
    i
}

fn eval_list<'a>(
    mut cur: Vec<Cow<'a, J>>,
    nodes: &[Node],
) -> Result<Vec<Cow<'a, J>>, JsonPathError> {
    for n in nodes {
        cur = eval(cur, n)?;
    }
    Ok(cur)
}

/// Children of a value in kubectl's `*`/`..` order (map keys sorted; a
/// string's bytes as numbers).
fn children<'a>(v: &Cow<'a, J>) -> Vec<Cow<'a, J>> {
    match v {
        Cow::Borrowed(b) => match b {
            J::Object(m) => {
                let mut ks: Vec<&String> = m.keys().collect();
                ks.sort();
                ks.into_iter().map(|k| Cow::Borrowed(&m[k])).collect()
            }
            J::Array(a) => a.iter().map(Cow::Borrowed).collect(),
            J::String(s) => s.bytes().map(|b| Cow::Owned(J::from(b))).collect(),
            _ => Vec::new(),
        },
        Cow::Owned(o) => match o {
            J::Object(m) => {
                let mut ks: Vec<&String> = m.keys().collect();
                ks.sort();
                ks.into_iter().map(|k| Cow::Owned(m[k].clone())).collect()
            }
            J::Array(a) => a.iter().cloned().map(Cow::Owned).collect(),
            J::String(s) => s.bytes().map(|b| Cow::Owned(J::from(b))).collect(),
            _ => Vec::new(),
        },
    }
}

fn type_name(v: &J) -> &'static str {
    match v {
        J::Null => "<nil>",
        J::Bool(_) => "bool",
        J::Number(n) if n.is_f64() => "float64",
        J::Number(_) => "int64",
        J::String(_) => "string",
        J::Array(_) => "[]interface {}",
        J::Object(_) => "map[string]interface {}",
    }
}

fn eval<'a>(input: Vec<Cow<'a, J>>, node: &Node) -> Result<Vec<Cow<'a, J>>, JsonPathError> {
    Ok(match node {
        Node::Text(t) => vec![Cow::Owned(J::String(t.clone()))],
        Node::Int(i) => input.iter().map(|_| Cow::Owned(J::from(*i))).collect(),
        Node::Float(f) => input
            .iter()
            .map(|_| Cow::Owned(serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)))
            .collect(),
        Node::Bool(b) => input.iter().map(|_| Cow::Owned(J::Bool(*b))).collect(),
        Node::Identifier(w) if w == "end" => return err("not in range, nothing to end"),
        Node::Identifier(w) if w == "range" => input,
        Node::Identifier(w) => return err(format!("unrecognized identifier {w}")),
        Node::Field(name) => {
            let mut out = Vec::new();
            for v in input {
                match v {
                    Cow::Borrowed(J::Object(m)) => {
                        if let Some(x) = m.get(name) {
                            out.push(Cow::Borrowed(x));
                        }
                    }
                    Cow::Owned(J::Object(mut m)) => {
                        if let Some(x) = m.remove(name) {
                            out.push(Cow::Owned(x));
                        }
                    }
                    _ => {}
                }
            }
            out
        }
        Node::Wildcard => input.iter().flat_map(children).collect(),
        Node::Recursive => {
            let mut out = Vec::new();
            for v in input {
                recurse(v, &mut out);
            }
            out
        }
        Node::Union(lists) => {
            let mut out = Vec::new();
            for l in lists {
                out.extend(eval_list(input.clone(), l)?);
            }
            out
        }
        Node::Array(params) => {
            let mut out = Vec::new();
            for v in input {
                if v.is_null() {
                    continue;
                }
                let len = match v.as_array() {
                    Some(a) => a.len() as i64,
                    None => return err(format!("{} is not array or slice", type_name(&v))),
                };
                let mut p = *params;
                if !p[0].known {
                    p[0].value = 0;
                }
                if p[0].value < 0 {
                    p[0].value += len;
                }
                if !p[1].known {
                    p[1].value = len;
                }
                if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
                    p[1].value += len;
                }
                if p[1].value == p[0].value {
                    return Ok(out);
                }
                if p[0].value >= len || p[0].value < 0 {
                    return err(format!(
                        "array index out of bounds: index {}, length {len}",
                        p[0].value
                    ));
                }
                if p[1].value > len || p[1].value < 0 {
                    return err(format!(
                        "array index out of bounds: index {}, length {len}",
                        p[1].value - 1
                    ));
                }
                if p[0].value > p[1].value {
                    return err(format!(
                        "starting index {} is greater than ending index {}",
                        p[0].value, p[1].value
                    ));
                }
                let step = if p[2].known {
                    if p[2].value <= 0 {
                        return err("step must be > 0");
                    }
                    p[2].value as usize
                } else {
                    1
                };
                let items = children(&v);
                let (a, b) = (p[0].value as usize, p[1].value as usize);
                out.extend(items.into_iter().skip(a).take(b - a).step_by(step));
            }
            out
        }
        Node::Filter { left, right, op } => {
            let mut out = Vec::new();
            for v in input {
                if !v.is_array() {
                    return err(format!(
                        "{} is not array or slice and cannot be filtered",
                        type_name(&v)
                    ));
                }
                for item in children(&v) {
                    let lefts = eval_list(vec![item.clone()], left)?;
                    if op == "exists" {
                        if !lefts.is_empty() {
                            out.push(item);
                        }
                        continue;
                    }
                    match lefts.len() {
                        0 => continue,
                        1 => {}
                        _ => return err("can only compare one element at a time"),
                    }
                    let rights = eval_list(vec![item.clone()], right)?;
                    match rights.len() {
                        0 => continue,
                        1 => {}
                        _ => return err("can only compare one element at a time"),
                    }
                    if compare(&lefts[0], &rights[0], op)? {
                        out.push(item);
                    }
                }
            }
            out
        }
    })
}

fn recurse<'a>(v: Cow<'a, J>, out: &mut Vec<Cow<'a, J>>) {
    let kids = children(&v);
    if kids.is_empty() {
        return;
    }
    out.push(v);
    for k in kids {
        recurse(k, out);
    }
}

/// Go template comparison: both sides of one basic kind (integers with
/// integers, floats with floats, strings, bools for `==`/`!=`).
fn compare(l: &J, r: &J, op: &str) -> Result<bool, JsonPathError> {
    use std::cmp::Ordering;
    let incompatible = || JsonPathError("incompatible types for comparison".into());
    let invalid = || JsonPathError("invalid type for comparison".into());
    let ord: Option<Ordering> = match (l, r) {
        (J::Number(a), J::Number(b)) => {
            let af = a.is_f64();
            if af != b.is_f64() {
                return Err(incompatible());
            }
            if af {
                a.as_f64().partial_cmp(&b.as_f64())
            } else {
                match (a.as_i64(), b.as_i64()) {
                    (Some(x), Some(y)) => Some(x.cmp(&y)),
                    _ => a.as_u64().partial_cmp(&b.as_u64()),
                }
            }
        }
        (J::String(a), J::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (J::Bool(a), J::Bool(b)) => {
            return match op {
                "==" => Ok(a == b),
                "!=" => Ok(a != b),
                _ => Err(invalid()),
            }
        }
        (J::Null | J::Array(_) | J::Object(_), _) | (_, J::Null | J::Array(_) | J::Object(_)) => {
            return Err(invalid())
        }
        _ => return Err(incompatible()),
    };
    let Some(o) = ord else {
        return Ok(op == "!=");
    };
    Ok(match op {
        "==" => o == Ordering::Equal,
        "!=" => o != Ordering::Equal,
        "<" => o == Ordering::Less,
        ">" => o == Ordering::Greater,
        "<=" => o != Ordering::Greater,
        ">=" => o != Ordering::Less,
        _ => return err(format!("unrecognized filter operator {op}")),
    })
}

/// A scalar as Go's `fmt.Print` shows it (`null` for JSON null, as
/// kubectl prints it).
pub(crate) fn go_text(s: &mut String, v: &J) {
    match v {
        J::Null => s.push_str("null"),
        J::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => go_number(s, n, false),
        J::String(t) => s.push_str(t),
        other => go_json(s, other),
    }
}

/// Writes `open`, then each item with `sep` between them (the caller
/// closes): the one loop of Go's `%v` and JSON writers for lists and maps.
fn go_seq<T>(
    s: &mut String,
    open: &str,
    sep: &str,
    items: impl IntoIterator<Item = T>,
    mut each: impl FnMut(&mut String, T),
) {
    s.push_str(open);
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        each(s, x);
    }
}

/// A map's entries in key order, as Go prints and marshals maps.
fn sorted(m: &serde_json::Map<String, J>) -> Vec<(&String, &J)> {
    let mut e: Vec<(&String, &J)> = m.iter().collect();
    e.sort_by(|a, b| a.0.cmp(b.0));
    e
}

/// A value as Go's `fmt.Sprintf("%v")` shows it: what custom-columns
/// print (`map[k:v]`, `[a b]`, `<nil>`).
pub fn go_value(s: &mut String, v: &J) {
    match v {
        J::Null => s.push_str("<nil>"),
        J::Array(a) => {
            go_seq(s, "[", " ", a, go_value);
            s.push(']');
        }
        J::Object(m) => {
            go_seq(s, "map[", " ", sorted(m), |s, (k, v)| {
                s.push_str(k);
                s.push(':');
                go_value(s, v);
            });
            s.push(']');
        }
        other => go_text(s, other),
    }
}

/// A number as Go prints it: integers in decimal; floats with `%v`
/// (`1e+06`, `1.5`) or, in JSON, as `encoding/json` writes them.
fn go_number(s: &mut String, n: &serde_json::Number, json: bool) {
    if !n.is_f64() {
        let _ = write!(s, "{n}");
        return;
    }
    let f = n.as_f64().unwrap_or(0.0);
    // kubectl's unstructured decoding keeps integral values as integers.
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        let _ = write!(s, "{}", f as i64);
        return;
    }
    let abs = f.abs();
    let exp_form = if json {
        abs != 0.0 && !(1e-6..1e21).contains(&abs)
    } else {
        abs != 0.0 && !(1e-4..1e21).contains(&abs)
    };
    if !exp_form {
        let _ = write!(s, "{f}");
        return;
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let _ = write!(
        s,
        "{mant}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    );
}

/// Compact JSON as Go's `encoding/json` writes it: map keys sorted,
/// `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub(crate) fn go_json(s: &mut String, v: &J) {
    match v {
        J::Null => s.push_str("null"),
        J::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => go_number(s, n, true),
        J::String(t) => go_json_string(s, t),
        J::Array(a) => {
            go_seq(s, "[", ",", a, go_json);
            s.push(']');
        }
        J::Object(m) => {
            go_seq(s, "{", ",", sorted(m), |s, (k, v)| {
                go_json_string(s, k);
                s.push(':');
                go_json(s, v);
            });
            s.push('}');
        }
    }
}

/// Go's `json.MarshalIndent(v, "", "    ")`.
fn go_json_indent(s: &mut String, v: &J, level: usize) {
    let pad = |s: &mut String, l: usize| {
        s.push('\n');
        s.extend(std::iter::repeat_n("    ", l));
    };
    match v {
        J::Array(a) if !a.is_empty() => {
            go_seq(s, "[", ",", a, |s, x| {
                pad(s, level + 1);
                go_json_indent(s, x, level + 1);
            });
            pad(s, level);
            s.push(']');
        }
        J::Object(m) if !m.is_empty() => {
            go_seq(s, "{", ",", sorted(m), |s, (k, v)| {
                pad(s, level + 1);
                go_json_string(s, k);
                s.push_str(": ");
                go_json_indent(s, v, level + 1);
            });
            pad(s, level);
            s.push('}');
        }
        other => go_json(s, other),
    }
}

fn go_json_string(s: &mut String, t: &str) {
    s.push('"');
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

/// kubectl's `--sort-by` order of two values: natural order for strings
/// (quantities such as `500Mi` by amount), numbers by value, `false`
/// before `true`.
pub fn sort_less(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::String(x), J::String(y)) => match (quantity(x), quantity(y)) {
            (Some(p), Some(q)) => p < q,
            _ => natural_less(x, y),
        },
        (J::Number(x), J::Number(y)) => x.as_f64() < y.as_f64(),
        (J::Bool(x), J::Bool(y)) => !x && *y,
        (J::Null, J::Null) => false,
        (J::Null, _) => true,
        _ => false,
    }
}

/// A Kubernetes quantity (`100m`, `1.5Gi`, `2e3`) as a number.
fn quantity(s: &str) -> Option<f64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    if num.is_empty() || !num.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * mult)
}

/// Natural order: runs of digits compare by value (fewer leading zeros
/// first on a tie), other bytes bytewise, digits before other bytes.
pub(crate) fn natural_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return da;
        }
        if !da {
            if a[i] != b[j] {
                return a[i] < b[j];
            }
            i += 1;
            j += 1;
            continue;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (nz_a, nz_b) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (la, lb) = (i - nz_a, j - nz_b);
        if la != lb {
            return la < lb;
        }
        if a[nz_a..i] != b[nz_b..j] {
            return a[nz_a..i] < b[nz_b..j];
        }
        if nz_a != nz_b {
            return nz_a < nz_b;
        }
    }
    a.len() < b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, v: &J) -> String {
        Template::parse(t).unwrap().render(v).unwrap()
    }

    fn data() -> J {
        json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "web", "app.kubernetes.io/name": "x"}},
             "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}},
            {"metadata": {"name": "b"}, "spec": {"ports": [{"port": 8080}]}}
        ]})
    }

    #[test]
    fn fields_text_and_lists() {
        let d = data();
        assert_eq!(r("{.kind}", &d), "List");
        assert_eq!(r("k={.kind}\n", &d), "k=List\n");
        assert_eq!(r("{.items[*].metadata.name}", &d), "a b");
        assert_eq!(
            r("{.items[0].metadata.labels}", &d),
            r#"{"app":"web","app.kubernetes.io/name":"x"}"#
        );
        assert_eq!(
            r(r"{.items[0].metadata.labels.app\.kubernetes\.io/name}", &d),
            "x"
        );
        assert_eq!(r("{['kind']}", &d), "List");
        assert_eq!(r("{.items[-1].metadata.name}", &d), "b");
        assert_eq!(r("{.items[0].spec.ports[0,1].port}", &d), "80 443");
        assert_eq!(r("{.missing}", &d), "");
        assert_eq!(r("{..port}", &d), "80 443 8080");
    }

    #[test]
    fn range_and_filters() {
        let d = data();
        assert_eq!(
            r(
                r#"{range .items[*]}{.metadata.name}{"\t"}{range .spec.ports[*]}{.port},{end}{"\n"}{end}"#,
                &d
            ),
            "a\t80,443,\nb\t8080,\n"
        );
        assert_eq!(
            r(r#"{.items[*].spec.ports[?(@.name=="https")].port}"#, &d),
            "443"
        );
        assert_eq!(
            r("{.items[*].spec.ports[?(@.port>100)].port}", &d),
            "443 8080"
        );
        assert_eq!(r("{.items[?(@.metadata.labels)].metadata.name}", &d), "a");
        assert_eq!(r("{range .nothing[*]}x{end}done", &d), "done");
    }

    #[test]
    fn errors_as_kubectl_words_them() {
        let d = data();
        let e = |t: &str| Template::parse(t).and_then(|t| t.render(&d)).unwrap_err().0;
        assert_eq!(
            e("{.items[5]}"),
            "array index out of bounds: index 5, length 2"
        );
        assert_eq!(e("{end}"), "not in range, nothing to end");
        assert_eq!(e("{.kind[*]}"), "string is not array or slice");
        assert_eq!(e("{.items"), "unclosed action");
        assert_eq!(
            e("{.items[*].spec.ports[?(@.port==1.5)]}"),
            "incompatible types for comparison"
        );
    }

    #[test]
    fn go_formatting() {
        let mut s = String::new();
        go_json(&mut s, &json!({"b": "<&>", "a": [1, 1.5, null]}));
        assert_eq!(s, r#"{"a":[1,1.5,null],"b":"\u003c\u0026\u003e"}"#);
        let mut s = String::new();
        go_value(&mut s, &json!({"b": ["x", 2], "a": null}));
        assert_eq!(s, "map[a:<nil> b:[x 2]]");
        let mut s = String::new();
        go_json_indent(&mut s, &json!({"b": {}, "a": [1, "x", []]}), 0);
        assert_eq!(
            s,
            "{\n    \"a\": [\n        1,\n        \"x\",\n        []\n    ],\n    \"b\": {}\n}"
        );
    }

    #[test]
    fn natural_and_quantity_order() {
        assert!(natural_less("pod-2", "pod-10"));
        assert!(!natural_less("pod-10", "pod-2"));
        assert!(natural_less("a", "ab"));
        assert!(!natural_less("a", "a"));
        assert!(sort_less(&json!("500Mi"), &json!("1Gi")));
        assert!(sort_less(&json!(2), &json!(10)));
    }

    #[test]
    fn relaxed_paths() {
        let d = data();
        for p in ["kind", ".kind", "{kind}", "{.kind}"] {
            assert_eq!(
                Template::parse_relaxed(p).unwrap().render(&d).unwrap(),
                "List"
            );
        }
    }
}
