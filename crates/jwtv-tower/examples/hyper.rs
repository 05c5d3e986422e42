//! The layer around a plain hyper service (no framework):
//!
//! ```sh
//! cargo run -p jwtv-tower --example hyper -- examples/policy.json 127.0.0.1:3001
//! curl -H "Authorization: Bearer $(cat examples/tokens/valid-es256.jwt)" http://127.0.0.1:3001/
//! ```

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc, reason = "an example on std")]

use std::convert::Infallible;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use jwtv_tower::{JwtLayer, Token};
use tower::ServiceBuilder;

/// A body type with a `Default` (the layer's own answers are empty).
type Body = String;

async fn handle(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let token = request.extensions().get::<Token>();
    let sub =
        token.and_then(|t| t.claim("sub")).and_then(|sub| sub.as_json_str().map(|s| s.chars().collect::<String>()));
    Ok(Response::new(format!("hello {}\n", sub.as_deref().unwrap_or("?"))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let policy_file = args.next().unwrap_or_else(|| "examples/policy.json".to_owned());
    let address = args.next().unwrap_or_else(|| "127.0.0.1:3001".to_owned());
    let auth = JwtLayer::from_policy(jwtv_gateway::Policy::from_file(&policy_file)?)?;

    let service = ServiceBuilder::new().layer(auth).service_fn(handle);
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("listening on http://{address}");
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
