//! The SHA-256 digest by which a document's identity is known (a JWKS
//! fetched again, a watched file re-read).

/// A SHA-256 digest.
pub(crate) type Digest = [u8; 32];

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> Digest {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}
