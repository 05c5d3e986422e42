//! RFC 7638 JWK thumbprints (SHA-256, base64url).

use base64ct::{Base64UrlUnpadded, Encoding as _};

/// The members RFC 7638 hashes: `kty` and the ones its key type requires.
/// The JWK reader gives none for a key with a required member missing, an
/// unknown `kty`, or a shared secret (`oct`): its thumbprint would be an
/// unsalted hash of the secret, and thumbprints are shown in logs and the CLI.
pub(crate) struct ThumbprintMembers<'m> {
    pub(crate) kty: &'m str,
    /// Required members other than `kty`.
    pub(crate) members: Vec<(&'static str, &'m str)>,
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK's required members.
///
/// The hash input is the required members only, sorted by name, without
/// whitespace: `{"e":"AQAB","kty":"RSA","n":"…"}`.
pub(crate) fn of(required: ThumbprintMembers<'_>) -> Option<String> {
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
