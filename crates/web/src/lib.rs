//! Maillage HTTP server. Stateless: everything it knows comes from the reference data (and,
//! from the platform issue on, from the database), so several instances can run side by side.

// Library code returns errors; tests may unwrap (clippy.toml allows it in tests).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod error;

use axum::Router;
use axum::routing::get;
use std::future::Future;
use tokio::net::TcpListener;

pub use error::ApiError;

/// All routes of the application.
pub fn router() -> Router {
    Router::new().route("/healthz", get(|| async { "ok" })).nest("/api/v1", api::routes())
}

/// Serves on an already-bound listener until `shutdown` resolves (tests bind port 0).
pub async fn serve(listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, router()).with_graceful_shutdown(shutdown).await
}
