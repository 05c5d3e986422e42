//! The layer, its service and what it answers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use jwtv::{Error, ErrorCode};
use jwtv_gateway::{Policy, PolicyError, Verified, Verifier};
use tower_layer::Layer;
use tower_service::Service;

use crate::source::TokenSource;

/// The realm of the challenge unless [`JwtLayer::realm`] says otherwise.
pub const DEFAULT_REALM: &str = "api";

/// Seconds in the `Retry-After` of a 503 (no key set yet).
pub const RETRY_AFTER_SECS: u64 = 5;

/// A verified token, in the request's extensions for the handler: what
/// [`JwtLayer`] puts there and the axum extractor takes out.
#[derive(Clone, Debug)]
pub struct Token(pub Verified);

impl core::ops::Deref for Token {
    type Target = Verified;

    fn deref(&self) -> &Verified {
        &self.0
    }
}

/// Put in the extensions of a request let through without a token by an
/// [`optional`](JwtLayer::optional) layer: the `WWW-Authenticate` challenge a
/// handler that does require a token answers with.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "axum"), expect(dead_code, reason = "read by the axum extractor"))]
pub(crate) struct Unauthenticated(pub(crate) HeaderValue);

/// A [`tower_layer::Layer`] that verifies the token of every request with a
/// [`Verifier`] and answers as RFC 6750 asks when there is none or it is
/// refused. See the crate docs for what it answers when.
///
/// Cloning is cheap (the verifier is shared).
#[derive(Clone, Debug)]
pub struct JwtLayer {
    verifier: Arc<Verifier>,
    source: TokenSource,
    challenge: HeaderValue,
    optional: bool,
}

impl JwtLayer {
    /// A layer over `verifier`. The verifier is made never to wait for a key
    /// set on the request path (a remote set not loaded yet gives
    /// `unavailable` at once, answered 503).
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier: Arc::new(verifier.with_first_fetch_timeout(Duration::ZERO)),
            source: TokenSource::Bearer,
            challenge: challenge(DEFAULT_REALM),
            optional: false,
        }
    }

    /// A layer over the verifier `policy` makes ([`Policy::verifier`]), made
    /// for an async runtime first ([`Policy::never_waiting`]: neither making it
    /// nor verifying waits for a key server or a revocation store).
    pub fn from_policy(policy: Policy) -> Result<Self, PolicyError> {
        policy.never_waiting().verifier().map(Self::new)
    }

    /// The realm of the `WWW-Authenticate` challenge (default `api`); control
    /// characters are left out, `"` and `\` escaped.
    #[must_use]
    pub fn realm(mut self, realm: &str) -> Self {
        self.challenge = challenge(realm);
        self
    }

    /// Where requests carry their token (default: the `Authorization: Bearer` header).
    #[must_use]
    pub fn token_source(mut self, source: TokenSource) -> Self {
        self.source = source;
        self
    }

    /// Lets requests without a token through, unauthenticated (no [`Token`]
    /// in their extensions; axum handlers take `Option<Token>`). A request
    /// *with* a token that is refused is still answered 401: a bad token is
    /// never read as no token.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The verifier (for its metrics, its key set, its policy).
    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    /// Waits up to `timeout` for the key set, on tokio's blocking pool (the
    /// runtime's workers go on serving meanwhile), and says whether it is
    /// there. For start-up: `layer.ready(Duration::from_secs(5)).await`
    /// before accepting connections. Requests never wait, ready or not.
    ///
    /// Must be called within a tokio runtime.
    pub async fn ready(&self, timeout: Duration) -> bool {
        if self.verifier.is_ready() {
            return true;
        }
        let verifier = Arc::clone(&self.verifier);
        tokio::task::spawn_blocking(move || verifier.wait_ready(timeout)).await.unwrap_or(false)
    }

    /// What to do with a request.
    fn judge(&self, parts: &http::request::Parts) -> Judged {
        let Some(raw) = self.source.token(parts) else {
            self.verifier.record_no_token();
            return if self.optional {
                Judged::Unauthenticated(Unauthenticated(self.challenge.clone()))
            } else {
                Judged::Answer(Answer::NoToken(self.challenge.clone()))
            };
        };
        match self.verifier.verify_now(&raw) {
            Ok(verified) => Judged::Pass(Token(verified)),
            Err(error) => Judged::Answer(Answer::of(&self.challenge, error)),
        }
    }
}

impl<S> Layer<S> for JwtLayer {
    type Service = Jwt<S>;

    fn layer(&self, inner: S) -> Jwt<S> {
        Jwt { inner, layer: self.clone() }
    }
}

/// The service [`JwtLayer`] wraps around another.
#[derive(Clone, Debug)]
pub struct Jwt<S> {
    inner: S,
    layer: JwtLayer,
}

enum Judged {
    Pass(Token),
    Unauthenticated(Unauthenticated),
    Answer(Answer),
}

/// An answer made here instead of the inner service's.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    /// 401 with the bare challenge (RFC 6750 §3.1: no error code without a token).
    NoToken(HeaderValue),
    /// 401 with `error="invalid_token"` and the rejection code.
    Rejected(HeaderValue),
    /// 503 with `Retry-After`: the token could not be judged yet.
    Unavailable,
    /// 500: the layer is missing or the verifier failed.
    Internal,
}

impl Answer {
    fn of(challenge: &HeaderValue, error: Error) -> Self {
        let code = error.code();
        if code == ErrorCode::Unavailable {
            return Self::Unavailable;
        }
        let mut value = challenge.as_bytes().to_vec();
        value.extend_from_slice(b", error=\"invalid_token\", error_description=\"");
        value.extend_from_slice(code.as_str().as_bytes());
        value.push(b'"');
        HeaderValue::from_bytes(&value).map_or(Self::Internal, Self::Rejected)
    }

    pub(crate) fn into_response<B: Default>(self) -> Response<B> {
        let mut response = Response::new(B::default());
        let (status, header) = match self {
            Self::NoToken(challenge) | Self::Rejected(challenge) => {
                (StatusCode::UNAUTHORIZED, Some((WWW_AUTHENTICATE, challenge)))
            }
            Self::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, Some((RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS))))
            }
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        *response.status_mut() = status;
        if let Some((name, value)) = header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// `Bearer realm="…"`, the realm quoted (RFC 9110 quoted-string) with
/// control characters left out.
fn challenge(realm: &str) -> HeaderValue {
    let mut value = String::from("Bearer realm=\"");
    for c in realm.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            value.push('\\');
        }
        value.push(c);
    }
    value.push('"');
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("Bearer"))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Jwt<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        match self.layer.judge(&parts) {
            Judged::Pass(token) => {
                parts.extensions.insert(token);
            }
            Judged::Unauthenticated(marker) => {
                parts.extensions.insert(marker);
            }
            Judged::Answer(answer) => return ResponseFuture { kind: Kind::Answer { answer: Some(answer) } },
        }
        ResponseFuture { kind: Kind::Inner { future: self.inner.call(Request::from_parts(parts, body)) } }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Jwt`]: the inner service's, or an answer made here.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProjected]
    #[derive(Debug)]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Answer { answer: Option<Answer> },
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProjected::Inner { future } => future.poll(cx),
            KindProjected::Answer { answer } => {
                Poll::Ready(Ok(answer.take().unwrap_or(Answer::Internal).into_response()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_realm_is_quoted_and_stripped_of_controls() {
        assert_eq!(challenge("api"), "Bearer realm=\"api\"");
        assert_eq!(challenge("a\"b\\c\r\nd"), "Bearer realm=\"a\\\"b\\\\cd\"");
        let rejected = Answer::of(&challenge("api"), Error::Expired);
        let Answer::Rejected(value) = rejected else { panic!("{rejected:?}") };
        assert_eq!(value, "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired\"");
        assert!(matches!(
            Answer::of(&challenge("api"), Error::Unavailable(jwtv::Dependency::Keys)),
            Answer::Unavailable
        ));
    }
}
