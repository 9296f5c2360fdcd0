//! Files of the directory from the browser (coordinator and board): the exports
//! (`/cpts/{id}/annuaire/export?format=csv|xlsx|vcard|fhir[&partis=oui]`, a download) and the
//! member list upload (`/cpts/{id}/annuaire/adherents/import`: a plain multipart form, a
//! preview of what it would change, then a confirmation form that applies it).

use super::cpts::ctx;
use super::{Chrome, fr_int, render};
use crate::app::directory_files::{self as uc, Applied, MemberPreview, UploadForm, field_label_fr};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maillage_core::directory::members::MemberField;
use maillage_office::TextEncoding;
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// Exports

/// The export's query: `format` (csv, xlsx, vcard, fhir) and `partis` (`oui` or `1`: also the
/// professionals no longer in the national extract).
#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(default)]
    partis: String,
}

/// Whether a `partis` parameter asks for those who left.
pub fn wants_left(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty() && !matches!(v, "non" | "0" | "false")
}

/// A file as a download.
pub fn download(file: uc::ExportFile) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file.file_name)),
        ],
        file.bytes,
    )
        .into_response()
}

/// `GET /cpts/{id}/annuaire/export?format=&partis=` (coordinator and board)
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let file = uc::export(&c, &id, &q.format, wants_left(&q.partis)).await?;
    Ok(download(file))
}

// ---------------------------------------------------------------------------------------------
// Member list upload

pub struct ColumnInput {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
}

pub struct RejectView {
    pub line: String,
    pub column: String,
    pub reason: String,
}

pub struct PreviewView {
    pub file_name: String,
    pub windows_1252: bool,
    pub rows: String,
    /// (field label, header in the file)
    pub columns: Vec<(&'static str, String)>,
    pub created: String,
    pub updated: String,
    pub unchanged: String,
    pub rejects: Vec<RejectView>,
    /// (line, national id)
    pub unknown: Vec<(String, String)>,
    pub payload: Option<String>,
    /// The file has no data line.
    pub empty: bool,
}

impl From<&MemberPreview> for PreviewView {
    fn from(p: &MemberPreview) -> Self {
        Self {
            file_name: p.file_name.clone(),
            windows_1252: p.encoding == TextEncoding::Windows1252,
            rows: fr_int(&(p.rows as u64)),
            columns: p.columns.iter().map(|(f, h)| (field_label_fr(*f), h.clone())).collect(),
            created: fr_int(&p.created),
            updated: fr_int(&p.updated),
            unchanged: fr_int(&p.unchanged),
            rejects: p
                .rejects
                .iter()
                .map(|r| RejectView {
                    line: fr_int(&r.line),
                    column: r.column.clone().unwrap_or_else(|| "—".into()),
                    reason: r.reason_fr.clone(),
                })
                .collect(),
            unknown: p.unknown.iter().map(|u| (fr_int(&u.line), u.national_id.clone())).collect(),
            payload: p.payload.clone(),
            empty: p.rows == 0,
        }
    }
}

#[derive(Template)]
#[template(path = "directory_members_import.html")]
pub struct MembersImportPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub sheet: String,
    pub columns: Vec<ColumnInput>,
    pub error: Option<String>,
    pub preview: Option<PreviewView>,
    /// The list was applied: (file name, created, updated, unchanged).
    pub done: Option<(String, String, String, String)>,
}

fn page(
    principal: &Principal,
    cpts_id: &str,
    cpts_name: &str,
    form: &UploadForm,
    error: Option<String>,
    preview: Option<PreviewView>,
) -> MembersImportPage {
    let chrome = Chrome::for_user(
        principal,
        format!("Import de la liste des adhérents — {cpts_name}"),
        Some(cpts_name.to_owned()),
        &format!("/cpts/{cpts_id}/annuaire"),
    );
    MembersImportPage {
        chrome,
        cpts_id: cpts_id.to_owned(),
        cpts_name: cpts_name.to_owned(),
        sheet: form.sheet.clone(),
        columns: MemberField::ALL
            .into_iter()
            .map(|f| ColumnInput { key: f.key(), label: field_label_fr(f), value: form.header_for(f).to_owned() })
            .collect(),
        error,
        preview,
        done: None,
    }
}

/// `GET /cpts/{id}/annuaire/adherents/import` (coordinator and board)
pub async fn members_form(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let cpts = crate::app::load_cpts(&c, &id, crate::app::Need::Edit).await?;
    let p = page(&principal, cpts.id.as_str(), &cpts.name, &UploadForm::default(), None, None);
    Ok(Html(render(&p)))
}

/// `POST /cpts/{id}/annuaire/adherents/import` (multipart: `csrf`, `feuille`, `colonne_<field>`,
/// then the file `fichier`): the preview, or the form again with what to fix (422).
pub async fn members_upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, PageError> {
    let (parts, body) = request.into_parts();
    let c = ctx(&state, &principal, &parts.headers);
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let (cpts, form, result) = uc::preview_upload(&c, &id, content_type, body).await?;
    let (status, p) = match result {
        Ok(preview) => {
            let status = if preview.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            (status, page(&principal, cpts.id.as_str(), &cpts.name, &form, None, Some(PreviewView::from(&preview))))
        }
        Err(e @ Failure::Invalid { .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&principal, cpts.id.as_str(), &cpts.name, &form, Some(e.fr()), None),
        ),
        Err(e) => return Err(e.into()),
    };
    Ok((status, Html(render(&p))).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    /// The checked list of the preview (JSON).
    #[serde(default)]
    liste: String,
}

impl CsrfField for ConfirmForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/annuaire/adherents/import/confirmer` (`csrf`, `liste`): applies the list
/// checked by the preview, after checking it again; nothing is written if anything is wrong.
pub async fn members_confirm(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (status, p) = match uc::confirm(&c, &id, &form.liste).await {
        Ok(Applied::Done { cpts, file_name, outcome }) => {
            let mut p = page(&principal, cpts.id.as_str(), &cpts.name, &UploadForm::default(), None, None);
            p.done = Some((file_name, fr_int(&outcome.created), fr_int(&outcome.updated), fr_int(&outcome.unchanged)));
            (StatusCode::OK, p)
        }
        Ok(Applied::Refused(preview)) => {
            let view = PreviewView::from(&preview);
            let error = "La liste n'a pas été appliquée : rien n'a été modifié. Corrigez le fichier puis envoyez-le \
                         à nouveau.";
            let p = page(
                &principal,
                preview.cpts.id.as_str(),
                &preview.cpts.name,
                &UploadForm::default(),
                Some(error.to_owned()),
                Some(view),
            );
            (StatusCode::UNPROCESSABLE_ENTITY, p)
        }
        Err(e @ Failure::Invalid { .. }) => {
            let cpts = crate::app::load_cpts(&c, &id, crate::app::Need::Edit).await?;
            let p = page(&principal, cpts.id.as_str(), &cpts.name, &UploadForm::default(), Some(e.fr()), None);
            (StatusCode::UNPROCESSABLE_ENTITY, p)
        }
        Err(e) => return Err(e.into()),
    };
    Ok((status, Html(render(&p))).into_response())
}
