use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maillage_core::refdata::Commune;
use maillage_core::territory::{CommuneSummary, communes_within};
use serde::{Deserialize, Serialize};

fn resolve<'a>(state: &'a AppState, code: &str) -> Result<&'a Commune, ApiError> {
    state
        .reference
        .resolve(code)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "unknown_commune", e.to_string(), e.fr()))
}

/// One commune of the reference data.
#[utoipa::path(get, path = "/api/v1/communes/{code}", tag = "reference",
    params(("code" = String, Path, description = "INSEE code")),
    responses((status = 200, body = CommuneSummary), (status = 404, body = ApiError)))]
pub async fn show(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<CommuneSummary>, ApiError> {
    resolve(&state, &code).map(|c| Json(CommuneSummary::from(c)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct NearQuery {
    /// Radius in km, 0 to 1000 (great-circle distance between commune centres).
    km: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NearbyCommune {
    #[serde(flatten)]
    commune: CommuneSummary,
    km: f64,
}

/// Communes within a radius, nearest first.
#[utoipa::path(get, path = "/api/v1/communes/{code}/near", tag = "reference",
    params(("code" = String, Path, description = "INSEE code"), NearQuery),
    responses((status = 200, body = [NearbyCommune]), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn near(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<NearQuery>,
) -> Result<Json<Vec<NearbyCommune>>, ApiError> {
    if !(q.km.is_finite() && (0.0..=1000.0).contains(&q.km)) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_radius",
            format!("km must be between 0 and 1000, got {}", q.km),
            format!("le rayon doit être compris entre 0 et 1000 km (reçu : {})", q.km),
        ));
    }
    let from = resolve(&state, &code)?;
    Ok(Json(
        communes_within(state.reference, from, q.km)
            .into_iter()
            .map(|n| NearbyCommune { commune: n.commune.into(), km: (n.km * 100.0).round() / 100.0 })
            .collect(),
    ))
}
