//! OpenID Connect Discovery (OpenID Connect Discovery 1.0 §4): an issuer's
//! configuration document, read for its `jwks_uri`. The fetching is
//! [`RemoteJwks::discover`](crate::RemoteJwks::discover)'s.

use core::fmt;

use crate::remote::validate_url;

/// The largest configuration document read.
pub(crate) const MAX_CONFIGURATION_BYTES: u64 = 64 * 1024;

/// Why an issuer's OpenID configuration gave no key set URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscoveryProblem {
    /// The document is not a JSON object (or is larger than 64 KiB).
    Malformed,
    /// Its `issuer` is not exactly the configured issuer (§4.3: a document
    /// served for one issuer never vouches for another).
    IssuerMismatch,
    /// It has no `jwks_uri` string.
    NoJwksUri,
    /// Its `jwks_uri` is not an `http(s)` URL, or is `http` for an `https` issuer.
    BadJwksUri,
}

impl fmt::Display for DiscoveryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the OpenID configuration is not a JSON object",
            Self::IssuerMismatch => "the OpenID configuration names another issuer",
            Self::NoJwksUri => "the OpenID configuration has no jwks_uri",
            Self::BadJwksUri => "the OpenID configuration's jwks_uri is not an https URL",
        })
    }
}

/// Where an issuer publishes its configuration: the issuer, without a
/// trailing `/`, then `/.well-known/openid-configuration` (§4).
pub(crate) fn configuration_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

/// The `jwks_uri` of a configuration document served for `issuer`.
pub(crate) fn jwks_uri(document: &[u8], issuer: &str) -> Result<String, DiscoveryProblem> {
    let value: serde_json::Value = serde_json::from_slice(document).map_err(|_| DiscoveryProblem::Malformed)?;
    let object = value.as_object().ok_or(DiscoveryProblem::Malformed)?;
    if object.get("issuer").and_then(serde_json::Value::as_str) != Some(issuer) {
        return Err(DiscoveryProblem::IssuerMismatch);
    }
    let uri = object.get("jwks_uri").and_then(serde_json::Value::as_str).ok_or(DiscoveryProblem::NoJwksUri)?;
    let https = |url: &str| url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if validate_url(uri).is_err() || (https(issuer) && !https(uri)) {
        return Err(DiscoveryProblem::BadJwksUri);
    }
    Ok(uri.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://login.example/realms/acme";

    #[test]
    fn the_configuration_is_at_the_well_known_path_of_the_issuer() {
        assert_eq!(configuration_url(ISSUER), "https://login.example/realms/acme/.well-known/openid-configuration");
        assert_eq!(
            configuration_url("https://login.example/"),
            "https://login.example/.well-known/openid-configuration"
        );
    }

    #[test]
    fn only_a_document_for_this_issuer_with_an_https_jwks_uri_is_read() {
        let doc = |issuer: &str, uri: &str| format!(r#"{{"issuer":"{issuer}","jwks_uri":"{uri}"}}"#).into_bytes();
        let keys = "https://login.example/realms/acme/certs";
        assert_eq!(jwks_uri(&doc(ISSUER, keys), ISSUER).as_deref(), Ok(keys));
        assert_eq!(
            jwks_uri(&doc("https://login.example/realms/other", keys), ISSUER),
            Err(DiscoveryProblem::IssuerMismatch)
        );
        assert_eq!(jwks_uri(&doc(&format!("{ISSUER}/"), keys), ISSUER), Err(DiscoveryProblem::IssuerMismatch));
        assert_eq!(jwks_uri(&doc(ISSUER, "http://login.example/certs"), ISSUER), Err(DiscoveryProblem::BadJwksUri));
        assert_eq!(jwks_uri(&doc(ISSUER, "file:///etc/passwd"), ISSUER), Err(DiscoveryProblem::BadJwksUri));
        assert_eq!(
            jwks_uri(format!(r#"{{"issuer":"{ISSUER}"}}"#).as_bytes(), ISSUER),
            Err(DiscoveryProblem::NoJwksUri)
        );
        assert_eq!(jwks_uri(b"[]", ISSUER), Err(DiscoveryProblem::Malformed));
        assert_eq!(jwks_uri(b"<html>", ISSUER), Err(DiscoveryProblem::Malformed));
        // A plain-http issuer (a test setup) may publish plain-http keys.
        let local = "http://127.0.0.1:8080";
        assert_eq!(
            jwks_uri(&doc(local, "http://127.0.0.1:8080/keys"), local).as_deref(),
            Ok("http://127.0.0.1:8080/keys")
        );
    }
}
