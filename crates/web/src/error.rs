//! Failures, and how pages and the API show them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maillage_store::StoreError;
use serde::Serialize;

/// What went wrong, independent of how it is shown. French messages are for people.
#[derive(Debug)]
pub enum Failure {
    /// Not logged in.
    Unauthenticated,
    Forbidden,
    NotFound,
    /// The request is wrong; the message says what to fix, and `details` each problem when the
    /// domain lists them (a contract or an expense that does not validate; API clients see them).
    Invalid {
        code: &'static str,
        fr: String,
        en: String,
        details: Vec<ErrorDetail>,
    },
    Conflict {
        fr: String,
        en: String,
    },
    TooManyAttempts,
    /// A CSRF token was missing or wrong.
    Csrf,
    Internal(String),
}

impl Failure {
    pub fn invalid(code: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self::Invalid { code, fr: fr.into(), en: en.into(), details: Vec::new() }
    }

    /// The same failure with the individual problems (only `Invalid` carries them).
    pub fn with_details(mut self, problems: impl IntoIterator<Item = ErrorDetail>) -> Self {
        if let Failure::Invalid { details, .. } = &mut self {
            details.extend(problems);
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Unauthenticated => StatusCode::UNAUTHORIZED,
            Failure::Forbidden | Failure::Csrf => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::Conflict { .. } => StatusCode::CONFLICT,
            Failure::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Failure::Unauthenticated => "unauthenticated",
            Failure::Forbidden => "forbidden",
            Failure::Csrf => "csrf",
            Failure::NotFound => "not_found",
            Failure::Invalid { code, .. } => code,
            Failure::Conflict { .. } => "conflict",
            Failure::TooManyAttempts => "too_many_attempts",
            Failure::Internal(_) => "internal",
        }
    }

    pub fn fr(&self) -> String {
        match self {
            Failure::Unauthenticated => "Veuillez vous connecter.".into(),
            Failure::Forbidden => "Votre rôle ne donne pas accès à cette page.".into(),
            Failure::Csrf => {
                "Le formulaire a expiré ou ne vient pas de Maillage : rechargez la page et recommencez.".into()
            }
            Failure::NotFound => "Cette page n'existe pas.".into(),
            Failure::Invalid { fr, .. } | Failure::Conflict { fr, .. } => fr.clone(),
            Failure::TooManyAttempts => "Trop de tentatives de connexion : réessayez dans quelques minutes.".into(),
            Failure::Internal(_) => "Une erreur interne est survenue ; elle a été consignée.".into(),
        }
    }

    pub fn en(&self) -> String {
        match self {
            Failure::Unauthenticated => "authentication required".into(),
            Failure::Forbidden => "forbidden for this role".into(),
            Failure::Csrf => "missing or invalid CSRF token".into(),
            Failure::NotFound => "not found".into(),
            Failure::Invalid { en, .. } | Failure::Conflict { en, .. } => en.clone(),
            Failure::TooManyAttempts => "too many failed logins, retry later".into(),
            Failure::Internal(_) => "internal error".into(),
        }
    }

    fn log(&self) {
        if let Failure::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound => Failure::NotFound,
            StoreError::Conflict(en) => Failure::Conflict { fr: conflict_fr(en), en: en.clone() },
            StoreError::Stale { .. } => Failure::Conflict {
                fr: "Ces données ont été modifiées entre-temps par quelqu'un d'autre : vos changements n'ont pas été \
                     enregistrés. Rechargez la page pour voir la version actuelle, puis recommencez."
                    .into(),
                en: e.to_string(),
            },
            _ => Failure::Internal(e.to_string()),
        }
    }
}

impl From<maillage_core::access::RoleError> for Failure {
    fn from(e: maillage_core::access::RoleError) -> Self {
        Failure::invalid(e.code(), e.fr(), e.to_string())
    }
}

fn conflict_fr(en: &str) -> String {
    if en.contains("e-mail") {
        "Un compte existe déjà avec cette adresse électronique.".into()
    } else if en.contains("CPTS named") {
        "Une CPTS porte déjà ce nom.".into()
    } else if en.contains("contract already") {
        "Cette CPTS a déjà un contrat.".into()
    } else if en.contains("listed twice") {
        "Une commune est citée deux fois.".into()
    } else {
        "Cette modification entre en conflit avec des données existantes.".into()
    }
}

/// An error as API clients see it: a stable code, an English message for developers and a
/// French one for people, and the individual problems when there are several.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub message_fr: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// Each problem of a rejected document, with its code and where it is (absent when there is
    /// no such list).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

/// One problem of a rejected document: what (`code`), where (`path`), why (in English and in
/// French).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `deployed_before_start`, `amount_not_positive`.
    pub code: &'static str,
    /// Where in the request body: a field (`amount`) or a path
    /// (`missions.acces.indicators[0].targets.6`).
    pub path: String,
    pub en: String,
    pub fr: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub message: String,
    pub message_fr: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self { status, code, message: en.into(), message_fr: fr.into(), problems: Vec::new(), details: Vec::new() }
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        f.log();
        let mut error = ApiError::new(f.status(), f.code(), f.en(), f.fr());
        if let Failure::Invalid { details, .. } = f {
            error.details = details;
        }
        error
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Failure::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": &self }))).into_response()
    }
}

/// A failure on a page: a French error page (or a redirect to the login page).
#[derive(Debug)]
pub struct PageError(pub Failure);

impl<E: Into<Failure>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        if matches!(self.0, Failure::Unauthenticated) {
            return axum::response::Redirect::to("/connexion").into_response();
        }
        let status = self.0.status().as_u16();
        let message = self.0.fr();
        let page = crate::pages::ErrorPage {
            chrome: crate::pages::Chrome::anonymous(&format!("Erreur {status}")),
            status,
            message: message.clone(),
        };
        let mut response = (self.0.status(), Html(crate::pages::render(&page))).into_response();
        // Lets `middleware::error_pages_with_chrome` redraw it with the person's navigation.
        response.extensions_mut().insert(ErrorPageInfo { status, message });
        response
    }
}

/// What an error page said, kept on the response for the middleware that redraws it.
#[derive(Clone, Debug)]
pub struct ErrorPageInfo {
    pub status: u16,
    pub message: String,
}
