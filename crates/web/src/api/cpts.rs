use crate::app::{self, CptsOverview, CptsRow, Ctx};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::middleware::request_id;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use maillage_store::AuditEvent;
use serde::{Deserialize, Serialize};

fn ctx<'a>(state: &'a AppState, principal: &'a Principal, headers: &HeaderMap) -> Ctx<'a> {
    Ctx { state, principal, request_id: request_id(headers) }
}

/// The CPTS the caller may see (aggregates only).
#[utoipa::path(get, path = "/api/v1/cpts", tag = "cpts", security(("bearer" = [])),
    responses((status = 200, body = [CptsRow]), (status = 401, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Json<Vec<CptsRow>>, ApiError> {
    Ok(Json(app::visible_cpts(&ctx(&state, &principal, &headers)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewCptsBody {
    name: String,
    /// INSEE commune codes.
    communes: Vec<String>,
}

/// Creates a CPTS (platform admins).
#[utoipa::path(post, path = "/api/v1/cpts", tag = "cpts", security(("bearer" = [])), request_body = NewCptsBody,
    responses((status = 201, body = CptsOverview), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(body): Json<NewCptsBody>,
) -> Result<(StatusCode, Json<CptsOverview>), ApiError> {
    let c = ctx(&state, &principal, &headers);
    let cpts = app::create_cpts(&c, &body.name, &body.communes.join(",")).await?;
    Ok((StatusCode::CREATED, Json(app::cpts_overview(&c, cpts.id.as_str()).await?)))
}

/// One CPTS's overview: territory, population, size class, account counts.
#[utoipa::path(get, path = "/api/v1/cpts/{id}", tag = "cpts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CptsOverview), (status = 404, body = ApiError, description = "unknown, or another tenant's")))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<CptsOverview>, ApiError> {
    Ok(Json(app::cpts_overview(&ctx(&state, &principal, &headers), &id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TerritoryBody {
    communes: Vec<String>,
}

/// Replaces a CPTS's communes, all or nothing (coordinator, board, admin).
#[utoipa::path(put, path = "/api/v1/cpts/{id}/territory", tag = "cpts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TerritoryBody,
    responses((status = 200, body = CptsOverview), (status = 422, body = ApiError)))]
pub async fn replace_territory(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<TerritoryBody>,
) -> Result<Json<CptsOverview>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    app::replace_territory(&c, &id, &body.communes.join(",")).await?;
    Ok(Json(app::cpts_overview(&c, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number from 0, newest first, 50 events a page.
    #[serde(default)]
    page: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    total: u64,
    page: u32,
    #[schema(value_type = Vec<Object>)]
    events: Vec<AuditEvent>,
}

/// A page of a CPTS's audit log (coordinator, admin). Reading it is itself logged.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/audit", tag = "audit", security(("bearer" = [])),
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let (events, total) = app::audit_page(&ctx(&state, &principal, &headers), Some(&id), q.page).await?;
    Ok(Json(AuditPage { total, page: q.page, events }))
}

/// A page of the whole platform's audit log (admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ApiError)))]
pub async fn platform_audit(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let (events, total) = app::audit_page(&ctx(&state, &principal, &headers), None, q.page).await?;
    Ok(Json(AuditPage { total, page: q.page, events }))
}
