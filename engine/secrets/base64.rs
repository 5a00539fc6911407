//! A secret inside base64: alone, or inside a longer encoded string such as
//! `user:secret` in an echoed `Authorization: Basic …` header, for a user we
//! do not know. What comes before the secret only shifts it by 0, 1 or 2
//! bytes within a 3-byte group; for each shift the characters whose six bits
//! all come from the secret are fixed (the "core"). A token of base64
//! characters that contains a core holds the secret, and is masked whole.

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The cores of `secret` for the three shifts, in the standard and the
/// URL-safe alphabet (`-_` for `+/`).
pub fn cores(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for shift in 0..3 {
        let mut shifted = vec![0; shift];
        shifted.extend_from_slice(secret);
        let encoded = encode(&shifted);
        // Character j holds bits 6j..6j+6; the secret's bits are 8·shift..8·(shift+len).
        let first = (8 * shift).div_ceil(6);
        let end = (8 * (shift + secret.len())) / 6;
        let core = encoded[first..end].to_vec();
        let url_safe: Vec<u8> = core
            .iter()
            .map(|&c| match c {
                b'+' => b'-',
                b'/' => b'_',
                c => c,
            })
            .collect();
        found.push(core);
        found.push(url_safe);
    }
    found.sort();
    found.dedup();
    found
}

/// Whether `b` can be part of a base64 token (either alphabet; `=` is
/// padding and only taken at the end, see [`token_around`]).
fn in_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/-_".contains(&b)
}

/// The whole token around `bytes[start..end]`: out to the nearest
/// non-base64 characters, with any `=` padding after it.
pub fn token_around(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    let mut from = start;
    while from > 0 && in_token(bytes[from - 1]) {
        from -= 1;
    }
    let mut to = end;
    while to < bytes.len() && in_token(bytes[to]) {
        to += 1;
    }
    while to < bytes.len() && bytes[to] == b'=' {
        to += 1;
    }
    (from, to)
}

/// Standard base64 without padding.
fn encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=group.len() {
            out.push(STANDARD[((n >> (18 - 6 * i)) & 63) as usize]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn encodes_like_the_standard_alphabet_without_padding() {
        assert_eq!(encode(b"ops:hunter2"), b"b3BzOmh1bnRlcjI");
        assert_eq!(encode(b"a"), b"YQ");
        assert_eq!(encode(b"ab"), b"YWI");
        assert_eq!(encode(b"abc"), b"YWJj");
    }

    #[test]
    fn a_core_of_the_secret_is_in_its_encoding_after_any_prefix() {
        let secret = b"hunter2";
        let cores = cores(secret);
        for prefix in ["", "o", "op", "ops:", "a much longer user name:", "x:"] {
            let mut plain = prefix.as_bytes().to_vec();
            plain.extend_from_slice(secret);
            plain.extend_from_slice(b":and after");
            let encoded = encode(&plain);
            assert!(cores.iter().any(|c| contains(&encoded, c)), "{prefix}: {}", String::from_utf8_lossy(&encoded));
        }
    }

    #[test]
    fn url_safe_cores_swap_the_two_symbols() {
        // "??>" encodes to "Pz8+", "???" to "Pz8/".
        let cores = cores(b"??>???");
        assert!(cores.contains(&b"Pz8+Pz8/".to_vec()));
        assert!(cores.contains(&b"Pz8-Pz8_".to_vec()));
    }

    #[test]
    fn the_token_is_taken_whole_with_its_padding() {
        let text = b"Authorization: Basic b3BzOmh1bnRlcjI=, next";
        let start = text.windows(4).position(|w| w == b"Omh1").unwrap();
        assert_eq!(token_around(text, start, start + 4), (21, 37));
    }
}
