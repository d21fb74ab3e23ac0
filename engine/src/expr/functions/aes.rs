//! `aes_decrypt` and `try_aes_decrypt`: Spark's AES in GCM (a 12-byte IV before the text and
//! a 16-byte tag after it), CBC (a 16-byte IV before it, PKCS#5 padding) and ECB (PKCS#5), with
//! 16-, 24- or 32-byte keys. The block cipher is FIPS-197's, written out here (a few hundred
//! bytes of code; no crate for it, which keeps the wasm build small): its tests are Spark's
//! documented examples and FIPS-197's vectors. Decryption only: `aes_encrypt` draws a random IV
//! by default, which a replayable stream cannot repeat.

use std::sync::OnceLock;

use arrow_array::ArrayRef;

use super::*;

/// The argument rules and result type: the text and key BINARY (a string is its UTF-8 bytes),
/// mode and padding strings (default GCM, DEFAULT), the GCM additional data BINARY.
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    c.arity(2, 5)?;
    let mut out = Vec::with_capacity(5);
    for (k, e) in a.into_iter().enumerate() {
        let want = if matches!(k, 2 | 3) { T::String } else { T::Binary };
        let t = e.data_type();
        out.push(match (&want, &t) {
            (_, T::Null) => e.cast_to(&want),
            (T::Binary, T::Binary | T::String) | (T::String, T::String) => e.cast_to(&want),
            _ => return Err(mismatch(f, &e, &want.spark_name())),
        });
    }
    let defaults = [Value::String("GCM".into()), Value::String("DEFAULT".into()), Value::Binary(vec![])];
    for d in defaults.into_iter().skip(out.len() - 2) {
        out.push(Expr::Literal(d));
    }
    Ok((out, T::Binary))
}

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    rowwise(a, len, data_type, |row| {
        // NULL in, NULL out (an AAD left out is an empty one, not NULL).
        if row.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        let bytes = |v: &Value| match v {
            Value::Binary(b) => b.clone(),
            _ => Vec::new(),
        };
        match decrypt(&bytes(&row[0]), &bytes(&row[1]), str_of(&row[2]), str_of(&row[3]), &bytes(&row[4])) {
            Ok(plain) => Ok(Value::Binary(plain)),
            Err(_) if f == Func::TryAesDecrypt => Ok(Value::Null),
            Err(e) => Err(e),
        }
    })
}

fn crypto_error(detail: &str) -> Error {
    Error::runtime(
        "INVALID_PARAMETER_VALUE.AES_CRYPTO_ERROR",
        format!("[INVALID_PARAMETER_VALUE.AES_CRYPTO_ERROR] The value of parameter(s) `expr`, `key` in `aes_encrypt`/`aes_decrypt` is invalid: detail message: {detail} SQLSTATE: 22023"),
    )
}

/// Spark's `aes_decrypt(input, key, mode, padding, aad)`.
fn decrypt(input: &[u8], key: &[u8], mode: &str, padding: &str, aad: &[u8]) -> Result<Vec<u8>> {
    if !matches!(key.len(), 16 | 24 | 32) {
        return Err(Error::runtime(
            "INVALID_PARAMETER_VALUE.AES_KEY_LENGTH",
            format!("[INVALID_PARAMETER_VALUE.AES_KEY_LENGTH] The value of parameter(s) `key` in `aes_encrypt`/`aes_decrypt` is invalid: expects a binary value with 16, 24 or 32 bytes, but got {} bytes. SQLSTATE: 22023", key.len()),
        ));
    }
    let (mode, padding) = (mode.to_ascii_uppercase(), padding.to_ascii_uppercase());
    let cipher = Aes::new(key);
    match (mode.as_str(), padding.as_str()) {
        ("GCM", "NONE" | "DEFAULT") => gcm_decrypt(&cipher, input, aad),
        // Spark reads no AAD in ECB (it is ignored there); CBC with one it refuses.
        ("CBC", "PKCS" | "DEFAULT") if !aad.is_empty() => Err(Error::unsupported(
            "[UNSUPPORTED_FEATURE.AES_MODE_AAD] The feature is not supported: `aes_decrypt` with AES-CBC does not support additional authenticate data (AAD). SQLSTATE: 0A000",
        )),
        ("CBC" | "ECB", "PKCS" | "DEFAULT") => {
            let (iv, body) = if mode == "CBC" {
                if input.len() < 16 {
                    return Err(crypto_error("Input too short for CBC"));
                }
                (Some(&input[..16]), &input[16..])
            } else {
                (None, input)
            };
            if body.is_empty() || body.len() % 16 != 0 {
                return Err(crypto_error("Input length must be multiple of 16 when decrypting with padded cipher"));
            }
            let mut out = Vec::with_capacity(body.len());
            let mut prev: [u8; 16] = iv.map_or([0; 16], |v| v.try_into().unwrap_or([0; 16]));
            for block in body.chunks_exact(16) {
                let mut b: [u8; 16] = block.try_into().map_err(|_| Error::internal("a 16-byte block"))?;
                let cipher_block = b;
                cipher.decrypt_block(&mut b);
                if iv.is_some() {
                    b.iter_mut().zip(prev).for_each(|(x, p)| *x ^= p);
                    prev = cipher_block;
                }
                out.extend_from_slice(&b);
            }
            // PKCS#5: n bytes of value n end the text.
            let n = out.last().copied().unwrap_or(0) as usize;
            if n == 0 || n > 16 || out[out.len() - n..].iter().any(|&b| b as usize != n) {
                return Err(crypto_error("Given final block not properly padded. Such issues can arise if a bad key is used during decryption."));
            }
            out.truncate(out.len() - n);
            Ok(out)
        }
        _ => Err(Error::unsupported(format!(
            "[UNSUPPORTED_FEATURE.AES_MODE] The feature is not supported: AES-{mode} with the padding {padding} by the `aes_encrypt`/`aes_decrypt` function. SQLSTATE: 0A000"
        ))),
    }
}

/// GCM with a 12-byte IV and a 16-byte tag (NIST SP 800-38D), the layout Spark writes.
fn gcm_decrypt(cipher: &Aes, input: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    if input.len() < 12 + 16 {
        return Err(crypto_error(if input.len() < 12 { "Invalid buffer arguments" } else { "Tag mismatch!" }));
    }
    let (iv, rest) = input.split_at(12);
    let (text, tag) = rest.split_at(rest.len() - 16);
    let mut h = [0u8; 16];
    cipher.encrypt_block(&mut h);
    let h = u128::from_be_bytes(h);
    let mut j0 = [0u8; 16];
    j0[..12].copy_from_slice(iv);
    j0[15] = 1;
    let mut hash = 0u128;
    for part in [aad, text] {
        for block in part.chunks(16) {
            let mut b = [0u8; 16];
            b[..block.len()].copy_from_slice(block);
            hash = gf_mul(hash ^ u128::from_be_bytes(b), h);
        }
    }
    let lengths = (u128::from(aad.len() as u64 * 8) << 64) | u128::from(text.len() as u64 * 8);
    hash = gf_mul(hash ^ lengths, h);
    let mut mask = j0;
    cipher.encrypt_block(&mut mask);
    let expected = (hash ^ u128::from_be_bytes(mask)).to_be_bytes();
    if expected.iter().zip(tag).fold(0u8, |d, (a, b)| d | (a ^ b)) != 0 {
        return Err(crypto_error("Tag mismatch!"));
    }
    let mut counter = u32::from_be_bytes([j0[12], j0[13], j0[14], j0[15]]);
    let mut out = Vec::with_capacity(text.len());
    for block in text.chunks(16) {
        counter = counter.wrapping_add(1);
        let mut stream = j0;
        stream[12..].copy_from_slice(&counter.to_be_bytes());
        cipher.encrypt_block(&mut stream);
        out.extend(block.iter().zip(stream).map(|(c, k)| c ^ k));
    }
    Ok(out)
}

/// Multiplication in GCM's field GF(2^128) (SP 800-38D, Algorithm 1).
fn gf_mul(x: u128, y: u128) -> u128 {
    const R: u128 = 0xE1 << 120;
    let (mut z, mut v) = (0u128, y);
    for i in 0..128 {
        if (x >> (127 - i)) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 { (v >> 1) ^ R } else { v >> 1 };
    }
    z
}

fn xtime(b: u8) -> u8 {
    (b << 1) ^ if b & 0x80 != 0 { 0x1b } else { 0 }
}

fn gmul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        a = xtime(a);
        b >>= 1;
    }
    p
}

/// The S-box and its inverse, computed once: the multiplicative inverse in GF(2^8), then
/// FIPS-197's affine map.
fn sboxes() -> &'static ([u8; 256], [u8; 256]) {
    static BOXES: OnceLock<([u8; 256], [u8; 256])> = OnceLock::new();
    BOXES.get_or_init(|| {
        let (mut sbox, mut inv) = ([0u8; 256], [0u8; 256]);
        for x in 0..=255u8 {
            // x^254 is x's inverse (0 for 0).
            let mut y = 1u8;
            for _ in 0..254 {
                y = gmul(y, x);
            }
            let y = if x == 0 { 0 } else { y };
            let s = y ^ y.rotate_left(1) ^ y.rotate_left(2) ^ y.rotate_left(3) ^ y.rotate_left(4) ^ 0x63;
            sbox[x as usize] = s;
            inv[s as usize] = x;
        }
        (sbox, inv)
    })
}

/// AES with an expanded key: the round keys as 4-byte words.
struct Aes {
    words: Vec<[u8; 4]>,
    rounds: usize,
}

impl Aes {
    fn new(key: &[u8]) -> Aes {
        let (sbox, _) = sboxes();
        let nk = key.len() / 4;
        let rounds = nk + 6;
        let mut words: Vec<[u8; 4]> = key.chunks_exact(4).map(|w| [w[0], w[1], w[2], w[3]]).collect();
        let mut rcon = 1u8;
        for i in nk..4 * (rounds + 1) {
            let mut t = words[i - 1];
            if i % nk == 0 {
                t = [sbox[t[1] as usize] ^ rcon, sbox[t[2] as usize], sbox[t[3] as usize], sbox[t[0] as usize]];
                rcon = xtime(rcon);
            } else if nk > 6 && i % nk == 4 {
                t = t.map(|b| sbox[b as usize]);
            }
            let w = words[i - nk];
            words.push([w[0] ^ t[0], w[1] ^ t[1], w[2] ^ t[2], w[3] ^ t[3]]);
        }
        Aes { words, rounds }
    }

    fn add_round_key(&self, s: &mut [u8; 16], round: usize) {
        for c in 0..4 {
            for r in 0..4 {
                s[4 * c + r] ^= self.words[4 * round + c][r];
            }
        }
    }

    fn encrypt_block(&self, s: &mut [u8; 16]) {
        let (sbox, _) = sboxes();
        self.add_round_key(s, 0);
        for round in 1..=self.rounds {
            let old = *s;
            for c in 0..4 {
                for r in 0..4 {
                    s[r + 4 * c] = sbox[old[r + 4 * ((c + r) % 4)] as usize];
                }
            }
            if round != self.rounds {
                for c in 0..4 {
                    let a = [s[4 * c], s[4 * c + 1], s[4 * c + 2], s[4 * c + 3]];
                    s[4 * c] = gmul(a[0], 2) ^ gmul(a[1], 3) ^ a[2] ^ a[3];
                    s[4 * c + 1] = a[0] ^ gmul(a[1], 2) ^ gmul(a[2], 3) ^ a[3];
                    s[4 * c + 2] = a[0] ^ a[1] ^ gmul(a[2], 2) ^ gmul(a[3], 3);
                    s[4 * c + 3] = gmul(a[0], 3) ^ a[1] ^ a[2] ^ gmul(a[3], 2);
                }
            }
            self.add_round_key(s, round);
        }
    }

    fn decrypt_block(&self, s: &mut [u8; 16]) {
        let (_, inv) = sboxes();
        self.add_round_key(s, self.rounds);
        for round in (0..self.rounds).rev() {
            let old = *s;
            for c in 0..4 {
                for r in 0..4 {
                    s[r + 4 * ((c + r) % 4)] = inv[old[r + 4 * c] as usize];
                }
            }
            self.add_round_key(s, round);
            if round != 0 {
                for c in 0..4 {
                    let a = [s[4 * c], s[4 * c + 1], s[4 * c + 2], s[4 * c + 3]];
                    s[4 * c] = gmul(a[0], 14) ^ gmul(a[1], 11) ^ gmul(a[2], 13) ^ gmul(a[3], 9);
                    s[4 * c + 1] = gmul(a[0], 9) ^ gmul(a[1], 14) ^ gmul(a[2], 11) ^ gmul(a[3], 13);
                    s[4 * c + 2] = gmul(a[0], 13) ^ gmul(a[1], 9) ^ gmul(a[2], 14) ^ gmul(a[3], 11);
                    s[4 * c + 3] = gmul(a[0], 11) ^ gmul(a[1], 13) ^ gmul(a[2], 9) ^ gmul(a[3], 14);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn the_block_cipher_gives_fips_197s_vectors() {
        // FIPS-197 appendix C: plaintext 00112233...ff under keys 000102...0f / ...17 / ...1f.
        let plain = hex("00112233445566778899aabbccddeeff");
        for (key, want) in [
            ("000102030405060708090a0b0c0d0e0f", "69c4e0d86a7b0430d8cdb78070b4c55a"),
            ("000102030405060708090a0b0c0d0e0f1011121314151617", "dda97ca4864cdfe06eaf70a0ec0d7191"),
            ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "8ea2b7ca516745bfeafc49904b496089"),
        ] {
            let aes = Aes::new(&hex(key));
            let mut b: [u8; 16] = plain.clone().try_into().unwrap();
            aes.encrypt_block(&mut b);
            assert_eq!(b.to_vec(), hex(want), "{key}");
            aes.decrypt_block(&mut b);
            assert_eq!(b.to_vec(), plain);
        }
    }

    #[test]
    fn spark_ciphertexts_decrypt_and_bad_ones_are_told() {
        // Spark 4.3's documented examples of aes_decrypt.
        let gcm = hex("83F16B2AA704794132802D248E6BFD4E380078182D1544813898AC97E709B28A94");
        assert_eq!(decrypt(&gcm, b"0000111122223333", "GCM", "DEFAULT", &[]).unwrap(), b"Spark");
        let mut wrong = gcm.clone();
        wrong[20] ^= 1;
        assert!(decrypt(&wrong, b"0000111122223333", "GCM", "DEFAULT", &[]).is_err());
        assert!(decrypt(&gcm, b"short", "GCM", "DEFAULT", &[]).is_err());
        assert_eq!(decrypt(&gcm, b"0000111122223333", "CBC", "NONE", &[]).unwrap_err().kind, crate::error::ErrorKind::UnsupportedOperation);
    }
}
