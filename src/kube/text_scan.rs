//! Scanning text sixteen bytes at a time: how many leading bytes of a
//! string need no look from the byte-by-byte rules of an output (JSON's
//! escapes in [`super::json_emit`], YAML's plain-scalar test in
//! [`super::yaml_scalar`]). Long values (Secret and ConfigMap data,
//! certificates, CR payloads) are most of the string bytes of a listing.
//! It owns no rule of either format, only the block work they share: the
//! test, copies of short texts as one fixed block ([`append_prefix`]),
//! and bytes fields as base64 ([`append_base64`]).

/// The exact length of the longest prefix of `b` with no byte below
/// `below` as a signed byte (so none from 0x80 up) and none in `stops`,
/// sixteen bytes at a time (SSE2, x86_64's baseline; elsewhere a plain
/// loop), the last partial block tested as the last sixteen bytes again,
/// or a short string's bytes in one vector. Most strings of a listing are
/// short and need no escape: one vector test decides them (below eight
/// bytes, a byte loop).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn plain_len<const N: usize>(b: &[u8], below: u8, stops: [u8; N]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_set_epi64x,
    };
    // Lanes holding a stop byte, as bits.
    #[inline(always)]
    fn stop_bits<const N: usize>(v: __m128i, below: u8, stops: [u8; N]) -> u32 {
        // SAFETY: SSE2 is part of the x86_64 baseline; no memory access.
        unsafe {
            let mut stop = _mm_cmplt_epi8(v, _mm_set1_epi8(below as i8));
            for s in stops {
                stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, _mm_set1_epi8(s as i8)));
            }
            _mm_movemask_epi8(stop) as u32
        }
    }
    #[inline(always)]
    fn block(b: &[u8]) -> __m128i {
        debug_assert_eq!(b.len(), 16);
        // SAFETY: `b` holds sixteen bytes (every caller passes a
        // sixteen-byte slice), read by an unaligned load; SSE2 is part of
        // the x86_64 baseline.
        unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
    }
    let word = |at: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[at..at + 8]);
        i64::from_le_bytes(a)
    };
    let n = b.len();
    if n >= 16 {
        let mut i = 0;
        while let Some(c) = b.get(i..i + 16) {
            let m = stop_bits(block(c), below, stops);
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
        if i == n {
            return n;
        }
        // The last sixteen bytes; those before `i` are known plain, so the
        // first stop found is at or after `i`.
        let at = n - 16;
        let m = stop_bits(block(&b[at..]), below, stops);
        return if m == 0 {
            n
        } else {
            at + m.trailing_zeros() as usize
        };
    }
    if n >= 8 {
        // Lanes 0–7: the first eight bytes; lanes 8–15: the last eight.
        // SAFETY: SSE2 is part of the x86_64 baseline; no memory access.
        let v = unsafe { _mm_set_epi64x(word(n - 8), word(0)) };
        let m = stop_bits(v, below, stops);
        return match (m & 0xff, m >> 8) {
            (0, 0) => n,
            (0, hi) => n - 8 + hi.trailing_zeros() as usize,
            (lo, _) => lo.trailing_zeros() as usize,
        };
    }
    b.iter()
        .position(|&c| (c as i8) < below as i8 || stops.contains(&c))
        .unwrap_or(n)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(crate) fn plain_len<const N: usize>(b: &[u8], below: u8, stops: [u8; N]) -> usize {
    b.iter()
        .position(|&c| (c as i8) < below as i8 || stops.contains(&c))
        .unwrap_or(b.len())
}

/// How many bytes [`append_prefix`] copies at once; the schema pads the
/// key texts the writers copy to at least this length.
pub(crate) const BLOCK: usize = 32;

/// Appends the first `len` bytes of `src` to `out`: when `src` holds a
/// whole [`BLOCK`] and `len` fits in one, by copying the fixed block (a
/// few vector moves, where a copy of a length known only at run time is a
/// call) and cutting `out` back. Keys and line starts, written tens of
/// millions of times in a listing, are this short. `false`, nothing
/// written, when `src` is shorter than `len`.
#[inline(always)]
pub(crate) fn append_prefix(out: &mut Vec<u8>, src: &[u8], len: usize) -> bool {
    match src.first_chunk::<BLOCK>() {
        Some(block) if len <= BLOCK => {
            let at = out.len();
            out.extend_from_slice(block);
            out.truncate(at + len);
            true
        }
        _ => match src.get(..len) {
            Some(s) => {
                out.extend_from_slice(s);
                true
            }
            None => false,
        },
    }
}

/// Appends `b` as standard base64 with padding (a Secret's data, any
/// `bytes` field), written straight into `out`'s spare room by
/// `base64-simd`, whose vector code (SSSE3/AVX2, chosen at run time)
/// encodes Secret data several times faster than the scalar engine of
/// the `base64` crate, which the rest of the crate keeps for decoding and
/// for small values.
#[inline]
pub(crate) fn append_base64(out: &mut Vec<u8>, b: &[u8]) {
    base64_simd::STANDARD.encode_append(b, out);
}

#[cfg(test)]
mod tests {
    use super::{append_base64, append_prefix, plain_len, BLOCK};

    #[test]
    fn append_base64_writes_what_the_base64_crate_writes() {
        use base64::Engine as _;
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        for n in 0..data.len() {
            let mut out = b"x".to_vec();
            append_base64(&mut out, &data[..n]);
            let want = base64::engine::general_purpose::STANDARD.encode(&data[..n]);
            assert_eq!(&out[1..], want.as_bytes(), "{n} bytes");
        }
    }

    #[test]
    fn append_prefix_appends_exactly_the_prefix() {
        let src: Vec<u8> = (0..80u8).collect();
        for src_len in [0, 5, BLOCK - 1, BLOCK, BLOCK + 7, 80] {
            for len in 0..=src_len + 2 {
                let mut out = b"head".to_vec();
                let ok = append_prefix(&mut out, &src[..src_len], len);
                assert_eq!(ok, len <= src_len, "{len} of {src_len}");
                let want = if ok { &src[..len] } else { &[][..] };
                assert_eq!(&out[..4], b"head");
                assert_eq!(&out[4..], want, "{len} of {src_len}");
            }
        }
    }

    #[test]
    fn plain_len_finds_the_first_low_high_or_listed_byte() {
        for n in 0..=40usize {
            for c in 0..=255u8 {
                for at in 0..n {
                    let mut a = vec![b'a'; n];
                    a[at] = c;
                    let stopped = (c as i8) < 0x20 || c == b'"' || c == b'<';
                    let want = if stopped { at } else { n };
                    assert_eq!(
                        plain_len(&a, 0x20, [b'"', b'<']),
                        want,
                        "{c:#x} at {at} of {n}"
                    );
                }
            }
            assert_eq!(plain_len(&vec![b'a'; n], 0x20, [b'"']), n);
        }
        // Two stops: the first one counts, in every part of the string.
        for n in 2..=40usize {
            for x in 0..n {
                for y in x + 1..n {
                    let mut a = vec![b'a'; n];
                    a[x] = b'"';
                    a[y] = 0x80;
                    assert_eq!(plain_len(&a, 0x20, [b'"']), x, "{x} {y} of {n}");
                }
            }
        }
    }
}
