//! Which certificate authorities an `https` key server must chain to, and
//! what went wrong with its certificate when it did not.

use core::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use ureq::tls::{Certificate, PemItem, RootCerts};

/// The certificate authorities an `https` key server must chain to.
///
/// [`TrustRoots::system`] (the default) is the system's trust store: the
/// distribution's CA bundle, or the file and folders named by
/// `SSL_CERT_FILE` and `SSL_CERT_DIR`, read once per process. A system with no
/// readable store gets the Mozilla roots compiled into the library instead
/// ([`TrustRoots::describe`] says which). A private CA is trusted through
/// [`TrustRoots::from_pem_file`]: then only the CAs of that file are, as
/// with curl's `--cacert` (a key server is one known party; the rest of the
/// Web PKI has no business vouching for it).
///
/// ```
/// use jwtv_jwks::TrustRoots;
///
/// let err = TrustRoots::from_pem(b"not a certificate").unwrap_err();
/// assert_eq!(err.to_string(), "no certificate in the file (expected PEM `BEGIN CERTIFICATE` blocks)");
/// assert!(TrustRoots::system().describe().starts_with("system"));
/// ```
#[derive(Clone)]
pub struct TrustRoots {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    /// The system's store, read when first used.
    System,
    /// The certificates of a file or of PEM text.
    Specific { roots: RootCerts, described: Arc<str> },
}

/// The system's store and its description, read once per process.
fn system_roots() -> &'static (RootCerts, String) {
    static SYSTEM: OnceLock<(RootCerts, String)> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let certs: Vec<Certificate<'static>> =
            found.certs.iter().map(|der| Certificate::from_der(der.as_ref()).to_owned()).collect();
        if certs.is_empty() {
            (RootCerts::WebPki, "system store empty: bundled Mozilla roots".to_owned())
        } else {
            let described = format!("system ({} certificates)", certs.len());
            (RootCerts::from(certs), described)
        }
    })
}

/// Why a CA file cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustError {
    /// The file cannot be read.
    Read(String),
    /// A PEM block is malformed.
    Pem(String),
    /// The file holds no certificate.
    NoCertificate,
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "cannot read: {e}"),
            Self::Pem(e) => write!(f, "not PEM: {e}"),
            Self::NoCertificate => f.write_str("no certificate in the file (expected PEM `BEGIN CERTIFICATE` blocks)"),
        }
    }
}

impl std::error::Error for TrustError {}

impl TrustRoots {
    /// The system's trust store (see the type's docs), read when a key
    /// server is first fetched (or described) and shared by the whole process.
    pub fn system() -> Self {
        Self { kind: Kind::System }
    }

    /// Only the certificates of a PEM file (`BEGIN CERTIFICATE` blocks; other
    /// blocks are ignored), read now.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, TrustError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| TrustError::Read(e.to_string()))?;
        let roots = Self::from_pem(&pem)?;
        let Kind::Specific { roots, described } = roots.kind else { return Ok(roots) };
        let described = format!("{} ({described})", path.display()).into();
        Ok(Self { kind: Kind::Specific { roots, described } })
    }

    /// Only the certificates of PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TrustError> {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item.map_err(|e| TrustError::Pem(e.to_string()))? {
                PemItem::Certificate(cert) => certs.push(cert),
                _ => continue,
            }
        }
        if certs.is_empty() {
            return Err(TrustError::NoCertificate);
        }
        let described = format!("{} certificates", certs.len()).into();
        Ok(Self { kind: Kind::Specific { roots: RootCerts::from(certs), described } })
    }

    /// Where the roots come from, for diagnosis (`system (140 certificates)`,
    /// `/etc/jwtv/ca.pem (1 certificates)`).
    pub fn describe(&self) -> &str {
        match &self.kind {
            Kind::System => &system_roots().1,
            Kind::Specific { described, .. } => described,
        }
    }

    pub(crate) fn root_certs(&self) -> RootCerts {
        match &self.kind {
            Kind::System => system_roots().0.clone(),
            Kind::Specific { roots, .. } => roots.clone(),
        }
    }
}

impl Default for TrustRoots {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for TrustRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::System => f.write_str("TrustRoots(system)"),
            Kind::Specific { described, .. } => f.debug_tuple("TrustRoots").field(described).finish(),
        }
    }
}

/// What was wrong with a key server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// It does not chain to a trusted CA (a private CA: set `tls.ca_file`).
    UnknownIssuer,
    /// It has expired.
    Expired,
    /// It is not valid yet.
    NotYetValid,
    /// It is not valid for the URL's host name.
    NameMismatch,
    /// It has been revoked.
    Revoked,
    /// Another certificate error (bad encoding, wrong purpose, a bad signature…).
    Other,
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownIssuer => "unknown issuer (not signed by a trusted CA)",
            Self::Expired => "expired",
            Self::NotYetValid => "not valid yet",
            Self::NameMismatch => "not valid for the host name",
            Self::Revoked => "revoked",
            Self::Other => "invalid",
        })
    }
}

impl CertificateProblem {
    /// The certificate problem a TLS error stands for, if it is one.
    pub(crate) fn of(error: &ureq::Error) -> Option<Self> {
        let rustls_error = match error {
            ureq::Error::Rustls(e) => Some(e),
            ureq::Error::Io(e) => e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()),
            _ => None,
        }?;
        let rustls::Error::InvalidCertificate(problem) = rustls_error else { return None };
        use rustls::CertificateError as E;
        Some(match problem {
            E::UnknownIssuer => Self::UnknownIssuer,
            E::Expired | E::ExpiredContext { .. } => Self::Expired,
            E::NotValidYet | E::NotValidYetContext { .. } => Self::NotYetValid,
            E::NotValidForName | E::NotValidForNameContext { .. } => Self::NameMismatch,
            E::Revoked => Self::Revoked,
            _ => Self::Other,
        })
    }
}
