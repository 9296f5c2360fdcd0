//! Login through an OpenID Connect provider (Pro Santé Connect in production).
//!
//! The pending login (state, nonce, PKCE verifier) lives in the database, so any server can
//! take the callback; a cookie binds it to the browser that started it, so nobody can log a
//! victim into someone else's account by sending them a callback link.

use super::{cookies, login, secrets};
use crate::app;
use crate::error::{Failure, PageError};
use crate::middleware::request_id;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_oidc::PendingLogin;
use maillage_store::{AccountStore, PendingOidcLogin};
use serde::Deserialize;

/// How long a started login may take.
const PENDING_MINUTES: i64 = 10;

/// `GET /auth/oidc/start`
pub async fn start(State(state): State<AppState>) -> Result<Response, PageError> {
    let client = state.oidc.as_ref().ok_or(Failure::NotFound)?;
    let (url, pending) = client.begin();
    let browser = secrets::random_token();
    state
        .store
        .put_pending_oidc(&PendingOidcLogin {
            state: pending.state,
            issuer: pending.issuer,
            browser_hash: secrets::token_hash(&browser),
            nonce: pending.nonce,
            pkce_verifier: pending.pkce_verifier,
            return_to: "/".into(),
            created_at: state.now(),
        })
        .await?;
    let cookie =
        cookies::set(cookies::OIDC_BROWSER, &browser, PENDING_MINUTES * 60, "Lax", state.settings.secure_cookies());
    let mut response = Redirect::to(url.as_str()).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn failed(reason: &str) -> Response {
    tracing::warn!(reason, "OpenID Connect login failed");
    Redirect::to("/connexion?erreur=oidc").into_response()
}

/// `GET /auth/oidc/callback`
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Result<Response, PageError> {
    let client = state.oidc.as_ref().ok_or(Failure::NotFound)?;
    let rid = request_id(&headers);
    // The pending login is consumed whatever happens next.
    let pending = match &q.state {
        Some(s) => state.store.take_pending_oidc(s).await?,
        None => None,
    };
    let Some(pending) = pending else { return Ok(failed("unknown or reused state")) };
    if let Some(error) = q.error {
        return Ok(failed(&format!("provider answered {error}")));
    }
    let browser = cookies::get(&headers, cookies::OIDC_BROWSER).unwrap_or_default();
    if !secrets::same_secret(&secrets::token_hash(&browser), &pending.browser_hash) {
        return Ok(failed("callback from another browser"));
    }
    let now = state.now();
    if now - pending.created_at > chrono::Duration::minutes(PENDING_MINUTES) {
        return Ok(failed("login took too long"));
    }
    let (Some(code), Some(returned_state)) = (q.code, q.state) else { return Ok(failed("no code")) };
    let login = PendingLogin {
        issuer: pending.issuer,
        state: pending.state,
        nonce: pending.nonce,
        pkce_verifier: pending.pkce_verifier,
    };
    let identity = match client.complete(&login, &code, &returned_state, now).await {
        Ok(identity) => identity,
        Err(e) => {
            app::record(&state, None, None, "login_failed", "oidc", client.issuer(), &rid, e.to_string()).await?;
            return Ok(failed(&e.to_string()));
        }
    };
    let mut account = state.store.account_by_oidc(&identity.issuer, &identity.subject).await?;
    if account.is_none() && identity.email_verified == Some(true) {
        // First login: link to the account created for this (verified) e-mail, if it has no
        // other identity yet.
        if let Some(email) = &identity.email
            && let Some(creds) = state.store.account_credentials(email).await?
            && creds.account.oidc.is_none()
        {
            state.store.link_oidc(&creds.account.id, &identity.issuer, &identity.subject).await?;
            account = Some(state.store.get_account(&creds.account.id).await?);
        }
    }
    let Some(account) = account.filter(|a| a.disabled_at.is_none()) else {
        app::record(&state, None, None, "login_failed", "oidc", &identity.subject, &rid, "aucun compte associé")
            .await?;
        return Ok(Redirect::to("/connexion?erreur=compte").into_response());
    };
    let mut response = login::start_session(&state, account, &rid, "OpenID Connect", &pending.return_to).await?;
    if let Ok(v) = HeaderValue::from_str(&cookies::clear(cookies::OIDC_BROWSER, state.settings.secure_cookies())) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}
