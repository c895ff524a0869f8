//! Archive integrity, structure and safety; license files and headers; SBOM validation.
