use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use maillage_core::refdata::{Commune, Reference};
use maillage_core::territory::{CommuneSummary, communes_within};
use serde::{Deserialize, Serialize};

fn resolve(code: &str) -> Result<&'static Commune, ApiError> {
    Reference::embedded()
        .resolve(code)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "unknown_commune", e.to_string(), e.fr()))
}

/// `GET /api/v1/communes/{code}`
pub async fn show(Path(code): Path<String>) -> Result<Json<CommuneSummary>, ApiError> {
    resolve(&code).map(|c| Json(CommuneSummary::from(c)))
}

#[derive(Deserialize)]
pub struct NearQuery {
    km: f64,
}

#[derive(Serialize)]
pub struct NearbyCommune {
    #[serde(flatten)]
    commune: CommuneSummary,
    km: f64,
}

/// `GET /api/v1/communes/{code}/near?km=N`: communes within N km (centre to centre).
pub async fn near(Path(code): Path<String>, Query(q): Query<NearQuery>) -> Result<Json<Vec<NearbyCommune>>, ApiError> {
    if !(q.km.is_finite() && (0.0..=1000.0).contains(&q.km)) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_radius",
            format!("km must be between 0 and 1000, got {}", q.km),
            format!("le rayon doit être compris entre 0 et 1000 km (reçu : {})", q.km),
        ));
    }
    let from = resolve(&code)?;
    Ok(Json(
        communes_within(Reference::embedded(), from, q.km)
            .into_iter()
            .map(|n| NearbyCommune { commune: n.commune.into(), km: (n.km * 100.0).round() / 100.0 })
            .collect(),
    ))
}
