//! RFC 7638 JWK thumbprints (SHA-256, base64url).

use base64ct::{Base64UrlUnpadded, Encoding as _};

use crate::jwk::Members;

/// The RFC 7638 SHA-256 thumbprint of a public JWK, or `None` when a required
/// member is missing, `kty` is unknown, or the key is a shared secret (`oct`):
/// its thumbprint would be an unsalted hash of the secret, and thumbprints are
/// shown in logs and the CLI.
///
/// The hash input is the required members only, sorted by name, without
/// whitespace: `{"e":"AQAB","kty":"RSA","n":"…"}`.
pub(crate) fn of(members: &Members) -> Option<String> {
    let required = members.thumbprint_members()?;
    let mut fields: Vec<(&str, &str)> = required.members;
    fields.push(("kty", required.kty));
    fields.sort_unstable_by_key(|&(name, _)| name);
    let mut canonical = String::from("{");
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    Some(Base64UrlUnpadded::encode_string(digest.as_ref()))
}
