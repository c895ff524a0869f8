//! OpenPGP: KEYS files and detached signatures.
