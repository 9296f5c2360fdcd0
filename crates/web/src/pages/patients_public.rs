//! The public form where a person without a médecin traitant registers with the CPTS of her
//! territory (`/cpts/{id}/inscription`): no account, reachable without login. It is protected
//! like the login form (a pre-login CSRF cookie, double submit), against robots by a honeypot
//! field (a filled one gets the usual confirmation and nothing is stored) and by a rate limit
//! per client address kept in the database (`app::patients::self_register`). The confirmation
//! echoes nothing of what was typed.

use super::patients::{FieldsView, FormErrors};
use super::{Chrome, render};
use crate::app::patients::{self as uc, SelfRegistration};
use crate::auth::login::ClientAddr;
use crate::auth::{CsrfField, CsrfForm, MaybePrincipal, Principal, cookies, secrets};
use crate::error::{Failure, PageError};
use crate::middleware::request_id;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maillage_core::patients::RequestForm;
use maillage_store::Cpts;
use serde::Deserialize;

/// The honeypot's name: a field people never see nor fill, that form-filling robots do.
pub const HONEYPOT: &str = "site_web";

#[derive(Template)]
#[template(path = "patients_public.html")]
pub struct PublicPage {
    pub chrome: Chrome,
    pub action: String,
    pub csrf: String,
    pub cpts_name: String,
    pub f: FieldsView,
    /// A refusal that is not about a field (too many submissions).
    pub alert: Option<String>,
}

#[derive(Template)]
#[template(path = "patients_public_done.html")]
pub struct DonePage {
    pub chrome: Chrome,
    pub cpts_name: String,
}

#[derive(Deserialize, Default)]
pub struct PublicFields {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "site_web")]
    honeypot: String,
    #[serde(flatten)]
    form: RequestForm,
}

impl CsrfField for PublicFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn chrome(principal: Option<&Principal>, title: &str, cpts: &Cpts) -> Chrome {
    let mut chrome = match principal {
        Some(p) => Chrome::for_user(p, title, None, ""),
        None => Chrome::anonymous(title),
    };
    chrome.context = Some(cpts.name.clone());
    chrome
}

/// The form, with the CSRF token of the session, or else of the pre-login cookie (kept if the
/// browser has one, so that another open form stays valid).
/// What the form shows again: what was typed, its problems, a refusal that is not about a field
/// (too many submissions), and the status.
struct Shown {
    form: RequestForm,
    errors: FormErrors,
    alert: Option<String>,
    status: StatusCode,
}

fn form_response(
    state: &AppState,
    principal: Option<&Principal>,
    headers: &HeaderMap,
    cpts: &Cpts,
    shown: Shown,
) -> Response {
    let Shown { form, errors, alert, status } = shown;
    let (csrf, cookie) = match principal {
        Some(p) => (p.csrf_token().to_owned(), None),
        None => {
            let token = cookies::get(headers, cookies::PRE_LOGIN_CSRF)
                .filter(|t| t.len() >= 32 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                .unwrap_or_else(secrets::random_token);
            let cookie = cookies::set(cookies::PRE_LOGIN_CSRF, &token, 3600, "Strict", state.settings.secure_cookies());
            (token, Some(cookie))
        }
    };
    let title = format!("Trouver un médecin traitant — {}", cpts.name);
    let page = PublicPage {
        chrome: chrome(principal, &title, cpts),
        action: format!("/cpts/{}/inscription", cpts.id),
        csrf,
        cpts_name: cpts.name.clone(),
        f: FieldsView::new(state, cpts, form, errors, true),
        alert,
    };
    let mut response = (status, Html(render(&page))).into_response();
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /cpts/{id}/inscription` (public)
pub async fn page(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let cpts = uc::public_cpts(&state, &id).await?;
    let shown =
        Shown { form: RequestForm::default(), errors: FormErrors::default(), alert: None, status: StatusCode::OK };
    Ok(form_response(&state, principal.as_ref(), &headers, &cpts, shown))
}

/// `POST /cpts/{id}/inscription` (public): registers the person, or shows what to correct
/// (422), or says to come back later (429).
pub async fn submit(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<PublicFields>,
) -> Result<Response, PageError> {
    let cpts = uc::public_cpts(&state, &id).await?;
    let rid = request_id(&headers);
    match uc::self_register(&state, &rid, &addr, &id, &f.form, &f.honeypot).await {
        Ok(SelfRegistration::Registered | SelfRegistration::Ignored) => {
            let page = DonePage {
                chrome: chrome(principal.as_ref(), "Votre demande est enregistrée", &cpts),
                cpts_name: cpts.name.clone(),
            };
            Ok(Html(render(&page)).into_response())
        }
        Err(e @ Failure::Invalid { .. }) => {
            let shown = Shown {
                form: f.form,
                errors: FormErrors::of(&e),
                alert: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(form_response(&state, principal.as_ref(), &headers, &cpts, shown))
        }
        Err(Failure::TooManyAttempts) => {
            let alert = format!(
                "Trop de demandes ont été envoyées depuis votre connexion à internet ces dernières minutes : votre \
                 demande n'a pas été enregistrée. Réessayez dans une heure, ou contactez directement la {}.",
                cpts.name
            );
            let shown = Shown {
                form: f.form,
                errors: FormErrors::default(),
                alert: Some(alert),
                status: StatusCode::TOO_MANY_REQUESTS,
            };
            Ok(form_response(&state, principal.as_ref(), &headers, &cpts, shown))
        }
        Err(e) => Err(e.into()),
    }
}
