//! Hexadecimal helpers shared by fingerprints, key ids and digests.

/// Decodes hex (either case) into exactly `N` bytes. `None` if the length or a digit is wrong.
pub(crate) fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// Encodes bytes as uppercase or lowercase hex.
pub(crate) fn encode(bytes: &[u8], upper: bool) -> String {
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let table = if upper { UPPER } else { LOWER };
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(table[usize::from(b >> 4)] as char);
        s.push(table[usize::from(b & 0xf)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let b: [u8; 3] = super::decode("0aFf10").unwrap();
        assert_eq!(b, [0x0a, 0xff, 0x10]);
        assert_eq!(super::encode(&b, true), "0AFF10");
        assert_eq!(super::encode(&b, false), "0aff10");
        assert_eq!(super::decode::<2>("0aff10"), None);
        assert_eq!(super::decode::<1>("0g"), None);
        assert_eq!(super::decode::<1>("é"), None);
    }
}
