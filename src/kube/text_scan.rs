//! Scanning text sixteen bytes at a time: how many leading bytes of a
//! string need no look from the byte-by-byte rules of an output (JSON's
//! escapes in [`super::json_emit`], YAML's plain-scalar test in
//! [`super::yaml_scalar`]). Long values (Secret and ConfigMap data,
//! certificates, CR payloads) are most of the string bytes of a listing.
//! It owns no rule of either format, only the block test they share.

/// The length of the longest prefix of `b`, in whole blocks of sixteen
/// bytes, with no byte below `below` as a signed byte (so every byte
/// from 0x80 up stops it too, whatever `below` is) and none equal to one
/// of `stops`: when it stops short of the last whole block, the block at
/// the returned offset holds such a byte. SSE2 (x86_64's baseline) tests
/// a block in a few instructions; elsewhere a plain loop does the same.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn plain_blocks<const N: usize>(b: &[u8], below: u8, stops: [u8; N]) -> usize {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let mut i = 0;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these instructions
    // exist on every machine the binary runs on; each load reads the
    // sixteen bytes of `block`, a slice of `b` (an unaligned load).
    unsafe {
        let low = _mm_set1_epi8(below as i8);
        let stops = stops.map(|c| _mm_set1_epi8(c as i8));
        while let Some(block) = b.get(i..i + 16) {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            let mut stop = _mm_cmplt_epi8(v, low);
            for s in stops {
                stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, s));
            }
            if _mm_movemask_epi8(stop) != 0 {
                break;
            }
            i += 16;
        }
    }
    i
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(crate) fn plain_blocks<const N: usize>(b: &[u8], below: u8, stops: [u8; N]) -> usize {
    let mut i = 0;
    while let Some(block) = b.get(i..i + 16) {
        if block
            .iter()
            .any(|&c| (c as i8) < below as i8 || stops.contains(&c))
        {
            break;
        }
        i += 16;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::plain_blocks;

    #[test]
    fn stops_at_the_block_holding_a_low_high_or_listed_byte() {
        for c in 0..=255u8 {
            for at in [0usize, 5, 15, 16, 33, 47] {
                let mut a = [b'a'; 50];
                a[at] = c;
                let stopped = (c as i8) < 0x21 || c == b':' || c == b'#';
                let want = if stopped { at / 16 * 16 } else { 48 };
                assert_eq!(plain_blocks(&a, 0x21, [b':', b'#']), want, "{c:#x} at {at}");
            }
        }
        assert_eq!(plain_blocks(b"short", 0x20, [b'"']), 0);
    }
}
