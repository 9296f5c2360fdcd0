//! Same-day care (soins non programmés) for the professionals: the agenda of bookings by day
//! (`…/soins-non-programmes/agenda`), with « Annuler » and « Issue » on each booking and the
//! professional's iCalendar feed (`…/agenda.ics`); and the availability editor
//! (`…/disponibilites/{nid}`), with the operators' list of who publishes
//! (`…/disponibilites`).
//!
//! Who (`app::snp::open`): a member professional linked to her directory profile sees her own
//! bookings and edits her own availability (anyone else's: 403); the operators (coordinator,
//! board, admin) see every booking, with a professional filter, and edit anyone's availability
//! in the directory. Observers get 403, another CPTS's people 404.
//!
//! Reading the bookings is audited by the app layer (they carry the patient's contact and
//! reason). Every form is a plain POST with its CSRF token, enhanced by htmx (the agenda region
//! only); each works without JavaScript. The editor edits the whole publication at once with a
//! few empty rows to add more, and carries the revision read: a save made from an older read
//! answers 409 with the fresh values, a publication the core refuses 422 with the messages next
//! to their fields and every value kept.

use super::cpts::ctx;
use super::snp_console::{console_path, short_moment};
use super::{Chrome, capitalised, commune_name, fr_date, is_htmx, render};
use crate::app::Ctx;
use crate::app::snp::{self as uc, BookingView, Caller, MAX_LIST_DAYS, paris_time};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use maillage_core::directory::professions::profession;
use maillage_core::snp::booking::Outcome;
use maillage_core::snp::requests::paris_day;
use maillage_core::snp::{
    Audience, AudienceSet, Availability, Cancellation, Closure, OneOffSlot, Place, ProfessionalId, WeeklyRange, expand,
    paris,
};
use maillage_core::text::fold_for_search;
use maillage_store::{Cpts, DirectoryStore, SnpStore, StoredAvailability};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// The agenda's path.
pub fn agenda_path(cpts: &str) -> String {
    format!("{}/agenda", console_path(cpts))
}

/// The availability editors' path (the operators' list), or one professional's editor.
pub fn availability_path(cpts: &str, nid: Option<&str>) -> String {
    match nid {
        Some(nid) => format!("{}/disponibilites/{nid}", console_path(cpts)),
        None => format!("{}/disponibilites", console_path(cpts)),
    }
}

/// Days the agenda shows by default: today and the next 7.
const DEFAULT_DAYS: i64 = 8;
/// Days the editor's preview counts.
const PREVIEW_DAYS: i64 = 7;
/// Empty rows offered to add items, per list.
const EMPTY_WEEKLY: usize = 3;
const EMPTY_ONE_OFF: usize = 2;
const EMPTY_CLOSURES: usize = 2;
const EMPTY_CANCELLATIONS: usize = 1;
/// The most rows of one list a form may send (a forged form cannot make the server loop).
const MAX_ROWS: usize = 200;

// ---------------------------------------------------------------------------------------------
// Paris days

use super::snp_console::{DAYS, MONTHS};

/// `mardi 24 novembre 2026`.
fn long_day(d: NaiveDate) -> String {
    format!(
        "{} {} {} {}",
        DAYS[d.weekday().num_days_from_monday() as usize],
        d.day(),
        MONTHS[d.month0() as usize],
        d.year()
    )
}

/// The instant a Paris day starts.
fn day_start(d: NaiveDate) -> Option<DateTime<Utc>> {
    paris::day_start(d).ok()
}

/// `14:00` (Paris time).
fn hm(t: DateTime<Utc>) -> String {
    paris_time(t).map(|l| l.format("%H:%M").to_string()).unwrap_or_default()
}

fn profession_label(code: &str) -> String {
    profession(code).map_or_else(|| format!("profession {code}"), |p| p.label.clone())
}

// ---------------------------------------------------------------------------------------------
// The agenda

/// The agenda's query: `?du=YYYY-MM-DD&au=YYYY-MM-DD&professionnel=8…` (all optional).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AgendaQuery {
    du: String,
    au: String,
    professionnel: String,
}

/// The « Annuler » and « Issue » forms: the view to show again, and the outcome.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct BookingForm {
    csrf: String,
    du: String,
    au: String,
    professionnel: String,
    /// Outcome code (`vu`, `absent`, `reoriente_urgences`, `autre`).
    issue: String,
    note: String,
}

impl CsrfField for BookingForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The window asked: `[first day, last day]` in Paris days, or why it is refused (the default
/// window is shown instead).
fn window_of(q: &AgendaQuery, today: NaiveDate) -> (NaiveDate, NaiveDate, Option<String>) {
    let default = (today, today + Duration::days(DEFAULT_DAYS - 1));
    let parse = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d");
    let from = match q.du.trim() {
        "" => Ok(None),
        s => parse(s).map(Some),
    };
    let to = match q.au.trim() {
        "" => Ok(None),
        s => parse(s).map(Some),
    };
    let (from, to) = match (from, to) {
        (Ok(f), Ok(t)) => (f, t),
        _ => {
            return (
                default.0,
                default.1,
                Some("Les dates de la période s'écrivent AAAA-MM-JJ : la semaine en cours est affichée.".into()),
            );
        }
    };
    let from = from.unwrap_or(default.0);
    let to = to.unwrap_or(from + Duration::days(DEFAULT_DAYS - 1));
    if to < from {
        return (
            default.0,
            default.1,
            Some("La période finit avant de commencer : la semaine en cours est affichée.".into()),
        );
    }
    if (to - from).num_days() + 1 > MAX_LIST_DAYS {
        return (
            default.0,
            default.1,
            Some(format!("La période dure au plus {MAX_LIST_DAYS} jours : la semaine en cours est affichée.")),
        );
    }
    if !paris::YEARS.contains(&from.year()) || !paris::YEARS.contains(&(to.year() + 1)) {
        return (default.0, default.1, Some("Cette période n'est pas affichable : la semaine en cours l'est.".into()));
    }
    (from, to, None)
}

/// One booking as the agenda shows it.
pub struct AgendaRow {
    pub id: String,
    /// `14:00–14:30`.
    pub time: String,
    pub professional: String,
    pub place: String,
    pub reason: &'static str,
    pub commune: String,
    pub phone: String,
    pub email: String,
    pub referrer: &'static str,
    pub note: String,
    /// `à venir`, `annulé`, `vu`…
    pub status: String,
    /// CSS modifier of the status badge.
    pub status_class: &'static str,
    pub can_cancel: bool,
    pub can_record: bool,
    /// The problem of the last action on this booking, and the values sent.
    pub error: String,
    pub issue: String,
    pub issue_note: String,
}

pub struct AgendaDay {
    pub label: String,
    pub today: bool,
    pub rows: Vec<AgendaRow>,
}

/// What the agenda's region shows (the page and its htmx fragment).
pub struct AgendaView {
    pub csrf: String,
    pub base: String,
    /// The view, as the forms carry it back.
    pub du: String,
    pub au: String,
    pub professionnel: String,
    pub flash: Option<(&'static str, String)>,
    pub days: Vec<AgendaDay>,
    pub count: usize,
    /// `du mardi 24 novembre 2026 au mardi 1 décembre 2026`.
    pub window: String,
    pub outcomes: Vec<(&'static str, &'static str)>,
    pub operator: bool,
}

#[derive(Template)]
#[template(path = "snp_agenda.html")]
struct AgendaPage {
    chrome: Chrome,
    title: String,
    v: AgendaView,
    previous: String,
    next: String,
    this_week: String,
    /// Operators: the professionals to filter by (national id, name).
    professionals: Vec<(String, String)>,
    /// The `.ics` download, empty when an operator has not chosen a professional.
    ics_href: String,
    /// The subscription form (`…/agenda/abonnement`) and whom it is for (empty: oneself).
    subscribe_action: String,
    subscribe_for: String,
    availability_href: String,
    max_days: i64,
}

#[derive(Template)]
#[template(path = "snp_agenda_days.html")]
struct AgendaDays {
    v: AgendaView,
}

const OUTCOMES: [(&str, &str); 4] = [
    ("vu", "Vu"),
    ("absent", "Absent (non venu)"),
    ("reoriente_urgences", "Réorienté aux urgences"),
    ("autre", "Autre (précisez dans la note)"),
];

fn status_of(b: &maillage_store::Booking, now: DateTime<Utc>) -> (String, &'static str) {
    if b.cancelled_at.is_some() {
        return ("annulé".into(), "statut-withdrawn");
    }
    match &b.outcome {
        Some((Outcome::Vu, _)) => ("vu".into(), "succes"),
        Some((Outcome::Absent, _)) => ("absent".into(), "erreur"),
        Some((Outcome::ReorienteUrgences, _)) => ("réorienté aux urgences".into(), "statut-waiting"),
        Some((Outcome::Autre { note }, _)) => (format!("autre : {note}"), "statut-declined"),
        None if b.start > now => ("à venir".into(), "statut-proposed"),
        None => ("passé, issue à noter".into(), "statut-waiting"),
    }
}

/// The operators' filter: who publishes, and who has bookings shown, by name.
async fn filter_choices(
    state: &AppState,
    cpts: &Cpts,
    views: &[BookingView],
) -> Result<Vec<(String, String)>, Failure> {
    let names = directory_names(state, cpts).await?;
    let mut seen: HashMap<String, String> = HashMap::new();
    for stored in state.store.availabilities(&cpts.id).await? {
        let nid = uc::national_id(stored.availability.professional);
        let name = names.get(&nid).cloned().unwrap_or_else(|| nid.clone());
        seen.insert(nid, name);
    }
    for v in views {
        seen.entry(v.professional.clone()).or_insert_with(|| v.professional_name.clone());
    }
    let mut list: Vec<(String, String)> = seen.into_iter().collect();
    list.sort_by_cached_key(|(nid, name)| (fold_for_search(name), nid.clone()));
    Ok(list)
}

/// National id → name of every professional of the directory.
async fn directory_names(state: &AppState, cpts: &Cpts) -> Result<HashMap<String, String>, Failure> {
    Ok(state
        .store
        .directory_export(&cpts.id, false)
        .await?
        .into_iter()
        .map(|e| (e.professional.national_id.national(), crate::app::patients::professional_name(&e.professional)))
        .collect())
}

/// The agenda: the page, or its region for htmx. `acted` is the booking the last action was
/// about, with its problem (shown in its row too) and the values sent.
#[allow(clippy::too_many_arguments)]
async fn agenda_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    q: AgendaQuery,
    flash: Option<(&'static str, String)>,
    acted: Option<(String, String, BookingForm)>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let (cpts, caller) = uc::open(&c, id).await?;
    let cid = cpts.id.to_string();
    let now = state.now();
    let today = paris_day(now);
    let (first, last, window_problem) = window_of(&q, today);
    let (mut flash, mut status) = (flash, status);
    if let Some(problem) = window_problem
        && flash.is_none()
    {
        flash = Some(("erreur", problem));
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let from = day_start(first).ok_or_else(|| Failure::Internal("window start".into()))?;
    let to = day_start(last + Duration::days(1)).ok_or_else(|| Failure::Internal("window end".into()))?;
    let operator = caller == Caller::Operator;
    let filter = if operator { q.professionnel.trim().to_owned() } else { String::new() };
    let mut views = uc::bookings(&c, id, Some(from), Some(to)).await?;
    let professionals = if operator { filter_choices(state, &cpts, &views).await? } else { Vec::new() };
    if !filter.is_empty() {
        views.retain(|v| v.professional == filter);
    }
    views.sort_by_key(|v| (v.booking.start, v.professional.clone()));

    let mut by_day: Vec<(NaiveDate, Vec<AgendaRow>)> = Vec::new();
    let total_days = (last - first).num_days() + 1;
    if total_days <= 14 {
        by_day = (0..total_days).map(|i| (first + Duration::days(i), Vec::new())).collect();
    }
    let count = views.len();
    for v in views {
        let b = &v.booking;
        let day = paris_time(b.start).map_or(first, |l| l.date());
        let (status_text, status_class) = status_of(b, now);
        let open = b.cancelled_at.is_none() && b.outcome.is_none();
        let (error, issue, issue_note) = match &acted {
            Some((booking, error, f)) if *booking == b.id => (error.clone(), f.issue.clone(), f.note.clone()),
            _ => (String::new(), String::new(), String::new()),
        };
        let row = AgendaRow {
            id: b.id.clone(),
            time: format!("{}–{}", hm(b.start), hm(b.end)),
            professional: v.professional_name.clone(),
            place: capitalised(b.place.fr()),
            reason: b.reason.fr(),
            commune: commune_name(state, b.commune.as_str()),
            phone: b.phone.clone().unwrap_or_default(),
            email: b.email.clone().unwrap_or_default(),
            referrer: b.referrer.fr(),
            note: b.note.clone().unwrap_or_default(),
            status: status_text,
            status_class,
            can_cancel: open,
            can_record: open && b.start <= now,
            error,
            issue,
            issue_note,
        };
        match by_day.iter_mut().find(|(d, _)| *d == day) {
            Some((_, rows)) => rows.push(row),
            None => by_day.push((day, vec![row])),
        }
    }
    by_day.sort_by_key(|(d, _)| *d);

    let base = agenda_path(&cid);
    let du = first.format("%Y-%m-%d").to_string();
    let au = last.format("%Y-%m-%d").to_string();
    let v = AgendaView {
        csrf: principal.csrf_token().to_owned(),
        base: base.clone(),
        du: du.clone(),
        au: au.clone(),
        professionnel: filter.clone(),
        flash,
        days: by_day.into_iter().map(|(d, rows)| AgendaDay { label: long_day(d), today: d == today, rows }).collect(),
        count,
        window: format!("du {} au {}", long_day(first), long_day(last)),
        outcomes: OUTCOMES.to_vec(),
        operator,
    };
    let mut response = if is_htmx(headers) && !headers.contains_key("hx-history-restore-request") {
        // htmx swaps 2xx answers only: the message must reach the page.
        (StatusCode::OK, Html(render(&AgendaDays { v }))).into_response()
    } else {
        let span = total_days;
        let link = |from: NaiveDate| {
            let mut href = format!(
                "{base}?du={}&au={}",
                from.format("%Y-%m-%d"),
                (from + Duration::days(span - 1)).format("%Y-%m-%d")
            );
            if !filter.is_empty() {
                href.push_str(&format!("&professionnel={filter}"));
            }
            href
        };
        let previous = link(first - Duration::days(7));
        let next = link(first + Duration::days(7));
        let this_week = if filter.is_empty() { base.clone() } else { format!("{base}?professionnel={filter}") };
        let (title, ics_href, availability_href, current) = match caller {
            Caller::Professional(p) => (
                "Mon agenda de soins non programmés".to_owned(),
                format!("{base}.ics"),
                availability_path(&cid, Some(&uc::national_id(p))),
                base.clone(),
            ),
            Caller::Operator => (
                "Rendez-vous de soins non programmés".to_owned(),
                if filter.is_empty() { String::new() } else { format!("{base}.ics?professionnel={filter}") },
                availability_path(&cid, None),
                console_path(&cid),
            ),
        };
        let chrome = Chrome::for_user(principal, format!("{title} — {}", cpts.name), Some(cpts.name.clone()), &current);
        let page = AgendaPage {
            chrome,
            title,
            v,
            previous,
            next,
            this_week,
            professionals,
            subscribe_action: if ics_href.is_empty() { String::new() } else { format!("{base}/abonnement") },
            subscribe_for: if matches!(caller, Caller::Operator) { filter.clone() } else { String::new() },
            ics_href,
            availability_href,
            max_days: MAX_LIST_DAYS,
        };
        (status, Html(render(&page))).into_response()
    };
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}

/// `GET /cpts/{id}/soins-non-programmes/agenda`: the bookings by day (a professional's own, or
/// everyone's for operators); reading them is audited.
pub async fn agenda(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<AgendaQuery>,
) -> Result<Response, PageError> {
    agenda_response(&state, &principal, &headers, &id, q, None, None, StatusCode::OK).await
}

fn query_of(f: &BookingForm) -> AgendaQuery {
    AgendaQuery { du: f.du.clone(), au: f.au.clone(), professionnel: f.professionnel.clone() }
}

/// What an action on a booking answers: the agenda again, with the outcome as a message (and
/// in the booking's row when refused), and the status of the failure.
async fn after_action(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    booking: &str,
    f: BookingForm,
    result: Result<String, Failure>,
) -> Result<Response, PageError> {
    let q = query_of(&f);
    match result {
        Ok(done) => {
            agenda_response(state, principal, headers, id, q, Some(("succes", done)), None, StatusCode::OK).await
        }
        Err(e @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            let message = e.fr();
            let acted = Some((booking.to_owned(), message.clone(), f));
            agenda_response(state, principal, headers, id, q, Some(("erreur", message)), acted, e.status()).await
        }
        Err(Failure::NotFound) => {
            let message = "Ce rendez-vous n'existe pas (ou plus) dans votre agenda.".to_owned();
            let status = StatusCode::NOT_FOUND;
            // The CPTS itself may be unknown: then the agenda answers 404 on its own.
            agenda_response(state, principal, headers, id, q, Some(("erreur", message)), None, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /cpts/{id}/soins-non-programmes/agenda/{booking}/annuler`: cancels the booking and
/// frees its place (409 when already cancelled or its outcome recorded).
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, booking)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<BookingForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let result = uc::cancel(&c, &id, &booking).await.map(|v| {
        format!(
            "Rendez-vous du {} annulé : la place est de nouveau libre. Prévenez le patient s'il ne le sait pas.",
            short_moment(v.booking.start)
        )
    });
    after_action(&state, &principal, &headers, &id, &booking, f, result).await
}

/// `POST /cpts/{id}/soins-non-programmes/agenda/{booking}/issue`: records what became of the
/// patient (once the slot has started; 409 on a cancelled booking).
pub async fn outcome(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, booking)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<BookingForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let result = if f.issue.trim().is_empty() {
        Err(Failure::invalid("invalid_form", "Choisissez l'issue du rendez-vous.", "the outcome is required"))
    } else {
        uc::record_outcome(&c, &id, &booking, &f.issue, &f.note).await.map(|v| {
            let what = v.booking.outcome.as_ref().map(|(o, _)| o.fr().to_owned()).unwrap_or_default();
            format!("Issue du rendez-vous du {} enregistrée : {what}.", short_moment(v.booking.start))
        })
    };
    after_action(&state, &principal, &headers, &id, &booking, f, result).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IcsQuery {
    professionnel: String,
}

/// `GET /cpts/{id}/soins-non-programmes/agenda.ics`: the professional's iCalendar feed as a
/// download (her own; operators name the professional), naming no patient; audited.
pub async fn agenda_ics(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<IcsQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let who = Some(q.professionnel.trim()).filter(|s| !s.is_empty());
    let body = uc::agenda_ics(&c, &id, who).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"agenda-snp.ics\"")),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// The availability editor: the form's rows

const WEEKDAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "lundi", "Lundi"),
    (Weekday::Tue, "mardi", "Mardi"),
    (Weekday::Wed, "mercredi", "Mercredi"),
    (Weekday::Thu, "jeudi", "Jeudi"),
    (Weekday::Fri, "vendredi", "Vendredi"),
    (Weekday::Sat, "samedi", "Samedi"),
    (Weekday::Sun, "dimanche", "Dimanche"),
];

const PLACES: [(Place, &str, &str); 3] = [
    (Place::Cabinet, "cabinet", "Au cabinet"),
    (Place::Domicile, "domicile", "À domicile"),
    (Place::Teleconsultation, "teleconsultation", "En téléconsultation"),
];

const AUDIENCES: [(Audience, &str, &str); 4] = [
    (Audience::Public, "public", "Patients"),
    (Audience::Pro, "pro", "Professionnels"),
    (Audience::Snp, "snp", "Régulation (SAS)"),
    (Audience::Cpts, "cpts", "CPTS"),
];

fn place_code(p: Place) -> &'static str {
    PLACES.iter().find(|(x, _, _)| *x == p).map_or("cabinet", |(_, c, _)| c)
}

fn audience_codes(set: AudienceSet) -> Vec<String> {
    AUDIENCES.iter().filter(|(a, _, _)| set.contains(*a)).map(|(_, c, _)| (*c).to_owned()).collect()
}

/// One row of a list of the form: its number (0-based), its values by field, its messages.
#[derive(Default, Clone)]
pub struct Row {
    pub n: usize,
    /// Prefix of its fields' names: `h` weekly, `p` one-off, `f` closures, `a` cancellations.
    pub kind: &'static str,
    values: HashMap<&'static str, String>,
    /// Audiences ticked (codes).
    publics: Vec<String>,
    errors: HashMap<&'static str, String>,
}

impl Row {
    fn new(kind: &'static str, n: usize) -> Self {
        Row { n, kind, ..Row::default() }
    }

    fn set(mut self, field: &'static str, value: impl Into<String>) -> Self {
        self.values.insert(field, value.into());
        self
    }

    /// A field's value (empty when none).
    pub fn v(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    /// A field's name and id: `h0_debut`.
    pub fn name(&self, field: &str) -> String {
        format!("{}{}_{field}", self.kind, self.n)
    }

    /// A field's message (empty when none).
    pub fn e(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }

    /// Whether an audience is ticked.
    pub fn has(&self, code: &str) -> bool {
        self.publics.iter().any(|p| p == code)
    }

    /// `aria-describedby` and `aria-invalid` of a field.
    pub fn aria(&self, field: &str) -> String {
        let name = self.name(field);
        if self.errors.contains_key(field) {
            format!("aria-describedby=\"erreur-{name}\" aria-invalid=\"true\"")
        } else {
            String::new()
        }
    }

    /// The 1-based number people read.
    pub fn number(&self) -> usize {
        self.n + 1
    }

    fn blank(&self, fields: &[&str]) -> bool {
        fields.iter().all(|f| self.v(f).trim().is_empty())
    }
}

/// The four lists of the form.
#[derive(Default, Clone)]
pub struct Rows {
    pub weekly: Vec<Row>,
    pub one_off: Vec<Row>,
    pub closures: Vec<Row>,
    pub cancellations: Vec<Row>,
}

const WEEKLY_FIELDS: [&str; 7] = ["jour", "debut", "fin", "duree", "capacite", "du", "au"];
const ONE_OFF_FIELDS: [&str; 4] = ["date", "debut", "fin", "capacite"];
const CLOSURE_FIELDS: [&str; 3] = ["du", "au", "motif"];
const CANCELLATION_FIELDS: [&str; 3] = ["date", "heure", "motif"];

/// The fields that say whether a row is filled in (the others have defaults).
const WEEKLY_KEYS: [&str; 3] = ["jour", "debut", "fin"];
const ONE_OFF_KEYS: [&str; 3] = ["date", "debut", "fin"];

impl Rows {
    /// The rows of a stored publication.
    fn of(a: &Availability) -> Self {
        let weekly = a
            .weekly
            .iter()
            .enumerate()
            .map(|(n, r)| {
                let day = WEEKDAYS.iter().find(|(d, _, _)| *d == r.weekday).map_or("", |(_, c, _)| c);
                let mut row = Row::new("h", n)
                    .set("jour", day)
                    .set("debut", r.start.format("%H:%M").to_string())
                    .set("fin", r.end.format("%H:%M").to_string())
                    .set("duree", r.slot_minutes.to_string())
                    .set("lieu", place_code(r.place))
                    .set("capacite", r.capacity.to_string())
                    .set("du", r.valid_from.format("%Y-%m-%d").to_string())
                    .set("au", r.valid_until.map(|u| u.format("%Y-%m-%d").to_string()).unwrap_or_default());
                row.publics = audience_codes(r.audiences);
                row
            })
            .collect();
        let one_off = a
            .one_off
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let end = s.start + Duration::minutes(i64::from(s.minutes));
                let mut row = Row::new("p", n)
                    .set("date", s.start.format("%Y-%m-%d").to_string())
                    .set("debut", s.start.format("%H:%M").to_string())
                    .set("fin", end.format("%H:%M").to_string())
                    .set("lieu", place_code(s.place))
                    .set("capacite", s.capacity.to_string());
                row.publics = audience_codes(s.audiences);
                row
            })
            .collect();
        let closures = a
            .closures
            .iter()
            .enumerate()
            .map(|(n, c)| {
                Row::new("f", n)
                    .set("du", c.from.format("%Y-%m-%d").to_string())
                    .set("au", c.to.format("%Y-%m-%d").to_string())
                    .set("motif", c.reason.clone())
            })
            .collect();
        let cancellations = a
            .cancellations
            .iter()
            .enumerate()
            .map(|(n, c)| {
                Row::new("a", n)
                    .set("date", c.start.format("%Y-%m-%d").to_string())
                    .set("heure", c.start.format("%H:%M").to_string())
                    .set("motif", c.reason.clone())
            })
            .collect();
        Rows { weekly, one_off, closures, cancellations }
    }

    /// The rows a form sent, the empty ones dropped and the others numbered again from 0.
    fn from_form(pairs: &[(String, String)]) -> Self {
        let map: HashMap<&str, &str> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let indices = |kind: &str| -> BTreeSet<usize> {
            pairs
                .iter()
                .filter_map(|(k, _)| {
                    let rest = k.strip_prefix(kind)?;
                    let (n, _) = rest.split_once('_')?;
                    n.parse::<usize>().ok().filter(|n| *n < MAX_ROWS)
                })
                .collect()
        };
        let read = |kind: &'static str, fields: &[&'static str], with_audiences: bool, keys: &[&str]| -> Vec<Row> {
            let mut rows = Vec::new();
            for i in indices(kind) {
                let mut row = Row::new(kind, i);
                for f in fields.iter().copied().chain(["lieu"]) {
                    if let Some(v) = map.get(format!("{kind}{i}_{f}").as_str()) {
                        row.values.insert(f, (*v).to_owned());
                    }
                }
                if with_audiences {
                    row.publics = AUDIENCES
                        .iter()
                        .filter(|(_, code, _)| map.contains_key(format!("{kind}{i}_{code}").as_str()))
                        .map(|(_, code, _)| (*code).to_owned())
                        .collect();
                }
                if !row.blank(keys) {
                    row.n = rows.len();
                    rows.push(row);
                }
            }
            rows
        };
        Rows {
            weekly: read("h", &WEEKLY_FIELDS, true, &WEEKLY_KEYS),
            one_off: read("p", &ONE_OFF_FIELDS, true, &ONE_OFF_KEYS),
            closures: read("f", &CLOSURE_FIELDS, false, &CLOSURE_FIELDS),
            cancellations: read("a", &CANCELLATION_FIELDS, false, &CANCELLATION_FIELDS),
        }
    }

    /// Adds the empty rows offered to add items.
    fn with_blanks(mut self, today: NaiveDate) -> Self {
        let today = today.format("%Y-%m-%d").to_string();
        let blank = |kind: &'static str, n: usize| -> Row {
            let mut row = Row::new(kind, n).set("lieu", "cabinet").set("capacite", "1");
            row.publics = vec!["snp".into(), "cpts".into()];
            row
        };
        for _ in 0..EMPTY_WEEKLY {
            let n = self.weekly.len();
            self.weekly.push(blank("h", n).set("duree", "15").set("du", today.clone()));
        }
        for _ in 0..EMPTY_ONE_OFF {
            let n = self.one_off.len();
            self.one_off.push(blank("p", n));
        }
        for _ in 0..EMPTY_CLOSURES {
            let n = self.closures.len();
            self.closures.push(Row::new("f", n));
        }
        for _ in 0..EMPTY_CANCELLATIONS {
            let n = self.cancellations.len();
            self.cancellations.push(Row::new("a", n));
        }
        self
    }

    fn list_mut(&mut self, kind: &str) -> Option<&mut Vec<Row>> {
        match kind {
            "h" | "weekly" => Some(&mut self.weekly),
            "p" | "one_off" => Some(&mut self.one_off),
            "f" | "closures" => Some(&mut self.closures),
            "a" | "cancellations" => Some(&mut self.cancellations),
            _ => None,
        }
    }

    /// Records a message next to a field (the first one of a field is kept).
    fn flag(&mut self, kind: &str, n: usize, field: &'static str, message: String) {
        if let Some(row) = self.list_mut(kind).and_then(|l| l.get_mut(n)) {
            row.errors.entry(field).or_insert(message);
        }
    }

    /// Every message, in form order: (field id, text for the summary).
    fn problems(&self) -> Vec<(String, String)> {
        let lists: [(&Vec<Row>, &str, &[&str]); 4] = [
            (
                &self.weekly,
                "Plage hebdomadaire",
                &["jour", "debut", "fin", "duree", "lieu", "publics", "capacite", "du", "au"],
            ),
            (&self.one_off, "Créneau ponctuel", &["date", "debut", "fin", "lieu", "publics", "capacite"]),
            (&self.closures, "Absence", &["du", "au", "motif"]),
            (&self.cancellations, "Créneau retiré", &["date", "heure", "motif"]),
        ];
        let mut out = Vec::new();
        for (rows, label, fields) in lists {
            for row in rows {
                for f in fields {
                    let message = row.e(f);
                    if !message.is_empty() {
                        let anchor = if *f == "publics" { row.name("snp") } else { row.name(f) };
                        out.push((anchor, format!("{label} n° {} — {}", row.number(), message)));
                    }
                }
            }
        }
        out
    }

    fn is_valid(&self) -> bool {
        [&self.weekly, &self.one_off, &self.closures, &self.cancellations]
            .iter()
            .all(|l| l.iter().all(|r| r.errors.is_empty()))
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M").or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S")).ok()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y")).ok()
}

/// Reads the rows as a publication; a value that cannot be read is flagged next to its field
/// (the core checks the rest).
fn availability_of(rows: &mut Rows, professional: ProfessionalId, today: NaiveDate) -> Option<Availability> {
    let mut flags: Vec<(&'static str, usize, &'static str, String)> = Vec::new();
    let mut a = Availability {
        professional,
        weekly: Vec::new(),
        one_off: Vec::new(),
        closures: Vec::new(),
        cancellations: Vec::new(),
    };
    let place_of = |row: &Row, flags: &mut Vec<(&'static str, usize, &'static str, String)>| {
        let found = PLACES.iter().find(|(_, code, _)| *code == row.v("lieu").trim()).map(|(p, _, _)| *p);
        if found.is_none() {
            flags.push((row.kind, row.n, "lieu", "choisissez le lieu".into()));
        }
        found
    };
    let number = |row: &Row, field: &'static str, what: &str, flags: &mut Vec<_>| -> Option<u32> {
        match row.v(field).trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                flags.push((row.kind, row.n, field, format!("indiquez {what} (un nombre entier)")));
                None
            }
        }
    };
    let time = |row: &Row, field: &'static str, flags: &mut Vec<_>| -> Option<NaiveTime> {
        let t = parse_time(row.v(field));
        if t.is_none() {
            flags.push((row.kind, row.n, field, "indiquez une heure (HH:MM)".to_owned()));
        }
        t
    };
    let date = |row: &Row, field: &'static str, flags: &mut Vec<_>| -> Option<NaiveDate> {
        let d = parse_date(row.v(field));
        if d.is_none() {
            flags.push((row.kind, row.n, field, "indiquez une date (JJ/MM/AAAA)".to_owned()));
        }
        d
    };
    let audiences = |row: &Row| -> AudienceSet {
        AUDIENCES.iter().filter(|(_, code, _)| row.has(code)).map(|(a, _, _)| *a).collect()
    };
    for row in &rows.weekly {
        let weekday = WEEKDAYS.iter().find(|(_, code, _)| *code == row.v("jour").trim()).map(|(d, _, _)| *d);
        if weekday.is_none() {
            flags.push(("h", row.n, "jour", "choisissez le jour".into()));
        }
        let start = time(row, "debut", &mut flags);
        let end = time(row, "fin", &mut flags);
        let minutes = number(row, "duree", "la durée d'un créneau en minutes", &mut flags);
        let capacity = number(row, "capacite", "le nombre de patients par créneau", &mut flags);
        let place = place_of(row, &mut flags);
        let from = if row.v("du").trim().is_empty() { Some(today) } else { date(row, "du", &mut flags) };
        let until = if row.v("au").trim().is_empty() { Some(None) } else { date(row, "au", &mut flags).map(Some) };
        if let (Some(weekday), Some(start), Some(end), Some(m), Some(c), Some(place), Some(from), Some(until)) =
            (weekday, start, end, minutes, capacity, place, from, until)
        {
            a.weekly.push(WeeklyRange {
                weekday,
                start,
                end,
                slot_minutes: u16::try_from(m).unwrap_or(u16::MAX),
                capacity: u8::try_from(c).unwrap_or(u8::MAX),
                place,
                audiences: audiences(row),
                valid_from: from,
                valid_until: until,
            });
        }
    }
    for row in &rows.one_off {
        let day = date(row, "date", &mut flags);
        let start = time(row, "debut", &mut flags);
        let end = time(row, "fin", &mut flags);
        let capacity = number(row, "capacite", "le nombre de patients", &mut flags);
        let place = place_of(row, &mut flags);
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            flags.push(("p", row.n, "fin", "le créneau finit avant de commencer".into()));
            continue;
        }
        if let (Some(day), Some(start), Some(end), Some(c), Some(place)) = (day, start, end, capacity, place) {
            let minutes = (end - start).num_minutes();
            a.one_off.push(OneOffSlot {
                start: NaiveDateTime::new(day, start),
                minutes: u16::try_from(minutes).unwrap_or(u16::MAX),
                place,
                audiences: audiences(row),
                capacity: u8::try_from(c).unwrap_or(u8::MAX),
            });
        }
    }
    for row in &rows.closures {
        let from = date(row, "du", &mut flags);
        let to = if row.v("au").trim().is_empty() { from } else { date(row, "au", &mut flags) };
        if let (Some(from), Some(to)) = (from, to) {
            a.closures.push(Closure { from, to, reason: row.v("motif").trim().to_owned() });
        }
    }
    for row in &rows.cancellations {
        let day = date(row, "date", &mut flags);
        let at = time(row, "heure", &mut flags);
        if let (Some(day), Some(at)) = (day, at) {
            a.cancellations
                .push(Cancellation { start: NaiveDateTime::new(day, at), reason: row.v("motif").trim().to_owned() });
        }
    }
    let valid = flags.is_empty();
    for (kind, n, field, message) in flags {
        rows.flag(kind, n, field, capitalised(&message));
    }
    valid.then_some(a)
}

/// The form's field of a core field (`weekly[0].end` → row 0 of `h`, field `fin`).
fn form_field(kind: &str, field: &str) -> &'static str {
    match (kind, field) {
        ("weekly", "start") | ("one_off", "start") => "debut",
        ("weekly", "end") => "fin",
        ("weekly", "slot_minutes") => "duree",
        ("one_off", "minutes") => "fin",
        (_, "capacity") => "capacite",
        (_, "audiences") => "publics",
        (_, "place") => "lieu",
        ("weekly", "valid_from") | ("closures", "from") => "du",
        ("weekly", "valid_until") | ("closures", "to") => "au",
        ("closures", _) => "du",
        ("cancellations", "start") => "heure",
        ("cancellations", _) => "date",
        ("weekly", _) => "jour",
        _ => "date",
    }
}

/// Puts the app layer's refusal next to the fields (`details[].path` such as `weekly[1].end`);
/// whether any was placed.
fn flag_failure(rows: &mut Rows, failure: &Failure) -> bool {
    let Failure::Invalid { details, .. } = failure else {
        return false;
    };
    let mut placed = false;
    for d in details {
        let Some((item, field)) = d.path.split_once('.') else {
            continue;
        };
        let Some((kind, n)) = item.strip_suffix(']').and_then(|s| s.split_once('[')) else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else {
            continue;
        };
        rows.flag(kind, n, form_field(kind, field), capitalised(&d.fr));
        placed = true;
    }
    placed
}

// ---------------------------------------------------------------------------------------------
// The availability editor: pages

/// One day of the preview.
pub struct PreviewDay {
    pub label: String,
    pub count: usize,
    /// `09:30 – 16:00`.
    pub span: String,
}

/// The slots a publication produces over the next days, counted per Paris day.
fn preview(a: &Availability, now: DateTime<Utc>) -> Vec<PreviewDay> {
    let today = paris_day(now);
    let Some(to) = day_start(today + Duration::days(PREVIEW_DAYS)) else {
        return Vec::new();
    };
    let slots = expand(a, now, to).unwrap_or_default();
    (0..PREVIEW_DAYS)
        .map(|i| today + Duration::days(i))
        .map(|day| {
            let of_day: Vec<_> = slots.iter().filter(|s| s.id.local_start.date() == day).collect();
            let span = match (of_day.first(), of_day.last()) {
                (Some(f), Some(l)) => format!("{} – {}", hm(f.start), hm(l.end)),
                _ => String::new(),
            };
            PreviewDay { label: capitalised(&long_day(day)), count: of_day.len(), span }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "snp_availability.html")]
struct EditorPage {
    chrome: Chrome,
    csrf: String,
    action: String,
    agenda_href: String,
    list_href: String,
    operator: bool,
    name: String,
    nid: String,
    /// Empty: nothing published yet.
    revision: String,
    updated: String,
    rows: Rows,
    problems: Vec<(String, String)>,
    preview: Vec<PreviewDay>,
    weekdays: Vec<(&'static str, &'static str)>,
    places: Vec<(&'static str, &'static str)>,
    audiences: Vec<(&'static str, &'static str)>,
}

/// The professional the editor is about, for a caller who may edit her: (CPTS, operator?, id,
/// name, the stored publication). 403 for a professional asking for someone else, 404 for a
/// professional not in the directory.
async fn editor_target(
    c: &Ctx<'_>,
    id: &str,
    nid: &str,
) -> Result<(Cpts, bool, ProfessionalId, String, Option<StoredAvailability>), Failure> {
    let (cpts, caller) = uc::open(c, id).await?;
    let p = uc::professional_id(nid)?;
    if let Caller::Professional(own) = caller
        && own != p
    {
        return Err(Failure::Forbidden);
    }
    let entry = c.state.store.directory_entry(&cpts.id, &uc::national_id(p)).await?;
    let name = crate::app::patients::professional_name(&entry.professional);
    let stored = match uc::availability(c, id, nid).await {
        Ok(s) => Some(s),
        Err(Failure::NotFound) => None,
        Err(e) => return Err(e),
    };
    Ok((cpts, caller == Caller::Operator, p, name, stored))
}

/// Renders the editor: `rows` as given (the stored ones when `None`).
#[allow(clippy::too_many_arguments)]
fn editor_page(
    state: &AppState,
    principal: &Principal,
    cpts: &Cpts,
    operator: bool,
    p: ProfessionalId,
    name: String,
    stored: Option<&StoredAvailability>,
    rows: Option<Rows>,
    flash: Option<(&'static str, String)>,
    status: StatusCode,
) -> Response {
    let cid = cpts.id.to_string();
    let nid = uc::national_id(p);
    let now = state.now();
    let today = paris_day(now);
    let rows = rows.unwrap_or_else(|| stored.map(|s| Rows::of(&s.availability)).unwrap_or_default().with_blanks(today));
    let problems = rows.problems();
    let current = if operator { console_path(&cid) } else { agenda_path(&cid) };
    let title = if operator { format!("Disponibilités — {name}") } else { "Mes disponibilités".to_owned() };
    let chrome = Chrome::for_user(principal, format!("{title} — {}", cpts.name), Some(cpts.name.clone()), &current)
        .with_flash(flash);
    let page = EditorPage {
        chrome,
        csrf: principal.csrf_token().to_owned(),
        action: availability_path(&cid, Some(&nid)),
        agenda_href: agenda_path(&cid),
        list_href: availability_path(&cid, None),
        operator,
        name,
        nid,
        revision: stored.map(|s| s.revision.to_string()).unwrap_or_default(),
        updated: stored.map(|s| short_moment(s.updated_at)).unwrap_or_default(),
        rows,
        problems,
        preview: stored.map(|s| preview(&s.availability, now)).unwrap_or_default(),
        weekdays: WEEKDAYS.iter().map(|(_, c, l)| (*c, *l)).collect(),
        places: PLACES.iter().map(|(_, c, l)| (*c, *l)).collect(),
        audiences: AUDIENCES.iter().map(|(_, c, l)| (*c, *l)).collect(),
    };
    (status, Html(render(&page))).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditorQuery {
    /// Set after a save (303).
    publie: String,
}

/// `GET /cpts/{id}/soins-non-programmes/disponibilites/{nid}`: a professional's whole
/// publication as a form, with a few empty rows and the slots it produces this week.
pub async fn editor(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, nid)): Path<(String, String)>,
    Query(q): Query<EditorQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, operator, p, name, stored) = editor_target(&c, &id, &nid).await?;
    let flash = (!q.publie.is_empty() && stored.is_some()).then(|| {
        ("succes", "Disponibilités publiées : les créneaux ci-dessous sont proposés dès maintenant.".to_owned())
    });
    Ok(editor_page(&state, &principal, &cpts, operator, p, name, stored.as_ref(), None, flash, StatusCode::OK))
}

/// The editor's form: every field by name (`h0_debut`, `p1_date`, `h2_snp`…), the revision
/// read and the token.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct EditorForm(Vec<(String, String)>);

impl EditorForm {
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

impl CsrfField for EditorForm {
    fn csrf(&self) -> &str {
        self.get("csrf")
    }
}

/// `POST /cpts/{id}/soins-non-programmes/disponibilites/{nid}`: publishes the whole form (303
/// back to the editor). A publication the core refuses: 422, each message next to its field and
/// every value kept; changed meanwhile by someone else: 409 with the fresh values.
pub async fn save(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, nid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<EditorForm>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, operator, p, name, stored) = editor_target(&c, &id, &nid).await?;
    let today = paris_day(state.now());
    let mut rows = Rows::from_form(&form.0);
    let revision = match form.get("revision").trim() {
        "" => None,
        r => match r.parse::<i64>() {
            Ok(r) => Some(r),
            Err(_) => {
                return Err(Failure::invalid(
                    "invalid_form",
                    "Le formulaire est mal rempli (révision).",
                    "bad revision",
                )
                .into());
            }
        },
    };
    let refused = |rows: Rows, status| {
        let flash = ("erreur", "Les disponibilités ne sont pas publiées : corrigez les champs signalés.".to_owned());
        let rows = rows.with_blanks(today);
        Ok(editor_page(
            &state,
            &principal,
            &cpts,
            operator,
            p,
            name.clone(),
            stored.as_ref(),
            Some(rows),
            Some(flash),
            status,
        ))
    };
    let Some(availability) = availability_of(&mut rows, p, today).filter(|_| rows.is_valid()) else {
        return refused(rows, StatusCode::UNPROCESSABLE_ENTITY);
    };
    match uc::put_availability(&c, &id, &nid, availability, revision).await {
        Ok(_) => {
            let to = format!("{}?publie=1", availability_path(cpts.id.as_str(), Some(&uc::national_id(p))));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ Failure::Invalid { .. }) => {
            if flag_failure(&mut rows, &e) {
                refused(rows, e.status())
            } else {
                let flash = ("erreur", e.fr());
                let rows = rows.with_blanks(today);
                Ok(editor_page(
                    &state,
                    &principal,
                    &cpts,
                    operator,
                    p,
                    name,
                    stored.as_ref(),
                    Some(rows),
                    Some(flash),
                    e.status(),
                ))
            }
        }
        Err(e @ Failure::Conflict { .. }) => {
            // Someone saved meanwhile: the fresh publication, to start again from.
            let fresh = match uc::availability(&c, &id, &nid).await {
                Ok(s) => Some(s),
                Err(Failure::NotFound) => None,
                Err(other) => return Err(other.into()),
            };
            let flash = ("erreur", format!("{} Les valeurs affichées sont celles enregistrées à présent.", e.fr()));
            Ok(editor_page(&state, &principal, &cpts, operator, p, name, fresh.as_ref(), None, Some(flash), e.status()))
        }
        Err(e) => Err(e.into()),
    }
}

/// One professional who publishes, in the operators' list.
pub struct PublisherRow {
    pub name: String,
    pub profession: String,
    pub href: String,
    pub updated: String,
    /// Slots of the next 7 days.
    pub slots: usize,
}

#[derive(Template)]
#[template(path = "snp_availability_list.html")]
struct PublishersPage {
    chrome: Chrome,
    action: String,
    agenda_href: String,
    rows: Vec<PublisherRow>,
    /// The directory's professionals with an RPPS who publish nothing yet (national id, label).
    others: Vec<(String, String)>,
    error: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PublishersQuery {
    professionnel: String,
}

/// `GET /cpts/{id}/soins-non-programmes/disponibilites`: the professionals who publish (their
/// slots of the next 7 days, their last change) and a choice to publish for another one
/// (operators; a professional goes to her own editor).
pub async fn publishers(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PublishersQuery>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, caller) = uc::open(&c, &id).await?;
    let cid = cpts.id.to_string();
    if let Caller::Professional(p) = caller {
        return Ok(Redirect::to(&availability_path(&cid, Some(&uc::national_id(p)))).into_response());
    }
    let chosen = q.professionnel.trim();
    let mut error = String::new();
    if !chosen.is_empty() {
        match uc::professional_id(chosen) {
            Ok(p) => {
                return Ok(Redirect::to(&availability_path(&cid, Some(&uc::national_id(p)))).into_response());
            }
            Err(e) => error = e.fr(),
        }
    }
    let now = state.now();
    let entries = state.store.directory_export(&cpts.id, false).await.map_err(Failure::from)?;
    let stored = state.store.availabilities(&cpts.id).await.map_err(Failure::from)?;
    let publishing: HashMap<String, &StoredAvailability> =
        stored.iter().map(|s| (uc::national_id(s.availability.professional), s)).collect();
    let horizon = day_start(paris_day(now) + Duration::days(PREVIEW_DAYS)).unwrap_or(now);
    let mut rows = Vec::new();
    let mut others = Vec::new();
    for e in &entries {
        let nid = e.professional.national_id.national();
        if uc::professional_id(&nid).is_err() {
            continue;
        }
        let name = crate::app::patients::professional_name(&e.professional);
        let label = profession_label(&e.professional.profession_code);
        match publishing.get(&nid) {
            Some(s) => rows.push(PublisherRow {
                href: availability_path(&cid, Some(&nid)),
                slots: expand(&s.availability, now, horizon).map(|l| l.len()).unwrap_or(0),
                updated: format!("{} {}", fr_date(paris_day(s.updated_at)), hm(s.updated_at)),
                name,
                profession: label,
            }),
            None => others.push((nid, format!("{name} — {label}"))),
        }
    }
    let page = PublishersPage {
        chrome: Chrome::for_user(
            &principal,
            format!("Disponibilités des professionnels — {}", cpts.name),
            Some(cpts.name.clone()),
            &console_path(&cid),
        ),
        action: availability_path(&cid, None),
        agenda_href: agenda_path(&cid),
        rows,
        others,
        error: error.clone(),
    };
    let status = if error.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Html(render(&page))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn empty_rows_are_dropped_and_the_others_renumbered() {
        let form = pairs(&[
            ("h0_jour", ""),
            ("h0_debut", ""),
            ("h0_fin", ""),
            ("h0_duree", "15"),
            ("h3_jour", "mardi"),
            ("h3_debut", "09:00"),
            ("h3_fin", "10:00"),
            ("h3_duree", "30"),
            ("h3_capacite", "1"),
            ("h3_lieu", "domicile"),
            ("h3_snp", "on"),
            ("f1_du", "2026-12-24"),
        ]);
        let mut rows = Rows::from_form(&form);
        assert_eq!(rows.weekly.len(), 1);
        assert_eq!(rows.weekly[0].name("debut"), "h0_debut");
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let a = availability_of(&mut rows, ProfessionalId(10001234567), today).unwrap();
        assert_eq!(a.weekly[0].weekday, Weekday::Tue);
        assert_eq!(a.weekly[0].valid_from, today, "an empty start of validity is today");
        assert_eq!(a.weekly[0].place, Place::Domicile);
        assert_eq!(a.weekly[0].audiences, AudienceSet::of(&[Audience::Snp]));
        assert_eq!(a.closures[0].to, a.closures[0].from, "a one-day absence");
        // The rows of the publication read back the same values.
        let back = Rows::of(&a);
        assert_eq!(back.weekly[0].v("fin"), "10:00");
        assert!(back.weekly[0].has("snp") && !back.weekly[0].has("pro"));
    }

    #[test]
    fn unreadable_values_are_flagged_next_to_their_fields() {
        let form = pairs(&[("h0_jour", "mardi"), ("h0_debut", "9h"), ("h0_fin", "10:00"), ("h0_duree", "quinze")]);
        let mut rows = Rows::from_form(&form);
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert!(availability_of(&mut rows, ProfessionalId(1), today).is_none());
        assert!(rows.weekly[0].e("debut").starts_with("Indiquez une heure"));
        assert!(!rows.weekly[0].e("duree").is_empty() && !rows.weekly[0].e("lieu").is_empty());
        assert!(rows.weekly[0].e("fin").is_empty());
        assert_eq!(rows.problems()[0].0, "h0_debut");
    }

    #[test]
    fn windows_of_the_agenda() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let q = |du: &str, au: &str| AgendaQuery { du: du.into(), au: au.into(), professionnel: String::new() };
        assert_eq!(window_of(&q("", ""), today), (today, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), None));
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(window_of(&q("2026-12-01", ""), today).1, d + Duration::days(7));
        assert!(window_of(&q("2026-12-01", "2026-11-30"), today).2.is_some());
        assert!(window_of(&q("2026-01-01", "2026-12-31"), today).2.is_some(), "over 92 days");
        assert!(window_of(&q("demain", ""), today).2.is_some());
    }
}
