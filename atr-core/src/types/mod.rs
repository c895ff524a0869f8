//! Validated value types. Each has private fields and a `parse` constructor; holding one proves
//! the value is valid.

mod coordinates;
mod cve;
mod digest;
mod hex;
mod names;
mod openpgp;
mod path;
mod time;
mod version;

pub use coordinates::{Coordinates, CoordinatesError, Stage, VersionRef};
pub use cve::{CveId, CveIdError};
pub use digest::{DigestError, Sha3_256Digest, Sha256Digest, Sha512Digest};
pub use names::{CommitteeKey, MAX_KEY_LEN, NameError, ProductKey, ProjectKey, UserId, UserIdError};
pub use openpgp::{Fingerprint, KeyId, KeyIdError};
pub use path::{MAX_PATH_DEPTH, MAX_PATH_LEN, MAX_SEGMENT_LEN, PathError, ReleasePath};
pub use time::Timestamp;
pub use version::{MAX_VERSION_LEN, Version, VersionError};
