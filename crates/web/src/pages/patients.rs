//! The registry of patients without a médecin traitant (`/cpts/{id}/acces-soins/patients`): the
//! list with its counts and filters, the professional's form with the duplicate check, a
//! request's page with its history and the changes made by hand, the export and erasure of a
//! person's data (RGPD), and the GPs' capacities (`/cpts/{id}/acces-soins/medecins`). Every form
//! works without JavaScript; a change shows the page again with its outcome.

use super::cpts::ctx;
use super::{Chrome, capitalised, commune_choices, commune_name, fr_date, fr_int, render};
use crate::app::patients::{self as uc, ProbableDuplicate, Registration, RequestFilter};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::patients::{
    CapacityForm, CapacityKind, RequestEvent, RequestForm, RequestSource, RequestStatus, StatusChange, transition,
};
use maillage_store::Cpts;
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// The base path of the registry of a CPTS.
pub fn registry_path(cpts: &str) -> String {
    format!("/cpts/{cpts}/acces-soins/patients")
}

/// Where a member professional's "Accès aux soins" leads (her proposals, or how to register a
/// patient), from the registry's base path.
fn own_patients_path(registry: &str) -> String {
    registry.replace("/acces-soins/patients", "/acces-soins/mes-patients")
}

fn doctors_path(cpts: &str) -> String {
    format!("/cpts/{cpts}/acces-soins/medecins")
}

/// A moment as pages write it: `15/03/2026 à 10:30 (UTC)`.
pub fn fr_moment(t: DateTime<Utc>) -> String {
    t.format("%d/%m/%Y à %H:%M (UTC)").to_string()
}

/// The birth date as the form shows it (`JJ/MM/AAAA`), whatever way it was typed or stored.
fn birth_date_shown(text: &str) -> String {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_or_else(|_| text.to_owned(), fr_date)
}

/// French name of a history entry's event.
pub fn event_fr(change: &StatusChange) -> &'static str {
    match change.event().as_ref().map(RequestEvent::code) {
        Some("propose") => "Proposition à un médecin",
        Some("doctor_accepts") => "Accord du médecin",
        Some("doctor_declines") => "Refus du médecin",
        Some("declare") => "Déclaration du médecin traitant",
        Some("patient_declines") => "Refus de la personne",
        Some("withdraw") => "Retrait de la demande",
        Some("moved_away") => "Déménagement",
        Some("unreachable") => "Personne injoignable",
        Some("reopen") => "Réouverture",
        _ => "Changement",
    }
}

/// The problems of a refused form, for the summary and next to each field.
#[derive(Default)]
pub struct FormErrors {
    pub items: Vec<ErrorItem>,
}

pub struct ErrorItem {
    pub field: String,
    pub label: &'static str,
    pub message: String,
}

impl FormErrors {
    /// The field problems a refusal carries (none for other failures).
    pub fn of(failure: &Failure) -> Self {
        let items = match failure {
            Failure::Invalid { details, .. } => details
                .iter()
                .map(|d| ErrorItem { field: d.path.clone(), label: uc::field_fr(&d.path), message: capitalised(&d.fr) })
                .collect(),
            _ => Vec::new(),
        };
        Self { items }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// What the request fields (`patient_fields.html`) show.
pub struct FieldsView {
    pub form: RequestForm,
    pub birth_date: String,
    pub errors: FormErrors,
    pub communes: Vec<(String, String)>,
    /// The person fills in the form herself (public page): "vous", autocomplete on.
    pub public: bool,
    /// Editing a registered request: consent was given at registration.
    pub editing: bool,
    pub cpts_name: String,
}

impl FieldsView {
    pub fn new(state: &AppState, cpts: &Cpts, form: RequestForm, errors: FormErrors, public: bool) -> Self {
        Self {
            birth_date: birth_date_shown(&form.birth_date),
            communes: commune_choices(state, cpts, &form.commune),
            form,
            errors,
            public,
            editing: false,
            cpts_name: cpts.name.clone(),
        }
    }

    /// Whether a checkbox value means ticked.
    pub fn ticked(&self, value: &str) -> bool {
        matches!(value.trim().to_lowercase().as_str(), "on" | "true" | "oui" | "yes" | "1")
    }

    /// `autocomplete` value: the given token on the public form, `off` for professionals (they
    /// type someone else's data).
    pub fn auto<'a>(&self, token: &'a str) -> &'a str {
        if self.public { token } else { "off" }
    }
}

#[derive(Deserialize, Default)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl CsrfField for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    page: Option<u32>,
    /// Set after an erasure, to say it was done.
    #[serde(default)]
    efface: String,
}

pub struct RowView {
    pub href: String,
    pub name: String,
    pub age: u16,
    pub commune: String,
    pub ald: bool,
    pub c2s: bool,
    pub fragility: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub registered: String,
    pub waiting_days: i64,
}

pub struct CountView {
    pub label: String,
    pub code: &'static str,
    pub value: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "patients.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub cpts_name: String,
    pub base: String,
    pub q: String,
    pub statut: String,
    pub commune: String,
    pub statuses: Vec<(&'static str, String)>,
    pub communes: Vec<(String, String)>,
    pub counts: Vec<CountView>,
    pub registered: String,
    pub rows: Vec<RowView>,
    pub total: u64,
    pub page: u32,
    pub pages: u32,
    pub previous_href: Option<String>,
    pub next_href: Option<String>,
    pub public_href: String,
}

fn list_href(base: &str, q: &str, statut: &str, commune: &str, page: u32) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("q", q), ("statut", statut), ("commune", commune)] {
        if !v.trim().is_empty() {
            parts.push(format!("{k}={}", super::directory::encode(v.trim())));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() { base.to_owned() } else { format!("{base}?{}", parts.join("&")) }
}

/// `GET /cpts/{id}/acces-soins/patients?q=&statut=&commune=&page=` (audited)
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let filter = RequestFilter {
        text: q.q.clone(),
        status: q.statut.clone(),
        commune: q.commune.clone(),
        page: q.page.unwrap_or(1),
    };
    let (listed, mut flash, status) = match uc::list(&c, &id, &filter).await {
        Ok(l) => (l, None, StatusCode::OK),
        Err(e @ Failure::Invalid { .. }) => {
            let status = e.status();
            (uc::list(&c, &id, &RequestFilter::default()).await?, Some(("erreur", e.fr())), status)
        }
        Err(e) => return Err(e.into()),
    };
    if flash.is_none() && !q.efface.is_empty() {
        flash = Some(("succes", "La demande et son historique ont été effacés.".to_owned()));
    }
    let cpts = &listed.cpts;
    let base = registry_path(cpts.id.as_str());
    let today = state.now().date_naive();
    let rows = listed
        .rows
        .iter()
        .map(|r| {
            let p = &r.request;
            RowView {
                href: format!("{base}/{}", p.id),
                name: p.display_name(),
                age: p.age_on(today),
                commune: commune_name(&state, p.commune.as_str()),
                ald: p.ald,
                c2s: p.precarity_c2s,
                fragility: p.other_fragility.clone().unwrap_or_default(),
                status: r.status.fr(),
                status_code: r.status.code(),
                registered: fr_date(p.registered_at.date_naive()),
                waiting_days: (today - p.registered_at.date_naive()).num_days().max(0),
            }
        })
        .collect();
    let counts = listed
        .counts
        .iter()
        .map(|(s, n)| CountView {
            label: capitalised(s.fr()),
            code: s.code(),
            value: fr_int(n),
            href: list_href(&base, "", s.code(), "", 1),
            current: q.statut.trim() == s.code(),
        })
        .collect();
    let (query_text, statut, commune) =
        if status == StatusCode::OK { (q.q, q.statut, q.commune) } else { Default::default() };
    let page_link = |n: u32| list_href(&base, &query_text, &statut, &commune, n);
    let page = ListPage {
        chrome: Chrome::for_user(
            &principal,
            format!("Patients sans médecin traitant — {}", cpts.name),
            Some(cpts.name.clone()),
            &base,
        )
        .with_flash(flash),
        cpts_id: cpts.id.to_string(),
        cpts_name: cpts.name.clone(),
        statuses: RequestStatus::ALL.iter().map(|s| (s.code(), capitalised(s.fr()))).collect(),
        communes: commune_choices(&state, cpts, &commune),
        counts,
        registered: fr_int(&listed.registered),
        rows,
        total: listed.total,
        page: listed.page,
        pages: listed.pages,
        previous_href: (listed.page > 1).then(|| page_link(listed.page - 1)),
        next_href: (listed.page < listed.pages).then(|| page_link(listed.page + 1)),
        public_href: format!("/cpts/{}/inscription", cpts.id),
        base,
        q: query_text,
        statut,
        commune,
    };
    Ok((status, Html(render(&page))).into_response())
}

// ---------------------------------------------------------------------------------------------
// The professional's form

/// The request form's fields, with the CSRF token, the source, the duplicate confirmation and
/// (to edit) the revision read.
#[derive(Deserialize, Default)]
pub struct RequestFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    confirmer_doublon: String,
    #[serde(default)]
    revision: String,
    #[serde(flatten)]
    form: RequestForm,
}

impl CsrfField for RequestFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub struct DuplicateView {
    pub href: String,
    pub name: String,
    pub birth_date: String,
    pub status: &'static str,
    pub registered: String,
    pub reason: &'static str,
}

fn duplicate_views(base: &str, list: &[ProbableDuplicate]) -> Vec<DuplicateView> {
    list.iter()
        .map(|d| DuplicateView {
            href: format!("{base}/{}", d.id),
            name: format!("{} {}", d.family_name, d.given_name),
            birth_date: fr_date(d.birth_date),
            status: d.status.fr(),
            registered: fr_date(d.registered_at.date_naive()),
            reason: d.reason.fr(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "patient_new.html")]
pub struct NewPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub base: String,
    pub sees_registry: bool,
    pub f: FieldsView,
    pub sources: Vec<(&'static str, &'static str)>,
    pub source: String,
    pub duplicates: Vec<DuplicateView>,
    /// For a GP who does not see the registry: where she declares her own places.
    pub own_places_href: Option<String>,
}

async fn new_page(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    fields: RequestFields,
    errors: FormErrors,
    duplicates: &[ProbableDuplicate],
) -> Result<NewPage, PageError> {
    let c = ctx(state, principal, headers);
    let (cpts, sees_registry) = uc::open_form(&c, id).await?;
    let base = registry_path(cpts.id.as_str());
    let current = if sees_registry { base.clone() } else { own_patients_path(&base) };
    let chrome = Chrome::for_user(
        principal,
        format!("Inscrire un patient sans médecin traitant — {}", cpts.name),
        Some(cpts.name.clone()),
        &current,
    );
    let source = if fields.source.is_empty() { RequestSource::Professional.code().to_owned() } else { fields.source };
    let own_places_href =
        if sees_registry { None } else { uc::own_doctor(&c, &cpts).await?.map(|_| doctors_path(cpts.id.as_str())) };
    Ok(NewPage {
        own_places_href,
        chrome,
        cpts_id: cpts.id.to_string(),
        duplicates: duplicate_views(&base, duplicates),
        base,
        sees_registry,
        f: FieldsView::new(state, &cpts, fields.form, errors, false),
        sources: uc::professional_sources().into_iter().map(|s| (s.code(), s.fr())).collect(),
        source,
    })
}

/// `GET /cpts/{id}/acces-soins/patients/nouvelle` (coordination, board, member professionals)
pub async fn new_form(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (_, sees_registry) = uc::open_form(&c, &id).await?;
    let mut fields = RequestFields::default();
    if !sees_registry {
        // A professional usually registers a patient of her own practice.
        fields.form.referred_by.clone_from(&principal.account.display_name);
    }
    Ok(Html(render(&new_page(&state, &principal, &headers, &id, fields, FormErrors::default(), &[]).await?)))
}

/// `POST /cpts/{id}/acces-soins/patients/nouvelle`: registers the request, or shows the field
/// errors (422) or the probable duplicates (409, with "Enregistrer quand même").
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RequestFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let confirmed = f.confirmer_doublon.trim() == "oui";
    match uc::register(&c, &id, &f.form, &f.source, confirmed).await {
        Ok(Registration::Registered { id: rid, sees_registry: true }) => {
            Ok(Redirect::to(&format!("{}/{rid}?enregistree=1", registry_path(&id))).into_response())
        }
        Ok(Registration::Registered { sees_registry: false, .. }) => {
            Ok(Redirect::to(&format!("{}/enregistree", registry_path(&id))).into_response())
        }
        Ok(Registration::Duplicates(list)) => {
            let page = new_page(&state, &principal, &headers, &id, f, FormErrors::default(), &list).await?;
            Ok((StatusCode::CONFLICT, Html(render(&page))).into_response())
        }
        Err(e @ Failure::Invalid { .. }) => {
            let page = new_page(&state, &principal, &headers, &id, f, FormErrors::of(&e), &[]).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "patient_registered.html")]
pub struct RegisteredPage {
    pub chrome: Chrome,
    pub cpts_name: String,
    pub new_href: String,
}

/// `GET /cpts/{id}/acces-soins/patients/enregistree`: the confirmation a member professional
/// sees (nothing of the request is echoed).
pub async fn registered(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, sees_registry) = uc::open_form(&c, &id).await?;
    let base = registry_path(cpts.id.as_str());
    let current = if sees_registry { base.clone() } else { own_patients_path(&base) };
    let page = RegisteredPage {
        chrome: Chrome::for_user(&principal, "Demande enregistrée", Some(cpts.name.clone()), &current),
        cpts_name: cpts.name.clone(),
        new_href: format!("{base}/nouvelle"),
    };
    Ok(Html(render(&page)))
}

// ---------------------------------------------------------------------------------------------
// A request

pub struct FactView {
    pub label: &'static str,
    pub value: String,
}

pub struct HistoryView {
    pub at: String,
    pub event: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub doctor: String,
    pub reason: String,
    pub by: String,
}

pub struct ActionView {
    pub code: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub danger: bool,
}

#[derive(Template)]
#[template(path = "patient.html")]
pub struct RequestView {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub list_href: String,
    pub base: String,
    pub name: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub since: String,
    pub doctor: Option<String>,
    pub excluded: Vec<String>,
    pub facts: Vec<FactView>,
    pub note: Option<String>,
    pub history: Vec<HistoryView>,
    pub actions: Vec<ActionView>,
    pub revision: i64,
    pub f: FieldsView,
    pub edit_open: bool,
    pub duplicates: Vec<DuplicateView>,
}

/// The events offered by hand, and what they mean.
fn actions(status: RequestStatus) -> Vec<ActionView> {
    let all = [
        ("doctor_accepts", "Le médecin accepte", "le médecin proposé a donné son accord (par téléphone…)", false),
        (
            "doctor_declines",
            "Le médecin refuse",
            "le médecin proposé ne peut pas prendre ce patient : il ne lui sera plus proposé",
            true,
        ),
        ("declare", "Déclaration faite", "le patient a déclaré ce médecin comme médecin traitant", false),
        (
            "withdraw",
            "Retirer la demande",
            "la personne a trouvé un médecin par elle-même, ou ne souhaite plus être aidée",
            true,
        ),
        ("moved_away", "Indiquer un déménagement", "la personne a quitté le territoire", true),
        ("unreachable", "Indiquer « injoignable »", "la personne ne répond plus aux appels et messages", true),
        ("patient_declines", "Enregistrer le refus de la personne", "la personne refuse le médecin proposé", true),
        ("reopen", "Rouvrir la demande", "la personne cherche de nouveau un médecin traitant", false),
    ];
    all.into_iter()
        .filter(|(code, ..)| uc::manual_event(code, "").is_ok_and(|e| transition(status, &e).is_ok()))
        .map(|(code, label, help, danger)| ActionView { code, label, help, danger })
        .collect()
}

/// What a request's page shows besides the request.
#[derive(Default)]
pub struct Shown {
    flash: Option<(&'static str, String)>,
    status: Option<StatusCode>,
    /// A refused edit: what was typed and its problems.
    edit: Option<(RequestForm, FormErrors)>,
}

fn yes_no(b: bool) -> String {
    if b { "oui" } else { "non" }.to_owned()
}

async fn request_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    rid: &str,
    shown: Shown,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let p = uc::request(&c, id, rid).await?;
    let r = &p.record.request;
    let list_href = registry_path(p.cpts.id.as_str());
    let base = format!("{list_href}/{}", r.id);
    let today = state.now().date_naive();
    let doctor_name = |nid: &str| p.doctors.get(nid).map_or_else(|| nid.to_owned(), |n| format!("{n} ({nid})"));
    let none = || "non renseigné".to_owned();
    let mut fragility = Vec::new();
    if r.ald {
        fragility.push("ALD");
    }
    if r.precarity_c2s {
        fragility.push("C2S");
    }
    let facts = vec![
        FactView { label: "Date de naissance", value: format!("{} ({} ans)", fr_date(r.birth_date), r.age_on(today)) },
        FactView { label: "Commune", value: format!("{} ({})", commune_name(state, r.commune.as_str()), r.commune) },
        FactView { label: "Téléphone", value: r.phone.clone().unwrap_or_else(none) },
        FactView { label: "Adresse électronique", value: r.email.clone().unwrap_or_else(none) },
        FactView { label: "Affection de longue durée (ALD)", value: yes_no(r.ald) },
        FactView { label: "Complémentaire santé solidaire (C2S)", value: yes_no(r.precarity_c2s) },
        FactView { label: "Autre fragilité", value: r.other_fragility.clone().unwrap_or_else(none) },
        FactView { label: "Origine de la demande", value: capitalised(r.source.fr()) },
        FactView { label: "Adressé par", value: r.referred_by.clone().unwrap_or_else(none) },
        FactView { label: "Accord de la personne donné le", value: fr_moment(r.consent_at) },
        FactView {
            label: "Enregistrée le",
            value: format!(
                "{} (attente : {} jours)",
                fr_moment(r.registered_at),
                (today - r.registered_at.date_naive()).num_days().max(0)
            ),
        },
    ];
    let history = p
        .record
        .history
        .iter()
        .map(|h| HistoryView {
            at: fr_moment(h.at),
            event: event_fr(h),
            from: h.from.fr(),
            to: h.to.fr(),
            doctor: h.doctor.as_deref().map(doctor_name).unwrap_or_default(),
            reason: h.reason.clone().unwrap_or_default(),
            by: h.by.clone(),
        })
        .collect();
    let edit_open = shown.edit.is_some();
    let (form, errors) = shown.edit.unwrap_or_else(|| (RequestForm::of(r), FormErrors::default()));
    let mut f = FieldsView::new(state, &p.cpts, form, errors, false);
    f.editing = true;
    let view = RequestView {
        chrome: Chrome::for_user(principal, r.display_name(), Some(p.cpts.name.clone()), &list_href)
            .with_flash(shown.flash),
        cpts_id: p.cpts.id.to_string(),
        name: r.display_name(),
        status: p.record.state.status.fr(),
        status_code: p.record.state.status.code(),
        since: fr_moment(p.record.state.since),
        doctor: p.record.state.doctor.as_deref().map(doctor_name),
        excluded: p.record.state.excluded_doctors.iter().map(|d| doctor_name(d)).collect(),
        facts,
        note: r.note.clone(),
        history,
        actions: actions(p.record.state.status),
        revision: p.record.revision,
        f,
        edit_open,
        duplicates: duplicate_views(&list_href, &p.duplicates),
        list_href,
        base,
    };
    Ok((shown.status.unwrap_or(StatusCode::OK), Html(render(&view))).into_response())
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    enregistree: String,
}

/// `GET /cpts/{id}/acces-soins/patients/{rid}` (audited)
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let shown = Shown {
        flash: (!q.enregistree.is_empty()).then(|| ("succes", "Demande enregistrée.".to_owned())),
        ..Default::default()
    };
    request_response(&state, &principal, &headers, &id, &rid, shown).await
}

#[derive(Deserialize, Default)]
pub struct EventForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    evenement: String,
    #[serde(default)]
    motif: String,
    #[serde(default)]
    revision: String,
}

impl CsrfField for EventForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The page again after a change: the message, or the refusal with its status (422, 409).
fn outcome_shown(outcome: Result<String, Failure>) -> Result<Shown, PageError> {
    match outcome {
        Ok(message) => Ok(Shown { flash: Some(("succes", message)), ..Default::default() }),
        Err(f @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            Ok(Shown { flash: Some(("erreur", f.fr())), status: Some(f.status()), ..Default::default() })
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /cpts/{id}/acces-soins/patients/{rid}/evenement`: one change of status by hand.
pub async fn event(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<EventForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let outcome = uc::apply_event(&c, &id, &rid, &f.evenement, &f.motif, &f.revision)
        .await
        .map(|to| format!("Statut enregistré : {}.", to.fr()));
    let shown = outcome_shown(outcome)?;
    request_response(&state, &principal, &headers, &id, &rid, shown).await
}

/// `POST /cpts/{id}/acces-soins/patients/{rid}/modifier`: corrects what the person gave.
pub async fn edit(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<RequestFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let shown = match uc::update(&c, &id, &rid, &f.form, &f.revision).await {
        Ok(_) => Shown { flash: Some(("succes", "Demande modifiée.".to_owned())), ..Default::default() },
        Err(e @ Failure::Invalid { .. }) => Shown {
            flash: Some(("erreur", "La modification n'est pas enregistrée : corrigez les champs signalés.".into())),
            status: Some(e.status()),
            edit: Some((f.form, FormErrors::of(&e))),
        },
        Err(e @ Failure::Conflict { .. }) => Shown {
            flash: Some(("erreur", e.fr())),
            status: Some(e.status()),
            edit: Some((f.form, FormErrors::default())),
        },
        Err(e) => return Err(e.into()),
    };
    request_response(&state, &principal, &headers, &id, &rid, shown).await
}

/// `GET /cpts/{id}/acces-soins/patients/{rid}/export`: the person's data as JSON (audited).
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let json = uc::export(&c, &id, &rid).await?;
    let mut response = json.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"demande-{rid}.json\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Deserialize, Default)]
pub struct EraseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirmer: String,
}

impl CsrfField for EraseForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /cpts/{id}/acces-soins/patients/{rid}/effacer`: erases the request (RGPD).
pub async fn erase(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<EraseForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let confirmed = matches!(f.confirmer.trim(), "oui" | "on");
    match uc::erase(&c, &id, &rid, confirmed).await {
        Ok(()) => Ok(Redirect::to(&format!("{}?efface=1", registry_path(&id))).into_response()),
        Err(e @ Failure::Invalid { .. }) => {
            let shown = Shown { flash: Some(("erreur", e.fr())), status: Some(e.status()), ..Default::default() };
            request_response(&state, &principal, &headers, &id, &rid, shown).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Doctors' capacities

pub struct CapacityRow {
    pub href: String,
    pub national_id: String,
    pub name: String,
    pub kind: String,
    pub used: String,
    pub remaining: u32,
    pub max_km: String,
    pub communes: String,
    pub note: String,
    pub updated: String,
    pub form: CapacityForm,
}

#[derive(Template)]
#[template(path = "patients_doctors.html")]
pub struct DoctorsPage {
    pub chrome: Chrome,
    pub cpts_id: String,
    pub base: String,
    pub can_edit: bool,
    pub own_name: String,
    pub rows: Vec<CapacityRow>,
    pub form: CapacityForm,
    pub errors: FormErrors,
    pub registry_href: String,
}

#[derive(Deserialize, Default)]
pub struct CapacityFields {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: CapacityForm,
}

impl CsrfField for CapacityFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What the capacity form shows: a new declaration, the capacity of a listed doctor to change,
/// or a refused form with its problems.
pub enum CapacityShown {
    New,
    Doctor(String),
    Refused(CapacityForm, FormErrors),
}

#[derive(Deserialize, Default)]
pub struct DoctorsQuery {
    /// The national id of a listed doctor whose capacity the form is to change.
    #[serde(default)]
    medecin: String,
}

fn km(v: f64) -> String {
    format!("{v}").replace('.', ",")
}

async fn doctors_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    flash: Option<(&'static str, String)>,
    shown: CapacityShown,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let caps = uc::capacities(&c, id).await?;
    let base = doctors_path(caps.cpts.id.as_str());
    let rows = caps
        .rows
        .iter()
        .map(|r| {
            let cap = &r.capacity;
            let used = match cap.kind {
                CapacityKind::Total(_) => format!("{} en tout", r.usage.total),
                CapacityKind::PerMonth(_) => format!("{} ce mois-ci ({} en tout)", r.usage.this_month, r.usage.total),
            };
            CapacityRow {
                href: format!("/cpts/{}/annuaire/{}", caps.cpts.id, cap.national_id),
                national_id: cap.national_id.clone(),
                name: r.name.clone(),
                kind: cap.kind.fr(),
                used,
                remaining: r.remaining,
                max_km: cap.max_km.map(|v| format!("{} km", km(v))).unwrap_or_else(|| "—".into()),
                communes: cap
                    .accepted_communes
                    .iter()
                    .flatten()
                    .map(|c| commune_name(state, c.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
                note: cap.note.clone().unwrap_or_default(),
                updated: fr_date(r.updated_at.date_naive()),
                form: CapacityForm::of(cap),
            }
        })
        .collect::<Vec<_>>();
    let blank = CapacityForm { kind: "per_month".into(), ..Default::default() };
    let (form, errors) = match shown {
        CapacityShown::Refused(form, errors) => (form, errors),
        CapacityShown::Doctor(nid) => {
            (rows.iter().find(|r| r.national_id == nid.trim()).map_or(blank, |r| r.form.clone()), FormErrors::default())
        }
        CapacityShown::New => match &caps.own {
            // A GP changes her own, declared or not.
            Some((nid, _)) => (
                rows.first().map_or_else(|| CapacityForm { national_id: nid.clone(), ..blank }, |r| r.form.clone()),
                FormErrors::default(),
            ),
            None => (blank, FormErrors::default()),
        },
    };
    let registry_href = registry_path(caps.cpts.id.as_str());
    let current = if caps.can_edit { registry_href.clone() } else { own_patients_path(&registry_href) };
    let page = DoctorsPage {
        chrome: Chrome::for_user(
            principal,
            format!("Médecins et places disponibles — {}", caps.cpts.name),
            Some(caps.cpts.name.clone()),
            &current,
        )
        .with_flash(flash),
        cpts_id: caps.cpts.id.to_string(),
        base,
        can_edit: caps.can_edit,
        own_name: caps.own.map(|(_, n)| n).unwrap_or_default(),
        rows,
        form,
        errors,
        registry_href,
    };
    Ok((status, Html(render(&page))).into_response())
}

/// `GET /cpts/{id}/acces-soins/medecins[?medecin=NATIONAL_ID]` (the form filled with that
/// doctor's capacity, to change it)
pub async fn doctors(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DoctorsQuery>,
) -> Result<Response, PageError> {
    let shown = if q.medecin.trim().is_empty() { CapacityShown::New } else { CapacityShown::Doctor(q.medecin) };
    doctors_response(&state, &principal, &headers, &id, None, shown, StatusCode::OK).await
}

/// `POST /cpts/{id}/acces-soins/medecins`: declares or replaces a capacity.
pub async fn save_capacity(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CapacityFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    match uc::put_capacity(&c, &id, &f.form).await {
        Ok(cap) => {
            let message = format!("Capacité enregistrée : {}.", cap.kind.fr());
            let flash = Some(("succes", message));
            doctors_response(&state, &principal, &headers, &id, flash, CapacityShown::New, StatusCode::OK).await
        }
        Err(e @ Failure::Invalid { .. }) => {
            let status = e.status();
            let flash = Some(("erreur", "La capacité n'est pas enregistrée : corrigez les champs signalés.".into()));
            let shown = CapacityShown::Refused(f.form, FormErrors::of(&e));
            doctors_response(&state, &principal, &headers, &id, flash, shown, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /cpts/{id}/acces-soins/medecins/{nid}/supprimer`
pub async fn delete_capacity(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, nid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    uc::delete_capacity(&c, &id, &nid).await?;
    let flash = Some(("succes", "Capacité retirée : le médecin ne reçoit plus de proposition.".to_owned()));
    doctors_response(&state, &principal, &headers, &id, flash, CapacityShown::New, StatusCode::OK).await
}
