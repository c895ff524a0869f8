//! The hash contexts an artifact's bytes are fed through once, for its signatures and its checksum.

use std::fmt;

use sequoia_openpgp::crypto::hash::Context;
use sequoia_openpgp::types::HashAlgorithm;
use sha2::{Digest, Sha512};

/// The checksum's SHA-512: OpenSSL's through sequoia when available (faster here), else sha2.
#[derive(Clone)]
enum Sha512Context {
    OpenPgp(Box<Context>),
    Rust(Sha512),
}

impl Sha512Context {
    fn new() -> Self {
        match HashAlgorithm::SHA512.context() {
            Ok(builder) => Sha512Context::OpenPgp(Box::new(builder.for_digest())),
            Err(_) => Sha512Context::Rust(Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Sha512Context::OpenPgp(context) => context.update(data),
            Sha512Context::Rust(hasher) => hasher.update(data),
        }
    }

    fn digest(&self) -> [u8; 64] {
        match self {
            Sha512Context::OpenPgp(context) => {
                let mut digest = [0; 64];
                let mut copy = context.clone();
                if copy.digest(&mut digest).is_ok() { digest } else { unreachable!("SHA-512 yields 64 bytes") }
            }
            Sha512Context::Rust(hasher) => hasher.clone().finalize().into(),
        }
    }
}

use super::DetachedSignatures;

/// One hash context per hash algorithm (and salt) the signatures need, and SHA-512 for the checksum check.
///
/// The caller reads the artifact once and passes every chunk to [`Hashes::update`]; [`super::verify`] then checks
/// each signature against a copy of the matching context.
#[derive(Clone)]
pub struct Hashes {
    /// SHA-512 for the checksum, unless an unsalted SHA-512 signature context already computes
    /// it (then the bytes are hashed once for both).
    sha512: Option<Sha512Context>,
    contexts: Vec<SignatureContext>,
    /// Algorithms asked for that this build cannot compute.
    unsupported: Vec<HashAlgorithm>,
}

/// A context prepared for OpenPGP signatures: unsalted (v3 and v4 signatures) or salted (v6 signatures).
#[derive(Clone)]
struct SignatureContext {
    algo: HashAlgorithm,
    salt: Option<Vec<u8>>,
    context: Context,
}

impl Hashes {
    /// Contexts for unsalted (v3 and v4) signatures made with `algos`, plus SHA-512.
    pub fn new(algos: impl IntoIterator<Item = HashAlgorithm>) -> Self {
        let mut hashes = Hashes { sha512: None, contexts: Vec::new(), unsupported: Vec::new() };
        for algo in algos {
            hashes.add(algo, None);
        }
        hashes.own_sha512();
        hashes
    }

    /// Adds the checksum's own SHA-512 context when no signature context can serve.
    fn own_sha512(&mut self) {
        self.sha512 = if self.shared_sha512().is_some() { None } else { Some(Sha512Context::new()) };
    }

    fn shared_sha512(&self) -> Option<&Context> {
        self.contexts.iter().find(|c| c.algo == HashAlgorithm::SHA512 && c.salt.is_none()).map(|c| &c.context)
    }

    /// Exactly the contexts `signatures` need, v6 salts included, plus SHA-512.
    pub fn for_signatures(signatures: &DetachedSignatures) -> Self {
        let mut hashes = Hashes::new([]);
        for sig in signatures.signatures() {
            hashes.add(sig.hash_algo(), sig.salt());
        }
        hashes.own_sha512();
        hashes
    }

    fn add(&mut self, algo: HashAlgorithm, salt: Option<&[u8]>) {
        if self.contexts.iter().any(|c| c.algo == algo && c.salt.as_deref() == salt) || self.unsupported.contains(&algo)
        {
            return;
        }
        let Ok(builder) = algo.context() else {
            self.unsupported.push(algo);
            return;
        };
        let mut context = builder.for_signature(if salt.is_some() { 6 } else { 4 });
        if let Some(salt) = salt {
            context.update(salt);
        }
        self.contexts.push(SignatureContext { algo, salt: salt.map(<[u8]>::to_vec), context });
    }

    /// Feeds the next chunk of the artifact to every context.
    pub fn update(&mut self, data: &[u8]) {
        if let Some(own) = &mut self.sha512 {
            own.update(data);
        }
        for c in &mut self.contexts {
            c.context.update(data);
        }
    }

    /// The SHA-512 digest of the bytes fed so far.
    pub fn sha512(&self) -> [u8; 64] {
        match (&self.sha512, self.shared_sha512()) {
            (Some(own), _) => own.digest(),
            (None, Some(shared)) => {
                // A v4 signature context has hashed exactly the artifact's bytes so far; the
                // signature trailer is only added when a copy is verified.
                let mut digest = [0; 64];
                let mut copy = shared.clone();
                if copy.digest(&mut digest).is_ok() {
                    digest
                } else {
                    unreachable!("a SHA-512 context always yields 64 bytes")
                }
            }
            (None, None) => unreachable!("own_sha512 keeps a context whenever no signature context serves"),
        }
    }

    /// The algorithms of the signature contexts.
    pub fn algorithms(&self) -> Vec<HashAlgorithm> {
        let mut algos: Vec<HashAlgorithm> = Vec::new();
        for c in &self.contexts {
            if !algos.contains(&c.algo) {
                algos.push(c.algo);
            }
        }
        algos
    }

    /// Whether `algo` was asked for but cannot be computed.
    pub(super) fn is_unsupported(&self, algo: HashAlgorithm) -> bool {
        self.unsupported.contains(&algo) || !algo.is_supported()
    }

    /// A copy of the context a signature with this algorithm and salt is checked against.
    pub(super) fn context(&self, algo: HashAlgorithm, salt: Option<&[u8]>) -> Option<Context> {
        self.contexts.iter().find(|c| c.algo == algo && c.salt.as_deref() == salt).map(|c| c.context.clone())
    }
}

impl fmt::Debug for Hashes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let contexts: Vec<String> = self
            .contexts
            .iter()
            .map(|c| if c.salt.is_some() { format!("{} (salted)", c.algo) } else { c.algo.to_string() })
            .collect();
        f.debug_struct("Hashes")
            .field("contexts", &contexts)
            .field("unsupported", &self.unsupported)
            .finish_non_exhaustive()
    }
}
