use crate::error::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use maillage_core::territory::{SizeThresholds, Territory, TerritoryError, TerritorySummary};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TerritoryQuery {
    /// Comma-separated INSEE commune codes, e.g. `41018,41269`.
    communes: String,
}

/// Population, ACI size class, départements and neighbours of a set of communes.
#[utoipa::path(get, path = "/api/v1/territory", params(TerritoryQuery), tag = "reference",
    responses((status = 200, body = TerritorySummary), (status = 422, body = ApiError, description = "every faulty code is listed in `problems`")))]
pub async fn summary(
    State(state): State<AppState>,
    Query(q): Query<TerritoryQuery>,
) -> Result<Json<TerritorySummary>, ApiError> {
    let codes = q.communes.split(',').map(str::trim).filter(|c| !c.is_empty());
    let territory = Territory::new(state.reference, codes).map_err(|e| {
        let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_territory", e.to_string(), e.fr());
        if let TerritoryError::Invalid(problems) = &e {
            err.problems = problems.iter().map(|p| Problem { message: p.to_string(), message_fr: p.fr() }).collect();
        }
        err
    })?;
    Ok(Json(territory.summary(&SizeThresholds::default())))
}
