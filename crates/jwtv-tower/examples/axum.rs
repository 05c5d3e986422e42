//! An axum service whose `/whoami` needs a token:
//!
//! ```sh
//! cargo run -p jwtv-tower --example axum -- examples/policy.json 127.0.0.1:3000
//! curl -H "Authorization: Bearer $(cat examples/tokens/valid-es256.jwt)" http://127.0.0.1:3000/whoami
//! ```

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc, reason = "an example on std")]

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use jwtv_tower::{JwtLayer, Token, TokenSource};

async fn whoami(token: Token) -> String {
    let sub = token.claim("sub").and_then(|sub| sub.as_json_str().map(|s| s.chars().collect::<String>()));
    format!("{} ({})\n", sub.as_deref().unwrap_or("no sub"), token.algorithm())
}

async fn hello(token: Option<Token>) -> String {
    match token {
        Some(_) => "hello, signed-in user\n".to_owned(),
        None => "hello, guest\n".to_owned(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let policy_file = args.next().unwrap_or_else(|| "examples/policy.json".to_owned());
    let address = args.next().unwrap_or_else(|| "127.0.0.1:3000".to_owned());

    let policy = jwtv_gateway::Policy::from_file(&policy_file)?;
    let auth = JwtLayer::from_policy(policy)?
        .token_source(TokenSource::first([TokenSource::Bearer, TokenSource::cookie("access_token")]));
    if !auth.ready(Duration::from_secs(5)).await {
        eprintln!("no key set yet: tokens get 503 until the key server answers");
    }

    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(auth.clone())
        .merge(Router::new().route("/hello", get(hello)).layer(auth.optional()))
        .route("/health", get(|| async { "ok\n" }));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("listening on http://{address}");
    axum::serve(listener, app).await?;
    Ok(())
}
