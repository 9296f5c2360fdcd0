//! Importing the national extract from the browser (`/cpts/{id}/annuaire/imports`): the upload
//! form posts the file, and the job's page shows its progress (htmx polls the fragment every
//! second while it runs; without JavaScript, a "Rafraîchir" link).

use super::cpts::ctx;
use super::{Chrome, fr_int, is_htmx, render};
use crate::app::directory_import as uc;
use crate::auth::Principal;
use crate::error::PageError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, Redirect};
use maillage_store::{ImportJob, ImportJobState};

/// `POST /cpts/{id}/annuaire/imports` (multipart: `csrf`, then the file `fichier`)
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: Request,
) -> Result<Redirect, PageError> {
    let (parts, body) = request.into_parts();
    let c = ctx(&state, &principal, &parts.headers);
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let job = uc::start(&c, &id, content_type, body).await?;
    Ok(Redirect::to(&format!("/cpts/{id}/annuaire/imports/{job}")))
}

pub struct RejectView {
    pub line: String,
    pub column: String,
    pub reason: String,
}

/// One job as shown.
pub struct JobView {
    pub href: String,
    pub file_name: String,
    pub running: bool,
    pub state: &'static str,
    pub state_class: &'static str,
    pub bytes_total: u64,
    pub bytes_read: u64,
    pub percent: u64,
    pub lines_read: String,
    pub kept: String,
    pub rejected: String,
    pub message: String,
    pub rejects: Vec<RejectView>,
    /// (label, count) of the outcome when done.
    pub outcome: Vec<(&'static str, String)>,
    pub started: String,
}

impl JobView {
    fn of(cpts: &str, job: &ImportJob) -> Self {
        let (state, state_class) = match job.state {
            ImportJobState::Running => ("en cours", "info"),
            ImportJobState::Done => ("terminé", "succes"),
            ImportJobState::Refused => ("refusé : rien n'a été importé", "erreur"),
            ImportJobState::Failed => ("échoué : rien n'a été importé", "erreur"),
        };
        let report: serde_json::Value = serde_json::from_str(&job.report).unwrap_or_default();
        let rejects = match job.state {
            ImportJobState::Refused => report
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|r| RejectView {
                            line: r["line"].as_u64().map(|n| fr_int(&n)).unwrap_or_default(),
                            column: r["column"].as_str().unwrap_or("—").to_owned(),
                            reason: r["reason"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let outcome = match job.state {
            ImportJobState::Done => [
                ("Ajoutés", "inserted"),
                ("Modifiés", "updated"),
                ("Inchangés", "unchanged"),
                ("Partis", "marked_left"),
                ("Revenus", "returned"),
            ]
            .into_iter()
            .map(|(label, key)| (label, fr_int(&report[key].as_u64().unwrap_or(0))))
            .collect(),
            _ => Vec::new(),
        };
        let p = &job.progress;
        let bytes_read = p.bytes_read.min(job.bytes_total);
        Self {
            href: format!("/cpts/{cpts}/annuaire/imports/{}", job.id),
            file_name: job.file_name.clone(),
            running: job.state == ImportJobState::Running,
            state,
            state_class,
            bytes_total: job.bytes_total.max(1),
            bytes_read,
            percent: (bytes_read * 100).checked_div(job.bytes_total).unwrap_or(100),
            lines_read: fr_int(&p.lines_read),
            kept: fr_int(&p.kept),
            rejected: fr_int(&p.rejected),
            message: job.message.clone(),
            rejects,
            outcome,
            started: format!("{} (UTC) par {}", job.started_at.format("%d/%m/%Y %H:%M"), job.started_by),
        }
    }
}

#[derive(Template)]
#[template(path = "directory_import_job.html")]
pub struct JobPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub job: JobView,
}

#[derive(Template)]
#[template(path = "directory_import_job_state.html")]
pub struct JobFragment {
    pub cpts_id: String,
    pub job: JobView,
}

/// `GET /cpts/{id}/annuaire/imports/{job}` (coordinator and board); only the progress block
/// when htmx asks.
pub async fn job(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, job)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, found) = uc::job(&c, &id, &job).await?;
    let view = JobView::of(cpts.id.as_str(), &found);
    if is_htmx(&headers) {
        return Ok(Html(render(&JobFragment { cpts_id: cpts.id.to_string(), job: view })));
    }
    let chrome = Chrome::for_user(
        &principal,
        format!("Import de l'annuaire — {}", cpts.name),
        Some(cpts.name.clone()),
        &format!("/cpts/{}/annuaire", cpts.id),
    );
    Ok(Html(render(&JobPage { chrome, cpts_id: cpts.id.to_string(), cpts_name: cpts.name.clone(), job: view })))
}
