//! Password login and logout, with throttling per account and per address.

use super::{CsrfField, CsrfForm, MaybePrincipal, Principal, cookies, secrets};
use crate::app;
use crate::error::{Failure, PageError};
use crate::middleware::request_id;
use crate::pages::{self, LoginPage};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maillage_store::{Account, AccountStore, Session};
use serde::Deserialize;
use std::convert::Infallible;
use std::net::SocketAddr;

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when configured.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.settings.trust_forwarded_for
            && let Some(first) =
                parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next())
        {
            return Ok(ClientAddr(first.trim().to_owned()));
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddr(peer.unwrap_or_else(|| "unknown".into())))
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    erreur: Option<String>,
}

/// `GET /connexion`
pub async fn page(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    Query(q): Query<LoginQuery>,
) -> Response {
    if principal.is_some() {
        return Redirect::to("/").into_response();
    }
    let error = match q.erreur.as_deref() {
        Some("oidc") => Some("La connexion par le fournisseur d'identité a échoué. Réessayez.".to_owned()),
        Some("compte") => Some("Aucun compte Maillage n'est associé à cette identité. Demandez à votre coordinatrice ou à l'administration de créer votre compte.".to_owned()),
        _ => None,
    };
    login_form(&state, "", error, axum::http::StatusCode::OK)
}

fn login_form(state: &AppState, email: &str, error: Option<String>, status: axum::http::StatusCode) -> Response {
    let csrf = secrets::random_token();
    let page = LoginPage {
        chrome: pages::Chrome::anonymous("Connexion"),
        csrf: csrf.clone(),
        email: email.to_owned(),
        error,
        oidc_label: state
            .oidc
            .as_ref()
            .map(|_| state.settings.oidc.as_ref().map_or_else(|| "Pro Santé Connect".to_owned(), |o| o.label.clone())),
    };
    let cookie = cookies::set(cookies::PRE_LOGIN_CSRF, &csrf, 3600, "Strict", state.settings.secure_cookies());
    let mut response = (status, Html(pages::render(&page))).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
}

impl CsrfField for LoginForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /connexion`
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let window = chrono::Duration::minutes(state.settings.login_window_minutes);
    let email = form.email.trim().to_lowercase();
    let keys = [format!("account:{email}"), format!("address:{addr}")];
    let rid = request_id(&headers);
    for key in &keys {
        if state.store.login_failures(key, now, window).await? >= state.settings.login_max_failures {
            app::record(&state, None, None, "login_refused", "account", &email, &rid, format!("trop d'échecs ({key})"))
                .await?;
            let f = Failure::TooManyAttempts;
            return Ok(login_form(&state, &form.email, Some(f.fr()), f.status()));
        }
    }
    let credentials = state.store.account_credentials(&email).await?;
    let hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
    let password_ok = secrets::verify_password(form.password, hash).await;
    let account = credentials.map(|c| c.account).filter(|a| password_ok && a.disabled_at.is_none());
    let Some(account) = account else {
        for key in &keys {
            state.store.record_login_failure(key, now, window).await?;
        }
        app::record(&state, None, None, "login_failed", "account", &email, &rid, format!("adresse {addr}")).await?;
        return Ok(login_form(
            &state,
            &form.email,
            Some("Adresse électronique ou mot de passe incorrect.".into()),
            axum::http::StatusCode::UNAUTHORIZED,
        ));
    };
    state.store.clear_login_failures(&keys[0]).await?;
    start_session(&state, account, &rid, "mot de passe", "/").await
}

/// Opens a session for an authenticated account and redirects.
pub async fn start_session(
    state: &AppState,
    account: Account,
    request_id: &str,
    method: &str,
    redirect_to: &str,
) -> Result<Response, PageError> {
    let now = state.now();
    let token = secrets::random_token();
    let session = Session {
        token_hash: secrets::token_hash(&token),
        account_id: account.id.clone(),
        csrf_token: secrets::random_token(),
        created_at: now,
        expires_at: now + chrono::Duration::hours(state.settings.session_hours),
    };
    state.store.create_session(&session, now).await?;
    let principal = Principal { account, session: Some(session) };
    app::record(
        state,
        Some(&principal),
        principal.role().cpts(),
        "login",
        "session",
        &principal.account.id,
        request_id,
        method,
    )
    .await?;
    let cookie = cookies::set(
        cookies::SESSION,
        &token,
        state.settings.session_hours * 3600,
        "Lax",
        state.settings.secure_cookies(),
    );
    let mut response = Redirect::to(redirect_to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cookies::clear(cookies::PRE_LOGIN_CSRF, state.settings.secure_cookies())) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

impl CsrfField for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /deconnexion`
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    if let Some(session) = &principal.session {
        state.store.delete_session(&session.token_hash).await?;
    }
    app::record(
        &state,
        Some(&principal),
        principal.role().cpts(),
        "logout",
        "session",
        &principal.account.id,
        &request_id(&headers),
        "",
    )
    .await?;
    let mut response = Redirect::to("/connexion").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookies::clear(cookies::SESSION, state.settings.secure_cookies())) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}
