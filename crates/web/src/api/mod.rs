//! JSON API, version 1.

mod communes;
mod territory;

use axum::Router;
use axum::routing::get;

pub fn routes() -> Router {
    Router::new()
        .route("/territory", get(territory::summary))
        .route("/communes/{code}", get(communes::show))
        .route("/communes/{code}/near", get(communes::near))
}
