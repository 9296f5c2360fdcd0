//! The same-day care (soins non programmés) operator console, used on the phone with a patient
//! on the line: `…/soins-non-programmes` takes the request (reason, commune, contact, referrer,
//! window, note) and the filters (profession, modes), shows the 10 best free slots (nearest
//! practice, then soonest), and books one with a keystroke (`accesskey` 1–9 on the first nine
//! « Réserver » buttons: Alt+1…Alt+9 in Chromium, Alt+Maj+chiffre in Firefox). The booking ends
//! on a confirmation page with the text to read or send to the patient and the `.ics`.
//!
//! The search is a POST (CSRF) rather than a GET: the request carries a phone number and a
//! note about the patient's health, which must not end up in URLs, browser history or access
//! logs. Every form works without JavaScript; with htmx the search replaces only the results
//! (and the field messages, out of band). Operators only (`app::snp::open`): a member
//! professional linked to her profile is sent to her agenda, everybody else is refused as the
//! app rules say. Reading a booking (confirmation, `.ics`) writes one audit event.

use super::cpts::ctx;
use super::patients::{ErrorItem, FormErrors};
use super::{Chrome, capitalised, commune_choices, commune_name, is_htmx, render};
use crate::app::Ctx;
use crate::app::snp::{self as uc, Caller, SlotSearch, SlotView, paris_time};
use crate::auth::{CsrfField, CsrfForm, Principal};
use crate::error::{Failure, PageError};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Duration, Utc};
use maillage_core::directory::model::effective;
use maillage_core::directory::professions::profession;
use maillage_core::snp::Place;
use maillage_core::snp::booking::{IcsEvent, IntakeForm, ReasonCategory, ReferrerKind, confirmation_ics, summary};
use maillage_core::text::fold_for_search;
use maillage_store::{Booking, Cpts, DirectoryStore, SnpStore, StoreError};
use serde::Deserialize;

/// The console's path.
pub fn console_path(cpts: &str) -> String {
    format!("/cpts/{cpts}/soins-non-programmes")
}

/// Where a member professional's same-day care lives (another page module builds it).
fn agenda_path(cpts: &str) -> String {
    format!("{}/agenda", console_path(cpts))
}

fn booking_path(cpts: &str, booking: &str) -> String {
    format!("{}/reservations/{booking}", console_path(cpts))
}

// ---------------------------------------------------------------------------------------------
// Paris time as the console writes it

const DAYS_SHORT: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
pub(crate) const DAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const MONTHS_SHORT: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
pub(crate) const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `mar. 24 nov. 14:00` (Paris time).
pub fn short_moment(t: DateTime<Utc>) -> String {
    paris_time(t).map_or_else(String::new, |l| {
        format!(
            "{} {} {} {}",
            DAYS_SHORT[l.weekday().num_days_from_monday() as usize],
            l.day(),
            MONTHS_SHORT[l.month0() as usize],
            l.format("%H:%M")
        )
    })
}

/// `mardi 24 novembre 2026 à 14:00` (Paris time).
pub fn long_moment(t: DateTime<Utc>) -> String {
    paris_time(t).map_or_else(String::new, |l| {
        format!(
            "{} {} {} {} à {}",
            DAYS[l.weekday().num_days_from_monday() as usize],
            l.day(),
            MONTHS[l.month0() as usize],
            l.year(),
            l.format("%H:%M")
        )
    })
}

/// What a `datetime-local` field shows: `2026-11-24T14:00` (Paris time).
fn local_field(t: DateTime<Utc>) -> String {
    paris_time(t).map(|l| l.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

/// `4,2 km`; teleconsultation has no distance.
fn distance(km: f64, place: Place) -> String {
    if place == Place::Teleconsultation { "à distance".into() } else { format!("{km:.1} km").replace('.', ",") }
}

fn profession_label(code: &str) -> String {
    profession(code).map_or_else(|| format!("profession {code}"), |p| p.label.clone())
}

// ---------------------------------------------------------------------------------------------
// The form

/// The console's fields, as the search form and each « Réserver » form send them (French
/// names, as everywhere in the pages).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ConsoleFields {
    csrf: String,
    /// Reason code (`fievre`…).
    motif: String,
    /// An INSEE code, `Blois (41018)` from the list, or a commune's name.
    commune: String,
    telephone: String,
    courriel: String,
    /// The window, Paris `datetime-local`.
    du: String,
    au: String,
    /// Referrer code (`regulation`…).
    oriente_par: String,
    note: String,
    /// A directory profession code, or empty for all.
    profession: String,
    cabinet: String,
    domicile: String,
    teleconsultation: String,
    /// The slot to book (« Réserver » forms only).
    creneau: String,
    /// Recording the request without a slot (« Enregistrer la demande » form only):
    /// `en_attente`, a destination code, or `abandonnee`.
    destination: String,
}

impl CsrfField for ConsoleFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn ticked(v: &str) -> bool {
    matches!(v.trim(), "on" | "oui" | "1" | "true")
}

impl ConsoleFields {
    /// An empty request: the next 24 hours, at the practice or at home.
    fn fresh(now: DateTime<Utc>) -> Self {
        Self {
            du: local_field(now),
            au: local_field(now + Duration::hours(24)),
            cabinet: "on".into(),
            domicile: "on".into(),
            ..Self::default()
        }
    }

    fn places(&self) -> Vec<Place> {
        [
            (Place::Cabinet, &self.cabinet),
            (Place::Domicile, &self.domicile),
            (Place::Teleconsultation, &self.teleconsultation),
        ]
        .into_iter()
        .filter(|(_, v)| ticked(v))
        .map(|(p, _)| p)
        .collect()
    }

    fn intake(&self, commune: &str) -> IntakeForm {
        IntakeForm {
            reason: self.motif.clone(),
            commune: commune.to_owned(),
            phone: self.telephone.clone(),
            email: self.courriel.clone(),
            window_from: self.du.clone(),
            window_to: self.au.clone(),
            referrer: self.oriente_par.clone(),
            note: self.note.clone(),
        }
    }
}

/// The console's field of an app-layer field name, and its French label.
fn field_of(app_field: &str) -> (&'static str, &'static str) {
    match app_field {
        "reason" => ("motif", "Motif"),
        "commune" => ("commune", "Commune"),
        "phone" => ("telephone", "Téléphone"),
        "email" => ("courriel", "Adresse électronique"),
        "window_from" | "from" => ("du", "Début de la fenêtre"),
        "window_to" | "to" => ("au", "Fin de la fenêtre"),
        "referrer" => ("oriente_par", "Orienté par"),
        "note" => ("note", "Note"),
        "profession" => ("profession", "Profession"),
        "mode" => ("mode", "Mode de consultation"),
        "slot" => ("creneau", "Créneau"),
        _ => ("formulaire", "Formulaire"),
    }
}

/// The fields that show their own message (the out-of-band targets of an htmx search).
const MESSAGE_FIELDS: [&str; 10] =
    ["motif", "commune", "telephone", "courriel", "oriente_par", "du", "au", "note", "profession", "mode"];

fn push_error(errors: &mut FormErrors, app_field: &str, fr: &str) {
    let (field, label) = field_of(app_field);
    // One message per field: the first is the most useful.
    if !errors.has(field) {
        errors.items.push(ErrorItem { field: field.to_owned(), label, message: capitalised(fr) });
    }
}

fn push_failure(errors: &mut FormErrors, failure: &Failure) {
    if let Failure::Invalid { details, .. } = failure {
        for d in details {
            push_error(errors, &d.path, &d.fr);
        }
    }
}

/// The INSEE code the commune field designates: a code as typed, `Name (code)` as the list
/// offers it, or a name — the CPTS's communes first, then a commune of that name anywhere in
/// France if only one has it. Anything else is passed on for the reference to explain.
fn commune_code(state: &AppState, cpts: &Cpts, typed: &str) -> Result<String, String> {
    let t = typed.trim();
    if let Some(inner) = t.strip_suffix(')').and_then(|s| s.rsplit_once('(')).map(|(_, c)| c.trim()) {
        return Ok(inner.to_owned());
    }
    if t.is_empty() || t.bytes().any(|b| b.is_ascii_digit()) {
        return Ok(t.to_owned());
    }
    let name = fold_for_search(t);
    if let Some(c) = cpts.communes.iter().find(|c| fold_for_search(&commune_name(state, c.as_str())) == name) {
        return Ok(c.as_str().to_owned());
    }
    let same: Vec<&maillage_core::refdata::Commune> =
        state.reference.communes().iter().filter(|c| fold_for_search(&c.name) == name).collect();
    match same.as_slice() {
        [one] => Ok(one.code.as_str().to_owned()),
        [] => Err(format!("aucune commune ne s'appelle « {t} » : choisissez-la dans la liste ou tapez son code INSEE")),
        many => Err(format!(
            "plusieurs communes s'appellent « {t} » ({}) : tapez le code INSEE",
            many.iter()
                .map(|c| format!("{} dans le {}", c.code.as_str(), c.departement))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// The console

pub struct SlotRow {
    /// 1-based rank.
    pub rank: usize,
    /// `1`…`9` for the first nine, empty after.
    pub key: String,
    pub slot: String,
    pub moment: String,
    pub professional: String,
    pub profession: String,
    pub place: &'static str,
    pub commune: String,
    pub distance: String,
    pub free: u8,
}

impl SlotRow {
    pub(crate) fn new(rank: usize, v: &SlotView) -> Self {
        let h = &v.hit;
        Self {
            rank,
            key: if rank <= 9 { rank.to_string() } else { String::new() },
            slot: h.id.to_string(),
            moment: short_moment(h.start),
            professional: v.professional_name.clone(),
            profession: profession_label(h.profession.as_str()),
            place: h.place.fr(),
            commune: v.commune.clone().unwrap_or_default(),
            distance: distance(h.distance_km, h.place),
            free: h.free,
        }
    }
}

/// What the console shows (the page and its htmx fragment).
pub struct ConsoleView {
    pub csrf: String,
    pub action: String,
    pub book_action: String,
    pub f: ConsoleFields,
    pub reasons: Vec<(&'static str, &'static str)>,
    pub referrers: Vec<(&'static str, &'static str)>,
    pub professions: Vec<(String, String)>,
    /// `Blois (41018)`: what the commune list offers.
    pub communes: Vec<String>,
    pub errors: FormErrors,
    /// Whether a search ran (results or the empty message show).
    pub searched: bool,
    pub rows: Vec<SlotRow>,
    /// The request again, as the « Réserver » forms carry it (commune as its code).
    pub hidden: Vec<(&'static str, String)>,
    /// `du mar. 24 nov. 10:00 au mer. 25 nov. 10:00`, once searched.
    pub window: String,
    /// Why the booking asked did not happen (above the fresh results).
    pub alert: Option<String>,
    /// Out-of-band field messages (htmx fragment only).
    pub oob: bool,
}

impl ConsoleView {
    /// What the « sans créneau » form offers: waiting, each destination, given up.
    pub fn closures(&self) -> Vec<super::snp_desk::ClosureOption> {
        super::snp_desk::closure_options(true)
    }

    pub fn cabinet(&self) -> bool {
        ticked(&self.f.cabinet)
    }

    pub fn domicile(&self) -> bool {
        ticked(&self.f.domicile)
    }

    pub fn teleconsultation(&self) -> bool {
        ticked(&self.f.teleconsultation)
    }

    /// Each field with a message of its own, and its message (empty when none).
    pub fn messages(&self) -> Vec<(&'static str, String)> {
        MESSAGE_FIELDS.iter().map(|f| (*f, self.errors.get(f).unwrap_or_default().to_owned())).collect()
    }

    /// `aria-invalid` and `aria-describedby` of a field.
    pub fn aria(&self, field: &str) -> String {
        let invalid = if self.errors.has(field) { " aria-invalid=\"true\"" } else { "" };
        format!("aria-describedby=\"erreur-{field}\"{invalid}")
    }
}

#[derive(Template)]
#[template(path = "snp_console.html")]
struct ConsolePage {
    chrome: Chrome,
    cpts_name: String,
    v: ConsoleView,
}

#[derive(Template)]
#[template(path = "snp_console_results.html")]
struct ConsoleResults {
    v: ConsoleView,
}

/// Runs the search of a request: the field problems, or the slots found.
async fn run_search(
    c: &Ctx<'_>,
    cpts: &Cpts,
    f: &ConsoleFields,
    errors: &mut FormErrors,
) -> Result<(Vec<SlotView>, String, String), Failure> {
    let state = c.state;
    let now = state.now();
    let code = match commune_code(state, cpts, &f.commune) {
        Ok(code) => code,
        Err(fr) => {
            push_error(errors, "commune", &fr);
            String::new()
        }
    };
    let parsed = f.intake(&code).parse(state.reference, now);
    let intake = match parsed {
        Ok(i) => Some(i),
        Err(list) => {
            for e in list {
                push_error(errors, e.field, &e.fr);
            }
            None
        }
    };
    let places = f.places();
    if places.is_empty() {
        push_error(errors, "mode", "cochez au moins un mode : au cabinet, à domicile ou en téléconsultation");
    }
    let Some(intake) = intake.filter(|_| errors.is_empty()) else {
        return Ok((Vec::new(), code, String::new()));
    };
    let window = format!("du {} au {}", short_moment(intake.from), short_moment(intake.to));
    let search = SlotSearch {
        commune: intake.commune.as_str().to_owned(),
        from: Some(intake.from),
        to: Some(intake.to),
        profession: Some(f.profession.trim().to_owned()).filter(|p| !p.is_empty()),
        places,
        audience: None,
        max_km: None,
    };
    match uc::search(c, cpts.id.as_str(), &search).await {
        Ok((_, hits)) => Ok((hits, code, window)),
        Err(e @ Failure::Invalid { .. }) => {
            push_failure(errors, &e);
            if errors.is_empty() {
                push_error(errors, "formulaire", &e.fr());
            }
            Ok((Vec::new(), code, String::new()))
        }
        Err(e) => Err(e),
    }
}

/// What the console answers: the empty request (`fields` `None`), or a request searched, with
/// its field problems (422 unless `status` says otherwise) or its results.
async fn console_response(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    id: &str,
    fields: Option<ConsoleFields>,
    alert: Option<String>,
    status: Option<StatusCode>,
) -> Result<Response, PageError> {
    let c = ctx(state, principal, headers);
    let (cpts, caller) = uc::open(&c, id).await?;
    let cid = cpts.id.to_string();
    if let Caller::Professional(_) = caller {
        return Ok(Redirect::to(&agenda_path(&cid)).into_response());
    }
    let searched = fields.is_some();
    let f = fields.unwrap_or_else(|| ConsoleFields::fresh(state.now()));
    let mut errors = FormErrors::default();
    let (hits, code, window) = if searched {
        run_search(&c, &cpts, &f, &mut errors).await?
    } else {
        (Vec::new(), String::new(), String::new())
    };
    let hidden = vec![
        ("motif", f.motif.clone()),
        ("commune", code),
        ("telephone", f.telephone.clone()),
        ("courriel", f.courriel.clone()),
        ("du", f.du.clone()),
        ("au", f.au.clone()),
        ("oriente_par", f.oriente_par.clone()),
        ("note", f.note.clone()),
        ("profession", f.profession.clone()),
        ("cabinet", f.cabinet.clone()),
        ("domicile", f.domicile.clone()),
        ("teleconsultation", f.teleconsultation.clone()),
    ];
    let mut professions: Vec<(String, String)> = state
        .store
        .directory_professions(&cpts.id)
        .await
        .map_err(Failure::from)?
        .into_iter()
        .map(|(code, _)| {
            let label = profession_label(&code);
            (code, label)
        })
        .collect();
    professions.sort_by_cached_key(|p| fold_for_search(&p.1));
    let status = status.unwrap_or(if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY });
    let here = console_path(&cid);
    let fragment = is_htmx(headers) && !headers.contains_key("hx-history-restore-request");
    let mut v = ConsoleView {
        csrf: principal.csrf_token().to_owned(),
        alert,
        action: here.clone(),
        book_action: format!("{here}/reserver"),
        reasons: ReasonCategory::ALL.iter().map(|r| (r.code(), r.fr())).collect(),
        referrers: ReferrerKind::ALL.iter().map(|r| (r.code(), r.fr())).collect(),
        professions,
        communes: commune_choices(state, &cpts, "")
            .into_iter()
            .map(|(code, name)| format!("{name} ({code})"))
            .collect(),
        errors,
        searched,
        rows: hits.iter().enumerate().map(|(i, h)| SlotRow::new(i + 1, h)).collect(),
        hidden,
        window,
        oob: false,
        f,
    };
    let mut response = if fragment {
        // htmx swaps 2xx answers only: the messages must reach the page.
        v.oob = true;
        (StatusCode::OK, Html(render(&ConsoleResults { v }))).into_response()
    } else {
        let chrome = Chrome::for_user(
            principal,
            format!("Soins non programmés — {}", cpts.name),
            Some(cpts.name.clone()),
            &here,
        );
        (status, Html(render(&ConsolePage { chrome, cpts_name: cpts.name.clone(), v }))).into_response()
    };
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}

/// `GET /cpts/{id}/soins-non-programmes`: an empty request (operators; a linked member
/// professional is sent to her agenda).
pub async fn console(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    console_response(&state, &principal, &headers, &id, None, None, None).await
}

/// `POST /cpts/{id}/soins-non-programmes`: the request searched — the 10 best slots, or the
/// field problems (422) with every value kept. With htmx, only the results region.
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ConsoleFields>,
) -> Result<Response, PageError> {
    console_response(&state, &principal, &headers, &id, Some(f), None, None).await
}

/// `POST /cpts/{id}/soins-non-programmes/reserver`: books the slot chosen, then shows its
/// confirmation (303). A slot taken meanwhile shows the console again with the request kept and
/// fresh results (409); a refused request, its problems (422).
pub async fn book(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ConsoleFields>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, caller) = uc::open(&c, &id).await?;
    if let Caller::Professional(_) = caller {
        return Err(Failure::Forbidden.into());
    }
    let code = commune_code(&state, &cpts, &f.commune).unwrap_or_else(|_| f.commune.clone());
    if f.creneau.trim().is_empty() && !f.destination.trim().is_empty() {
        // No slot suits: the request is recorded, waiting or closed, and counted.
        return match crate::app::snp_desk::record_request(&c, &id, &f.intake(&code), &f.destination).await {
            Ok(r) => Ok(Redirect::to(&format!("{}/demandes/{}", console_path(cpts.id.as_str()), r.id)).into_response()),
            Err(e @ Failure::Invalid { .. }) => {
                let flash = format!("La demande n'est pas enregistrée. {}", e.fr());
                console_response(&state, &principal, &headers, &id, Some(f), Some(flash), Some(e.status())).await
            }
            Err(e) => Err(e.into()),
        };
    }
    match uc::book(&c, &id, &f.creneau, &f.intake(&code)).await {
        Ok(booked) => {
            let to = format!("{}/confirmation", booking_path(cpts.id.as_str(), &booked.view.booking.id));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ Failure::Conflict { .. }) => {
            let flash = "Ce créneau vient d'être pris : choisissez-en un autre parmi les résultats à jour ci-dessous."
                .to_owned();
            console_response(&state, &principal, &headers, &id, Some(f), Some(flash), Some(e.status())).await
        }
        Err(e @ Failure::Invalid { .. }) => {
            let flash = format!("Rien n'est réservé. {}", e.fr());
            console_response(&state, &principal, &headers, &id, Some(f), Some(flash), Some(e.status())).await
        }
        Err(Failure::NotFound) => {
            // The CPTS was opened above: the slot is no longer published.
            let flash = "Ce créneau n'est plus proposé : choisissez-en un autre parmi les résultats à jour ci-dessous."
                .to_owned();
            console_response(&state, &principal, &headers, &id, Some(f), Some(flash), Some(StatusCode::NOT_FOUND)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// A booking: confirmation and .ics

/// A booking an operator reads (its patient's request and contact), with one audit event
/// naming it and why it was read. Only operators: a professional reads hers in her agenda.
async fn read_booking(c: &Ctx<'_>, id: &str, booking: &str, why: &str) -> Result<(Cpts, Booking), Failure> {
    let (cpts, caller) = uc::open(c, id).await?;
    if caller != Caller::Operator {
        return Err(Failure::Forbidden);
    }
    let found = c.state.store.booking(&cpts.id, booking.trim()).await?;
    c.audit(Some(&cpts.id), "read", "snp_booking", &found.id, why).await?;
    Ok((cpts, found))
}

/// What the confirmation says of the professional.
struct With {
    name: String,
    profession: String,
    /// `6 rue du Général de Gaulle, 41000 Blois`.
    address: String,
    /// The commune of the practice.
    commune: Option<String>,
    phone: String,
}

async fn professional_of(state: &AppState, cpts: &Cpts, b: &Booking) -> Result<With, Failure> {
    let nid = uc::national_id(b.slot.professional);
    match state.store.directory_entry(&cpts.id, &nid).await {
        Ok(entry) => {
            let shown = effective(&entry.professional, &entry.corrections);
            let place = shown.places.iter().find(|p| p.commune_code.value.is_some()).or(shown.places.first());
            let commune = place.and_then(|p| p.commune_code.value).map(|c| commune_name(state, c.as_str()));
            let address = place
                .map(|p| {
                    let street = [&p.address_line1.value, &p.address_line2.value]
                        .into_iter()
                        .flatten()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let town = [p.postal_code.value.clone(), commune.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    [street, town].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
                })
                .unwrap_or_default();
            Ok(With {
                name: crate::app::patients::professional_name(&entry.professional),
                profession: profession_label(&entry.professional.profession_code).to_lowercase(),
                address,
                commune,
                phone: place.and_then(|p| p.phone.value.clone()).unwrap_or_default(),
            })
        }
        Err(StoreError::NotFound) => Ok(With {
            name: nid,
            profession: String::new(),
            address: String::new(),
            commune: None,
            phone: String::new(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// The calendar event of a booking, as the booking's own confirmation (same UID): the reason
/// and the place, never the patient.
fn event_of(cpts: &Cpts, b: &Booking, with: &With) -> IcsEvent {
    IcsEvent {
        uid: format!("{}.{}@maillage", b.id, cpts.id),
        start: b.start,
        end: b.end,
        summary: summary(b.reason, b.place),
        location: match b.place {
            Place::Cabinet if !with.address.is_empty() => Some(with.address.clone()),
            _ => with.commune.clone(),
        },
        description: Some(format!("Avec {} ({})", with.name, b.place.fr())),
    }
}

/// The text an operator reads or sends to the patient.
fn patient_text(state: &AppState, cpts: &Cpts, b: &Booking, with: &With) -> Vec<String> {
    let who =
        if with.profession.is_empty() { with.name.clone() } else { format!("{} ({})", with.name, with.profession) };
    let place = match b.place {
        Place::Cabinet => {
            let mut s = "au cabinet".to_owned();
            if !with.address.is_empty() {
                s.push_str(&format!(" : {}", with.address));
            }
            if !with.phone.is_empty() {
                s.push_str(&format!(" (tél. {})", with.phone));
            }
            s
        }
        Place::Domicile => {
            format!("à domicile : le professionnel vient chez vous, à {}", commune_name(state, b.commune.as_str()))
        }
        Place::Teleconsultation => "en téléconsultation (à distance)".to_owned(),
    };
    vec![
        format!(
            "Votre rendez-vous de soins non programmés est réservé le {} avec {who}, {place}.",
            long_moment(b.start)
        ),
        format!("Motif : {}.", b.reason.fr().to_lowercase()),
        format!(
            "Si vous ne pouvez pas venir, prévenez la {} pour que la place serve à quelqu'un d'autre. Si votre état s'aggrave avant le rendez-vous, appelez le 15.",
            cpts.name
        ),
    ]
}

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "snp_console_confirmation.html")]
struct ConfirmationPage {
    chrome: Chrome,
    title: String,
    text: Vec<String>,
    facts: Vec<Fact>,
    cancelled: bool,
    ics_href: String,
    new_href: String,
}

/// `GET /cpts/{id}/soins-non-programmes/reservations/{booking}/confirmation` (operators;
/// audited).
pub async fn confirmation(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, booking)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, b) = read_booking(&c, &id, &booking, "confirmation de la réservation SNP (console)").await?;
    let with = professional_of(&state, &cpts, &b).await?;
    let cid = cpts.id.to_string();
    let contact = [b.phone.clone(), b.email.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    let mut facts = vec![
        Fact {
            label: "Rendez-vous",
            value: format!(
                "{} – {}",
                long_moment(b.start),
                paris_time(b.end).map(|l| l.format("%H:%M").to_string()).unwrap_or_default()
            ),
        },
        Fact {
            label: "Avec",
            value: if with.profession.is_empty() {
                with.name.clone()
            } else {
                format!("{} ({})", with.name, with.profession)
            },
        },
        Fact { label: "Lieu", value: capitalised(b.place.fr()) },
        Fact { label: "Intitulé dans l'agenda", value: summary(b.reason, b.place) },
        Fact {
            label: "Commune du patient",
            value: format!("{} ({})", commune_name(&state, b.commune.as_str()), b.commune.as_str()),
        },
        Fact { label: "Joindre le patient", value: contact },
        Fact { label: "Orienté par", value: b.referrer.fr().to_owned() },
    ];
    if let Some(note) = &b.note {
        facts.push(Fact { label: "Note", value: note.clone() });
    }
    facts.push(Fact { label: "Réservation", value: format!("{} (par {})", b.id, b.created_by) });
    let page = ConfirmationPage {
        chrome: Chrome::for_user(&principal, "Rendez-vous réservé", Some(cpts.name.clone()), &console_path(&cid)),
        title: summary(b.reason, b.place),
        text: patient_text(&state, &cpts, &b, &with),
        facts,
        cancelled: b.cancelled_at.is_some(),
        ics_href: format!("{}/rendez-vous.ics", booking_path(&cid, &b.id)),
        new_href: console_path(&cid),
    };
    Ok(Html(render(&page)).into_response())
}

/// `GET /cpts/{id}/soins-non-programmes/reservations/{booking}/rendez-vous.ics`: the booking's
/// calendar event (no patient data in it), as a download (operators; audited).
pub async fn ics(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, booking)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let c = ctx(&state, &principal, &headers);
    let (cpts, b) = read_booking(&c, &id, &booking, "rendez-vous SNP téléchargé (.ics)").await?;
    let with = professional_of(&state, &cpts, &b).await?;
    let body = confirmation_ics(&event_of(&cpts, &b, &with), state.now());
    let disposition = format!("attachment; filename=\"rendez-vous-{}.ics\"", b.id);
    let disposition = HeaderValue::from_str(&disposition).map_err(|e| Failure::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn moments_in_paris_time() {
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 13, 0, 0).unwrap();
        assert_eq!(short_moment(t), "mar. 24 nov. 14:00");
        assert_eq!(long_moment(t), "mardi 24 novembre 2026 à 14:00");
        assert_eq!(local_field(t), "2026-11-24T14:00");
        // Summer time: UTC+2.
        let t = Utc.with_ymd_and_hms(2026, 8, 2, 7, 5, 0).unwrap();
        assert_eq!(short_moment(t), "dim. 2 août 09:05");
    }

    #[test]
    fn distances_in_french() {
        assert_eq!(distance(4.249, Place::Cabinet), "4,2 km");
        assert_eq!(distance(0.0, Place::Domicile), "0,0 km");
        assert_eq!(distance(0.0, Place::Teleconsultation), "à distance");
    }
}
