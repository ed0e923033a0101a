//! CRC-32C (Castagnoli) helpers beyond the `crc32c` crate: a combine that
//! costs O(log n) small multiplications, so CRCs of pieces computed in
//! parallel can be joined into the CRC of their concatenation.
//!
//! Method: crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B), in the reflected bit
//! order CRC-32C uses; x^(2^k) mod P are precomputed (as zlib ≥ 1.2.12 does).

/// Reflected CRC-32C polynomial.
const POLY: u32 = 0x82F6_3B78;

/// a·b modulo P (reflected: bit 31 is x^0).
const fn mult_mod_p(a: u32, mut b: u32) -> u32 {
    let mut m: u32 = 1 << 31;
    let mut p: u32 = 0;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
        if m == 0 {
            break;
        }
    }
    p
}

/// x^(2^k) mod P for k = 0..64.
const fn x2n_table() -> [u32; 64] {
    let mut t = [0u32; 64];
    let mut p: u32 = 1 << 30; // x^1
    t[0] = p;
    let mut n = 1;
    while n < 64 {
        p = mult_mod_p(p, p);
        t[n] = p;
        n += 1;
    }
    t
}

static X2N: [u32; 64] = x2n_table();

/// x^(8·len) mod P.
fn x8nmodp(mut len: u64) -> u32 {
    let mut p: u32 = 1 << 31; // x^0
    let mut k = 3; // 8 = 2^3
    while len != 0 {
        if len & 1 != 0 {
            p = mult_mod_p(X2N[k & 63], p);
        }
        len >>= 1;
        k += 1;
    }
    p
}

/// The CRC-32C of `A‖B` from `crc(A)`, `crc(B)` and `|B|`.
pub(crate) fn crc_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    if len_b == 0 {
        return crc_a;
    }
    mult_mod_p(x8nmodp(len_b), crc_a) ^ crc_b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_equals_sequential() {
        let data: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let whole = crc32c::crc32c(&data);
        for cut in [0usize, 1, 7, 4096, 50_000, 99_999, 100_000] {
            let (a, b) = data.split_at(cut);
            let c = crc_combine(crc32c::crc32c(a), crc32c::crc32c(b), b.len() as u64);
            assert_eq!(c, whole, "cut at {cut}");
            assert_eq!(
                c,
                crc32c::crc32c_combine(crc32c::crc32c(a), crc32c::crc32c(b), b.len())
            );
        }
    }

    #[test]
    fn known_vector() {
        // CRC-32C("123456789") = 0xE3069283.
        let a = crc32c::crc32c(b"12345");
        let b = crc32c::crc32c(b"6789");
        assert_eq!(crc_combine(a, b, 4), 0xE306_9283);
    }
}
