//! The caller's own account: password, API tokens, and the way to her profile in the directory.

use super::cpts::ctx;
use super::{Chrome, MyAccountPage, render};
use crate::app::{self, AccountView};
use crate::auth::{CsrfField, CsrfForm, Principal, secrets};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use maillage_store::{AccountStore, DirectoryStore};
use serde::Deserialize;

async fn page(
    state: &AppState,
    principal: &Principal,
    flash: Option<(&'static str, String)>,
    new_token: Option<String>,
) -> Result<Html<String>, PageError> {
    let tokens = state.store.list_api_tokens(&principal.account.id).await?;
    let directory_link = match principal.role().cpts() {
        Some(cpts) => state
            .store
            .professional_of_account(cpts, &principal.account.id)
            .await?
            .map(|_| format!("/cpts/{cpts}/annuaire/moi")),
        None => None,
    };
    let chrome = Chrome::for_user(principal, "Mon compte", None, "/compte").with_flash(flash);
    Ok(Html(render(&MyAccountPage {
        chrome,
        view: AccountView::from(&principal.account),
        tokens,
        new_token,
        directory_link,
    })))
}

/// `GET /compte`
pub async fn show(State(state): State<AppState>, principal: Principal) -> Result<Html<String>, PageError> {
    page(&state, &principal, None, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    new: String,
}

impl CsrfField for PasswordForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /compte/mot-de-passe`
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let creds = state.store.account_credentials(&principal.account.email).await?.ok_or(Failure::NotFound)?;
    // An account without a password (OpenID only) may set one; otherwise the current one is needed.
    if creds.password_hash.is_some() && !secrets::verify_password(form.current, creds.password_hash).await {
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, &principal, Some(("erreur", "Mot de passe actuel incorrect.".into())), None).await?,
        )
            .into_response());
    }
    if let Err(Failure::Invalid { fr, .. }) = app::validate_password(&form.new) {
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, &principal, Some(("erreur", fr)), None).await?,
        )
            .into_response());
    }
    let hash = secrets::hash_password(form.new).await.map_err(Failure::Internal)?;
    state.store.set_password_hash(&principal.account.id, &hash).await?;
    ctx(&state, &principal, &headers)
        .audit(principal.role().cpts(), "update", "password", &principal.account.id, "")
        .await?;
    Ok(page(&state, &principal, Some(("succes", "Mot de passe changé.".into())), None).await?.into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

impl CsrfField for TokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /compte/jetons`: the token is shown once, only its hash is kept.
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Html<String>, PageError> {
    let (_, token) = match app::create_api_token(&ctx(&state, &principal, &headers), &form.name).await {
        Ok(created) => created,
        Err(Failure::Invalid { fr, .. }) => return page(&state, &principal, Some(("erreur", fr)), None).await,
        Err(e) => return Err(e.into()),
    };
    page(&state, &principal, None, Some(token)).await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

impl CsrfField for RevokeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /compte/jetons/{id}/revoquer`
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<RevokeForm>,
) -> Result<Html<String>, PageError> {
    app::revoke_api_token(&ctx(&state, &principal, &headers), &id).await?;
    page(&state, &principal, Some(("succes", "Jeton révoqué.".into())), None).await
}
