//! The axum extractor: `Token` and `Option<Token>` in a handler's arguments.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::layer::{Answer, Token, Unauthenticated};

/// Why a handler did not get its [`Token`]: answered as the layer answers.
#[derive(Debug)]
pub struct TokenRejection(Answer);

impl IntoResponse for TokenRejection {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// The token the [`JwtLayer`](crate::JwtLayer) verified.
///
/// Behind an [`optional`](crate::JwtLayer::optional) layer, a request
/// without a token is answered 401 (with the layer's challenge) by a handler
/// that takes `Token`, and reaches one that takes `Option<Token>` with
/// `None`. A route the layer does not cover answers 500: a handler that asks
/// for a token never runs without one.
impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(token) = parts.extensions.get::<Token>() {
            return Ok(token.clone());
        }
        match parts.extensions.get::<Unauthenticated>() {
            Some(Unauthenticated(challenge)) => Err(TokenRejection(Answer::NoToken(challenge.clone()))),
            None => Err(TokenRejection(Answer::Internal)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Token {
    type Rejection = TokenRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        if let Some(token) = parts.extensions.get::<Token>() {
            return Ok(Some(token.clone()));
        }
        match parts.extensions.get::<Unauthenticated>() {
            Some(_) => Ok(None),
            None => Err(TokenRejection(Answer::Internal)),
        }
    }
}
