//! A zero-copy protobuf wire-format reader: varints and fields as slices of
//! the input. Used on hot paths (every `KeyValue` of the `key` bucket) where
//! allocating a decoded message per value would cost more than the decode.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WireError {
    #[error("truncated varint at byte {0}")]
    TruncatedVarint(usize),
    #[error("varint longer than 10 bytes at byte {0}")]
    LongVarint(usize),
    #[error("field {field}: length {len} at byte {at} runs past the end ({end} bytes)")]
    Length {
        field: u32,
        len: u64,
        at: usize,
        end: usize,
    },
    #[error("field {field}: wire type {wire} at byte {at} is not supported")]
    WireType { field: u32, wire: u8, at: usize },
    #[error("field number 0 at byte {0}")]
    FieldZero(usize),
    #[error("field {field}: expected wire type {expected}, found {found}")]
    Mismatch { field: u32, expected: u8, found: u8 },
}

/// One field's value as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    pub(crate) fn wire_type(&self) -> u8 {
        match self {
            Value::Varint(_) => 0,
            Value::Fixed64(_) => 1,
            Value::Bytes(_) => 2,
            Value::Fixed32(_) => 5,
        }
    }
}

/// Reads a varint at `*pos`, advancing it.
#[inline(always)]
pub(crate) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    // Most varints (tags, small lengths and numbers) are one byte: that
    // case inline in the caller, the rest out of line.
    if let Some(&b) = buf.get(*pos) {
        if b < 0x80 {
            *pos += 1;
            return Ok(u64::from(b));
        }
    }
    read_varint_long(buf, pos)
}

#[inline(never)]
fn read_varint_long(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let start = *pos;
    let mut v: u64 = 0;
    for i in 0..10 {
        let b = *buf.get(*pos).ok_or(WireError::TruncatedVarint(start))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(WireError::LongVarint(start))
}

/// Appends a varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
/// Appends a length-delimited field (`n`, bytes).
pub(crate) fn put_bytes_field(out: &mut Vec<u8>, n: u32, b: &[u8]) {
    put_varint(out, u64::from(n << 3 | 2));
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Iterates the fields of one message.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    #[inline]
    pub fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields {
            buf,
            pos: 0,
            failed: false,
        }
    }

    #[inline]
    fn next_field(&mut self) -> Result<(u32, Value<'a>), WireError> {
        next_field(self.buf, &mut self.pos)
    }
}

/// The next `len` bytes at `*pos`, advancing it.
#[inline(always)]
fn take<'a>(buf: &'a [u8], pos: &mut usize, field: u32, len: u64) -> Result<&'a [u8], WireError> {
    let end = buf.len();
    if len > (end - *pos) as u64 {
        return Err(WireError::Length {
            field,
            len,
            at: *pos,
            end,
        });
    }
    let s = &buf[*pos..*pos + len as usize];
    *pos += len as usize;
    Ok(s)
}

/// Reads the field at `*pos` of `buf`, advancing `pos` (the step of
/// [`Fields`], for callers that keep their own position).
#[inline(always)]
pub(crate) fn next_field<'a>(
    buf: &'a [u8],
    pos: &mut usize,
) -> Result<(u32, Value<'a>), WireError> {
    let at = *pos;
    // Most fields of a Kubernetes object are a one-byte tag (field 1–15)
    // and a one-byte length or value: those decided here with no branch
    // on the wire type's table; anything else, and any error, below.
    if let Some(&[t, x]) = buf.get(at..at + 2) {
        if (8..0x80).contains(&t) && x < 0x80 {
            match t & 7 {
                2 => {
                    if let Some(v) = buf.get(at + 2..at + 2 + x as usize) {
                        *pos = at + 2 + x as usize;
                        return Ok((u32::from(t >> 3), Value::Bytes(v)));
                    }
                }
                0 => {
                    *pos = at + 2;
                    return Ok((u32::from(t >> 3), Value::Varint(u64::from(x))));
                }
                _ => {}
            }
        }
    }
    let tag = read_varint(buf, pos)?;
    let field = (tag >> 3) as u32;
    let wire = (tag & 7) as u8;
    if field == 0 {
        return Err(WireError::FieldZero(at));
    }
    let v = match wire {
        0 => Value::Varint(read_varint(buf, pos)?),
        1 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(take(buf, pos, field, 8)?);
            Value::Fixed64(u64::from_le_bytes(a))
        }
        2 => {
            let len = read_varint(buf, pos)?;
            Value::Bytes(take(buf, pos, field, len)?)
        }
        5 => {
            let s = take(buf, pos, field, 4)?;
            Value::Fixed32(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        }
        w => return Err(WireError::WireType { field, wire: w, at }),
    };
    Ok((field, v))
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let r = self.next_field();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

/// Reads a field expected to be a varint.
pub(crate) fn expect_varint(field: u32, v: Value<'_>) -> Result<u64, WireError> {
    match v {
        Value::Varint(x) => Ok(x),
        other => Err(WireError::Mismatch {
            field,
            expected: 0,
            found: other.wire_type(),
        }),
    }
}

/// Reads a field expected to be length-delimited.
pub(crate) fn expect_bytes(field: u32, v: Value<'_>) -> Result<&[u8], WireError> {
    match v {
        Value::Bytes(b) => Ok(b),
        other => Err(WireError::Mismatch {
            field,
            expected: 2,
            found: other.wire_type(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_roundtrip() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut p = 0;
            assert_eq!(read_varint(&b, &mut p).unwrap(), v);
            assert_eq!(p, b.len());
        }
    }

    #[test]
    fn hostile_inputs_error() {
        // Length larger than the buffer.
        let b = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];
        let r: Vec<_> = Fields::new(&b).collect();
        assert!(matches!(r[0], Err(WireError::Length { .. })));
        // Truncated varint.
        let b = [0x08, 0x80];
        assert!(matches!(
            Fields::new(&b).next(),
            Some(Err(WireError::TruncatedVarint(1)))
        ));
        // Group wire type.
        let b = [0x0b];
        assert!(matches!(
            Fields::new(&b).next(),
            Some(Err(WireError::WireType { wire: 3, .. }))
        ));
        // Eleven-byte varint.
        let b = [
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert!(matches!(
            Fields::new(&b).next(),
            Some(Err(WireError::LongVarint(1)))
        ));
        // One-byte tag and one-byte length past the end (the short path
        // of `next_field` must leave it to the checked one).
        let b = [0x0a, 0x05, b'a'];
        assert!(matches!(
            Fields::new(&b).next(),
            Some(Err(WireError::Length { len: 5, at: 2, .. }))
        ));
        // Field number 0 with a one-byte value.
        let b = [0x00, 0x01];
        assert!(matches!(
            Fields::new(&b).next(),
            Some(Err(WireError::FieldZero(0)))
        ));
    }

    #[test]
    fn short_fields_decode_as_long_ones() {
        // Each shape of the one-byte fast path next to its longer spelling.
        let b = [
            0x0a, 0x00, 0x12, 0x02, b'h', b'i', 0x18, 0x7f, 0x20, 0x80, 0x01,
        ];
        let got: Vec<_> = Fields::new(&b)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(
            got,
            vec![
                (1, Value::Bytes(b"")),
                (2, Value::Bytes(b"hi")),
                (3, Value::Varint(127)),
                (4, Value::Varint(128)),
            ]
        );
        let mut pos = 0;
        for want in [2, 6, 8, 11] {
            assert!(next_field(&b, &mut pos).is_ok());
            assert_eq!(pos, want);
        }
    }
}
