use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use maillage_core::refdata::Reference;
use maillage_core::territory::{SizeThresholds, Territory, TerritoryError, TerritorySummary};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TerritoryQuery {
    /// Comma-separated INSEE codes.
    communes: String,
}

/// `GET /api/v1/territory?communes=41018,41269`
pub async fn summary(Query(q): Query<TerritoryQuery>) -> Result<Json<TerritorySummary>, ApiError> {
    let reference = Reference::embedded();
    let codes = q.communes.split(',').map(str::trim).filter(|c| !c.is_empty());
    let territory = Territory::new(reference, codes).map_err(|e| {
        let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_territory", e.to_string(), e.fr());
        if let TerritoryError::Invalid(problems) = &e {
            err.problems = problems.iter().map(|p| Problem { message: p.to_string(), message_fr: p.fr() }).collect();
        }
        err
    })?;
    Ok(Json(territory.summary(&SizeThresholds::default())))
}
