//! Who is asking: sessions (cookie) for people, bearer tokens for machine clients, and the
//! CSRF check that every state-changing form goes through.

pub mod cookies;
pub mod login;
pub mod oidc;
pub mod secrets;

use crate::error::{ApiError, Failure, PageError};
use crate::state::AppState;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use maillage_core::access::Role;
use maillage_store::{Account, AccountStore, Session};
use serde::de::DeserializeOwned;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: Account,
    /// Present for browser sessions; `None` for API tokens.
    pub session: Option<Session>,
}

impl Principal {
    pub fn role(&self) -> &Role {
        &self.account.role
    }

    /// How the audit log names the person (kept even if the account is later deleted).
    pub fn label(&self) -> String {
        format!("{} <{}>", self.account.display_name, self.account.email)
    }

    /// The CSRF token to put in forms (and in htmx's `X-CSRF-Token` header).
    pub fn csrf_token(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
    }
}

/// Rejection when no valid credentials come with the request: pages redirect to the login
/// page, the API answers 401 in JSON.
pub struct AuthRejection {
    api: bool,
    failure: Failure,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        if self.api { ApiError::from(self.failure).into_response() } else { PageError(self.failure).into_response() }
    }
}

fn is_api(parts: &Parts) -> bool {
    // Inside a nested router the URI is stripped of its prefix: look at the original one.
    let path = parts.extensions.get::<axum::extract::OriginalUri>().map_or(parts.uri.path(), |o| o.0.path());
    path.starts_with("/api/")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Looks up the caller once per request and caches the answer in the request's extensions.
async fn principal_of(parts: &mut Parts, state: &AppState) -> Result<Option<Principal>, Failure> {
    if let Some(cached) = parts.extensions.get::<Option<Principal>>() {
        return Ok(cached.clone());
    }
    let now = state.now();
    let found = if let Some(token) = bearer(&parts.headers) {
        let account = state.store.account_by_api_token(&secrets::token_hash(token), now).await?;
        // A wrong token is an error, not an anonymous request.
        Some(account.map(|account| Principal { account, session: None }).ok_or(Failure::Unauthenticated)?)
    } else if let Some(token) = cookies::get(&parts.headers, cookies::SESSION) {
        state
            .store
            .live_session(&secrets::token_hash(&token), now)
            .await?
            .map(|(session, account)| Principal { account, session: Some(session) })
    } else {
        None
    };
    // Browser sessions calling the JSON API with an unsafe method must show the CSRF header.
    if let Some(Principal { session: Some(session), .. }) = &found {
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if is_api(parts) && unsafe_method {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !secrets::same_secret(sent, &session.csrf_token) {
                return Err(Failure::Csrf);
            }
        }
    }
    parts.extensions.insert(found.clone());
    Ok(found)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let api = is_api(parts);
        match principal_of(parts, state).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(AuthRejection { api, failure: Failure::Unauthenticated }),
            Err(failure) => Err(AuthRejection { api, failure }),
        }
    }
}

/// The caller if logged in, for pages that anonymous visitors may also see.
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybePrincipal {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let api = is_api(parts);
        match principal_of(parts, state).await {
            Ok(p) => Ok(MaybePrincipal(p)),
            Err(Failure::Unauthenticated) => Ok(MaybePrincipal(None)),
            Err(failure) => Err(AuthRejection { api, failure }),
        }
    }
}

/// Forms carry their CSRF token in a `csrf` field.
pub trait CsrfField {
    fn csrf(&self) -> &str;
}

/// A form whose CSRF token was checked: against the session's token when logged in, against
/// the pre-login cookie otherwise (double submit, `SameSite=Strict`).
pub struct CsrfForm<T>(pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + CsrfField + Send,
{
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let principal = principal_of(&mut parts, state).await.map_err(PageError)?;
        let expected = match &principal {
            Some(p) => p.csrf_token().to_owned(),
            None => cookies::get(&parts.headers, cookies::PRE_LOGIN_CSRF).unwrap_or_default(),
        };
        let request = Request::from_parts(parts, body);
        let Form(form) = Form::<T>::from_request(request, state).await.map_err(|e| {
            PageError(Failure::invalid("invalid_form", "Le formulaire est incomplet ou mal rempli.", e.body_text()))
        })?;
        if expected.is_empty() || !secrets::same_secret(form.csrf(), &expected) {
            return Err(PageError(Failure::Csrf));
        }
        Ok(CsrfForm(form))
    }
}
