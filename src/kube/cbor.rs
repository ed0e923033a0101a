//! A small decoder for the CBOR subset Kubernetes writes (docs/kubernetes.md):
//! definite lengths, text carried as byte strings, `[]byte` under tag 22,
//! self-described tag 55799. Output is JSON as the apiserver would serve it
//! (map keys sorted, like Go's encoding/json on a map).

use base64::Engine as _;
use serde_json::{Map, Number, Value as J};

use super::KubeError;

/// Nesting limit for hostile input.
pub const MAX_DEPTH: usize = 128;

/// Decodes one CBOR data item (trailing bytes are an error).
pub(crate) fn decode(b: &[u8]) -> Result<J, KubeError> {
    let mut d = Dec { b, p: 0 };
    let v = d.item(0, false)?;
    if d.p != b.len() {
        return Err(d.err("trailing bytes"));
    }
    Ok(v)
}

struct Dec<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Dec<'a> {
    fn err(&self, what: &'static str) -> KubeError {
        KubeError::Cbor { at: self.p, what }
    }

    fn byte(&mut self) -> Result<u8, KubeError> {
        let c = *self.b.get(self.p).ok_or_else(|| self.err("truncated"))?;
        self.p += 1;
        Ok(c)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], KubeError> {
        if n > (self.b.len() - self.p) as u64 {
            return Err(self.err("length runs past the end"));
        }
        let s = &self.b[self.p..self.p + n as usize];
        self.p += n as usize;
        Ok(s)
    }

    /// The argument of an initial byte with additional info `ai`.
    fn arg(&mut self, ai: u8) -> Result<u64, KubeError> {
        Ok(match ai {
            0..=23 => u64::from(ai),
            24 => u64::from(self.byte()?),
            25 => {
                let s = self.take(2)?;
                u64::from(u16::from_be_bytes([s[0], s[1]]))
            }
            26 => {
                let s = self.take(4)?;
                u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
            }
            27 => {
                let s = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                u64::from_be_bytes(a)
            }
            31 => return Err(self.err("indefinite length (Kubernetes never writes it)")),
            _ => return Err(self.err("reserved additional information")),
        })
    }

    fn text(&mut self) -> Result<String, KubeError> {
        let ib = self.byte()?;
        let (mt, ai) = (ib >> 5, ib & 31);
        if mt != 2 && mt != 3 {
            self.p -= 1;
            return Err(self.err("map key is not a string"));
        }
        let n = self.arg(ai)?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn item(&mut self, depth: usize, b64: bool) -> Result<J, KubeError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        let ib = self.byte()?;
        let (mt, ai) = (ib >> 5, ib & 31);
        match mt {
            0 => Ok(J::Number(self.arg(ai)?.into())),
            1 => {
                let n = self.arg(ai)?;
                Ok(match i64::try_from(n) {
                    Ok(x) => J::Number((-1 - x).into()),
                    Err(_) => Number::from_f64(-1.0 - n as f64).map_or(J::Null, J::Number),
                })
            }
            2 | 3 => {
                let n = self.arg(ai)?;
                let s = self.take(n)?;
                if b64 || (mt == 2 && std::str::from_utf8(s).is_err()) {
                    Ok(J::String(
                        base64::engine::general_purpose::STANDARD.encode(s),
                    ))
                } else {
                    Ok(J::String(String::from_utf8_lossy(s).into_owned()))
                }
            }
            4 => {
                let n = self.arg(ai)?;
                // Every item takes at least one byte.
                if n > (self.b.len() - self.p) as u64 {
                    return Err(self.err("array length runs past the end"));
                }
                let mut a = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    a.push(self.item(depth + 1, false)?);
                }
                Ok(J::Array(a))
            }
            5 => {
                let n = self.arg(ai)?;
                if n > (self.b.len() - self.p) as u64 / 2 {
                    return Err(self.err("map length runs past the end"));
                }
                let mut kv = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let k = self.text()?;
                    let v = self.item(depth + 1, false)?;
                    kv.push((k, v));
                }
                kv.sort_by(|a, b| a.0.cmp(&b.0));
                let mut m = Map::with_capacity(kv.len());
                for (k, v) in kv {
                    m.insert(k, v);
                }
                Ok(J::Object(m))
            }
            6 => {
                let tag = self.arg(ai)?;
                // 22: expected base64; everything else is rendered as its content.
                self.item(depth + 1, tag == 22)
            }
            _ => match ai {
                20 => Ok(J::Bool(false)),
                21 => Ok(J::Bool(true)),
                22 | 23 => Ok(J::Null),
                25 => {
                    let s = self.take(2)?;
                    Ok(float(f16_to_f64(u16::from_be_bytes([s[0], s[1]]))))
                }
                26 => {
                    let s = self.take(4)?;
                    Ok(float(f64::from(f32::from_bits(u32::from_be_bytes([
                        s[0], s[1], s[2], s[3],
                    ])))))
                }
                27 => {
                    let s = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    Ok(float(f64::from_bits(u64::from_be_bytes(a))))
                }
                _ => Err(self.err("unsupported simple value")),
            },
        }
    }
}

fn float(f: f64) -> J {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return J::Number((f as i64).into());
    }
    Number::from_f64(f).map_or(J::Null, J::Number)
}

fn f16_to_f64(h: u16) -> f64 {
    let exp = (h >> 10) & 0x1f;
    let mant = f64::from(h & 0x3ff);
    let v = match exp {
        0 => mant * 2f64.powi(-24),
        31 => {
            if mant == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        e => (1.0 + mant / 1024.0) * 2f64.powi(i32::from(e) - 15),
    };
    if h & 0x8000 != 0 {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn head(out: &mut Vec<u8>, mt: u8, n: u64) {
        let mt = mt << 5;
        if n < 24 {
            out.push(mt | n as u8);
        } else if n < 256 {
            out.extend([mt | 24, n as u8]);
        } else {
            out.push(mt | 27);
            out.extend(n.to_be_bytes());
        }
    }

    #[test]
    fn kubernetes_style_object() {
        // 55799({ b"kind": b"Foo", b"spec": { b"n": -3, b"data": 22(h'0102') }, b"ok": true })
        let mut b = vec![0xd9, 0xd9, 0xf7];
        head(&mut b, 5, 3);
        for k in ["kind", "spec", "ok"] {
            head(&mut b, 2, k.len() as u64);
            b.extend(k.as_bytes());
            match k {
                "kind" => {
                    head(&mut b, 2, 3);
                    b.extend(b"Foo");
                }
                "spec" => {
                    head(&mut b, 5, 2);
                    head(&mut b, 2, 1);
                    b.push(b'n');
                    head(&mut b, 1, 2);
                    head(&mut b, 2, 4);
                    b.extend(b"data");
                    head(&mut b, 6, 22);
                    head(&mut b, 2, 2);
                    b.extend([1, 2]);
                }
                _ => b.push(0xf5),
            }
        }
        let v = decode(&b).unwrap();
        assert_eq!(
            v,
            json!({"kind":"Foo","ok":true,"spec":{"data":"AQI=","n":-3}})
        );
        // Keys come out sorted.
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["kind", "ok", "spec"]);
    }

    #[test]
    fn floats_and_hostile() {
        assert_eq!(decode(&[0xf9, 0x3e, 0x00]).unwrap(), json!(1.5));
        assert_eq!(
            decode(&[0xfb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]).unwrap(),
            json!(std::f64::consts::PI)
        );
        assert!(decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(decode(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(decode(&[0x9f, 0xff]).is_err());
        assert!(decode(&vec![0x81; 100_000]).is_err());
        assert!(decode(&[0xa1, 0x01, 0x01]).is_err());
        assert!(decode(&[0x01, 0x01]).is_err());
    }
}
