//! Detached signature files: `.asc` (one or several ASCII-armored blocks) and binary `.sig`.

use std::io::Read;

use sequoia_openpgp as openpgp;
use sequoia_openpgp::armor::{self, ReaderMode};
use sequoia_openpgp::packet::{Packet, Signature};
use sequoia_openpgp::parse::{PacketParserBuilder, PacketParserResult, Parse};
use sequoia_openpgp::types::HashAlgorithm;

/// The largest signature file read. A detached signature is a few hundred bytes per signer.
pub const MAX_SIGNATURE_FILE_BYTES: usize = 1 << 20;

/// The most signatures one signature file may hold.
pub const MAX_SIGNATURES: usize = 100;

/// Why a signature file holds no usable signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error(
        "the signature file is {size} bytes, over the limit of {limit} bytes; a detached signature is much smaller"
    )]
    TooLarge { size: usize, limit: usize },
    #[error("the signature file is empty")]
    Empty,
    #[error("the signature file is neither ASCII-armored (`-----BEGIN PGP SIGNATURE-----`) nor binary OpenPGP data")]
    NotOpenPgp,
    #[error(
        "the signature file is truncated: the armored block starting at line {line} has no \
         `-----END PGP {label}-----` line"
    )]
    Truncated { line: usize, label: String },
    #[error("the armored block starting at line {line} of the signature file is damaged: {reason}")]
    CorruptArmor { line: usize, reason: String },
    #[error("the signature data is truncated or damaged: {reason}")]
    CorruptPacket { reason: String },
    #[error("the signature file holds {found}, not a detached signature")]
    NotDetachedSignature { found: String },
    #[error("the signature file holds no signature")]
    NoSignature,
    #[error("the signature file holds more than {limit} signatures")]
    TooManySignatures { limit: usize },
}

/// The signatures of one detached signature file, in file order.
#[derive(Debug, Clone)]
pub struct DetachedSignatures {
    signatures: Vec<Signature>,
}

impl DetachedSignatures {
    /// Reads a detached signature file.
    ///
    /// Accepts one or several ASCII-armored blocks (LF or CRLF line ends, any text around them), as written when
    /// several release managers sign the same artifact, or binary OpenPGP data (`.sig`). Every signature packet of
    /// every block is kept: verification needs only one good one.
    pub fn parse(bytes: &[u8]) -> Result<DetachedSignatures, SignatureError> {
        if bytes.len() > MAX_SIGNATURE_FILE_BYTES {
            return Err(SignatureError::TooLarge { size: bytes.len(), limit: MAX_SIGNATURE_FILE_BYTES });
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(SignatureError::Empty);
        }
        let blocks = armor_blocks(bytes);
        let mut signatures = Vec::new();
        if blocks.is_empty() {
            // OpenPGP packets start with a byte whose high bit is set; text never does.
            if bytes[0] & 0x80 == 0 {
                return Err(SignatureError::NotOpenPgp);
            }
            read_packets(bytes, &mut signatures)?;
        } else {
            for block in blocks {
                match block.label.as_str() {
                    "SIGNATURE" | "MESSAGE" | "ARMORED FILE" => {}
                    "SIGNED MESSAGE" => {
                        return Err(SignatureError::NotDetachedSignature {
                            found: "a cleartext-signed message".to_owned(),
                        });
                    }
                    other => {
                        return Err(SignatureError::NotDetachedSignature { found: format!("a PGP {other}") });
                    }
                }
                if !block.complete {
                    return Err(SignatureError::Truncated { line: block.line, label: block.label });
                }
                let mut data = Vec::new();
                armor::Reader::from_bytes(block.bytes, ReaderMode::Tolerant(None))
                    .read_to_end(&mut data)
                    .map_err(|e| SignatureError::CorruptArmor { line: block.line, reason: e.to_string() })?;
                if !data.is_empty() {
                    read_packets(&data, &mut signatures)?;
                }
            }
        }
        if signatures.is_empty() {
            return Err(SignatureError::NoSignature);
        }
        Ok(DetachedSignatures { signatures })
    }

    /// The signatures, in file order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// How many signatures the file holds (at least one).
    pub fn len(&self) -> usize {
        self.signatures.len()
    }

    /// Always false: parsing refuses a file without signatures.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// The hash algorithms the signatures use, each once, in order of first use.
    pub fn hash_algorithms(&self) -> Vec<HashAlgorithm> {
        let mut algos = Vec::new();
        for sig in &self.signatures {
            if !algos.contains(&sig.hash_algo()) {
                algos.push(sig.hash_algo());
            }
        }
        algos
    }
}

/// Appends the signature packets of binary OpenPGP data; refuses anything else.
fn read_packets(data: &[u8], signatures: &mut Vec<Signature>) -> Result<(), SignatureError> {
    let corrupt = |e: &openpgp::anyhow::Error| SignatureError::CorruptPacket { reason: format!("{e:#}") };
    let mut ppr =
        PacketParserBuilder::from_bytes(data).and_then(PacketParserBuilder::build).map_err(|e| corrupt(&e))?;
    while let PacketParserResult::Some(pp) = ppr {
        match &pp.packet {
            Packet::Signature(_) | Packet::Marker(_) => {}
            Packet::Unknown(unknown) => {
                return Err(SignatureError::CorruptPacket { reason: format!("{:#}", unknown.error()) });
            }
            other => {
                return Err(SignatureError::NotDetachedSignature {
                    found: format!("a {} packet", other.tag()).to_lowercase(),
                });
            }
        }
        let (packet, next) = pp.next().map_err(|e| corrupt(&e))?;
        if let Packet::Signature(sig) = packet {
            if signatures.len() == MAX_SIGNATURES {
                return Err(SignatureError::TooManySignatures { limit: MAX_SIGNATURES });
            }
            signatures.push(sig);
        }
        ppr = next;
    }
    Ok(())
}

/// One ASCII-armored block of a text file.
#[derive(Debug)]
pub(super) struct ArmorBlock<'a> {
    /// The line of its `-----BEGIN PGP ...-----` header, from 1.
    pub(super) line: usize,
    /// What the header names, such as `SIGNATURE` or `PUBLIC KEY BLOCK`.
    pub(super) label: String,
    /// The block, header and footer included.
    pub(super) bytes: &'a [u8],
    /// Whether its footer was found.
    pub(super) complete: bool,
}

/// Finds the ASCII-armored blocks of a text, in order. Text around and between them is ignored; a block without
/// its footer runs to the next header or the end, and is marked incomplete.
pub(super) fn armor_blocks(text: &[u8]) -> Vec<ArmorBlock<'_>> {
    const BEGIN: &[u8] = b"-----BEGIN PGP ";
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(start) = find(&text[from..], BEGIN).map(|i| from + i) {
        let after_begin = start + BEGIN.len();
        let Some(label_len) = find(&text[after_begin..], b"-----") else { break };
        let label_bytes = &text[after_begin..after_begin + label_len];
        if label_bytes.contains(&b'\n') || label_len > 40 {
            from = after_begin;
            continue;
        }
        let label = String::from_utf8_lossy(label_bytes).into_owned();
        let line = text[..start].split(|&b| b == b'\n').count();
        let body_from = after_begin + label_len + 5;
        let footer = format!("-----END PGP {label}-----");
        let next_begin = find(&text[body_from..], BEGIN).map_or(text.len(), |i| body_from + i);
        if let Some(i) = find(&text[body_from..next_begin], footer.as_bytes()) {
            let end = body_from + i + footer.len();
            blocks.push(ArmorBlock { line, label, bytes: &text[start..end], complete: true });
            from = end;
        } else {
            blocks.push(ArmorBlock { line, label, bytes: &text[start..next_begin], complete: false });
            from = next_begin;
        }
    }
    blocks
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
