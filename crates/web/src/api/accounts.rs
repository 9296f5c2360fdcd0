use crate::app::{self, AccountRequest, AccountView, Ctx};
use crate::auth::Principal;
use crate::error::{ApiError, Failure};
use crate::middleware::request_id;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use maillage_core::access::{CptsId, Role};
use maillage_store::{AccountStore, ApiToken};
use serde::{Deserialize, Serialize};

fn ctx<'a>(state: &'a AppState, principal: &'a Principal, headers: &HeaderMap) -> Ctx<'a> {
    Ctx { state, principal, request_id: request_id(headers) }
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountView), (status = 401, body = ApiError)))]
pub async fn me(principal: Principal) -> Json<AccountView> {
    Json(AccountView::from(&principal.account))
}

/// Accounts of a CPTS (its coordinator, admins). Audited.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/accounts", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = [AccountView]), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_cpts_accounts(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    Ok(Json(app::list_accounts(&ctx(&state, &principal, &headers), Some(&id)).await?))
}

/// Every account of the platform (admins). Audited.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = [AccountView]), (status = 403, body = ApiError)))]
pub async fn list_all(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    Ok(Json(app::list_accounts(&ctx(&state, &principal, &headers), None).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewAccountBody {
    email: String,
    display_name: String,
    /// At least 12 characters; omit for accounts that log in through OpenID Connect only.
    password: Option<String>,
    /// platform_admin, national_observer, regional_observer, coordinator, board_member, member_professional
    role: String,
    cpts: Option<String>,
    region: Option<String>,
    /// ars or cpam
    agency: Option<String>,
}

fn role_of(body: &NewAccountBody, forced_cpts: Option<&CptsId>) -> Result<Role, Failure> {
    Ok(Role::from_text(&body.role, body.cpts.as_deref(), body.region.as_deref(), body.agency.as_deref(), forced_cpts)?)
}

async fn create(
    c: &Ctx<'_>,
    body: NewAccountBody,
    cpts: Option<&CptsId>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let role = role_of(&body, cpts)?;
    let view = app::create_account(
        c,
        AccountRequest { email: body.email, display_name: body.display_name, password: body.password, role },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Creates an account in a CPTS (its coordinator: board or member roles; admins: any).
#[utoipa::path(post, path = "/api/v1/cpts/{id}/accounts", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewAccountBody,
    responses((status = 201, body = AccountView), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create_cpts_account(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<NewAccountBody>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let c = ctx(&state, &principal, &headers);
    let cpts = app::load_cpts(&c, &id, app::Need::Accounts).await?;
    create(&c, body, Some(&cpts.id)).await
}

/// Creates an account of any role (admins).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])), request_body = NewAccountBody,
    responses((status = 201, body = AccountView), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create_any(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(body): Json<NewAccountBody>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let c = ctx(&state, &principal, &headers);
    c.allow(maillage_core::access::Action::AdministerPlatform)?;
    create(&c, body, None).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AccountPatch {
    /// New role (with its cpts / region / agency).
    role: Option<String>,
    cpts: Option<String>,
    region: Option<String>,
    agency: Option<String>,
    disabled: Option<bool>,
}

/// Changes an account's role, or disables / re-enables it.
#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AccountPatch,
    responses((status = 200, body = AccountView), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(patch): Json<AccountPatch>,
) -> Result<Json<AccountView>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let role = match patch.role {
        Some(role) => Some(role_of(
            &NewAccountBody {
                email: String::new(),
                display_name: String::new(),
                password: None,
                role,
                cpts: patch.cpts,
                region: patch.region,
                agency: patch.agency,
            },
            None,
        )?),
        None => None,
    };
    Ok(Json(app::update_account(&c, &id, role, patch.disabled).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    id: String,
    name: String,
    created_at: chrono::DateTime<chrono::Utc>,
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    revoked: bool,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked: t.revoked_at.is_some(),
        }
    }
}

/// The caller's API tokens (never their values).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = [TokenView])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.store.list_api_tokens(&principal.account.id).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewTokenBody {
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewToken {
    id: String,
    /// Shown once: only its hash is kept.
    token: String,
}

/// Creates an API token for the caller.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", security(("bearer" = [])), request_body = NewTokenBody,
    responses((status = 201, body = NewToken), (status = 422, body = ApiError)))]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let (record, token) = app::create_api_token(&ctx(&state, &principal, &headers), &body.name).await?;
    Ok((StatusCode::CREATED, Json(NewToken { id: record.id, token })))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app::revoke_api_token(&ctx(&state, &principal, &headers), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
