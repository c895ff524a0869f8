//! The bearer string of a personal access token, `atr_<id>_<secret>`, written and read here
//! once for every frontend (the HTTP service's `Authorization` header, the Python module's
//! asfquart token handler).
//!
//! The id is public (it finds the stored grant); the secret is shown once to its holder and
//! stored only as its SHA-256. Both are lowercase hex of random bytes that the credentials port
//! makes: [`TOKEN_ID_BYTES`] and [`SECRET_BYTES`] long.

use super::Secret;

/// How every bearer string starts.
pub const TOKEN_PREFIX: &str = "atr_";
/// Random bytes of a token id (public).
pub const TOKEN_ID_BYTES: usize = 12;
/// Random bytes of a secret (of a token or a session).
pub const SECRET_BYTES: usize = 32;
/// Longest bearer string: the prefix, the id, `_` and the secret.
pub const MAX_BEARER_LEN: usize = TOKEN_PREFIX.len() + 2 * TOKEN_ID_BYTES + 1 + 2 * SECRET_BYTES;

/// The bearer string of a token: `atr_<id>_<secret>`.
pub fn bearer(id: &str, secret: &Secret) -> String {
    format!("{TOKEN_PREFIX}{id}_{}", secret.expose())
}

/// True if `text` is exactly `len` lowercase hex digits.
fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True if `text` has the shape of a secret (a session cookie's value, say): lowercase hex of
/// [`SECRET_BYTES`] bytes.
pub fn is_secret_shaped(text: &str) -> bool {
    is_lower_hex(text, 2 * SECRET_BYTES)
}

/// The token id and the secret of a bearer string, if it has the shape
/// `atr_<24 lowercase hex>_<64 lowercase hex>`; nothing else is accepted.
pub fn parse_bearer(text: &str) -> Option<(&str, Secret)> {
    let (id, secret) = text.strip_prefix(TOKEN_PREFIX)?.split_once('_')?;
    (is_lower_hex(id, 2 * TOKEN_ID_BYTES) && is_secret_shaped(secret)).then(|| (id, Secret::new(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef01234567";
    const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_written_bearer_string_reads_back() {
        let text = bearer(ID, &Secret::new(SECRET));
        assert_eq!(text, format!("atr_{ID}_{SECRET}"));
        assert_eq!(text.len(), MAX_BEARER_LEN);
        let (id, secret) = parse_bearer(&text).unwrap();
        assert_eq!((id, secret.expose()), (ID, SECRET));
    }

    #[test]
    fn only_the_exact_shape_is_accepted() {
        let refused = [
            String::new(),
            "atr_".into(),
            format!("atr_{ID}"),
            format!("atr_{ID}_"),
            format!("{ID}_{SECRET}"),
            format!("ATR_{ID}_{SECRET}"),
            format!("atr_{}_{SECRET}", ID.to_uppercase()),
            format!("atr_{ID}_{}", SECRET.to_uppercase()),
            format!("atr_{}_{SECRET}", &ID[1..]),
            format!("atr_{ID}0_{SECRET}"),
            format!("atr_{ID}_{}", &SECRET[1..]),
            format!("atr_{ID}_{SECRET}0"),
            format!("atr_{ID}_{SECRET}_"),
            format!("atr_{ID}__{SECRET}"),
            format!(" atr_{ID}_{SECRET}"),
            format!("atr_{ID}_{}g", &SECRET[1..]),
            format!("atr_{ID}_{}é", &SECRET[2..]),
        ];
        for text in refused {
            assert!(parse_bearer(&text).is_none(), "{text:?} was accepted");
        }
    }

    #[test]
    fn a_secret_has_its_own_shape() {
        assert!(is_secret_shaped(SECRET));
        assert!(!is_secret_shaped(ID));
        assert!(!is_secret_shaped(&SECRET.to_uppercase()));
    }
}
