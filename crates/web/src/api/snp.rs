//! Same-day care (soins non programmés) as JSON: professionals' availability, the search for
//! free slots, bookings and a professional's iCalendar feed (`app::snp`, so the same rules).
//! Operators (coordinator, board, admin) do everything; a member professional linked to her
//! directory profile publishes her own availability and reads her own bookings and feed;
//! observers get 403, another CPTS's people 404. Reads of bookings are audited.

use crate::app::Ctx;
use crate::app::snp::{self as uc, BookingView, SlotSearch, SlotView, paris_time};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::middleware::request_id;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use maillage_core::snp::booking::{IntakeForm, Outcome};
use maillage_core::snp::{Audience, Availability, Cancellation, Closure, OneOffSlot, Place, WeeklyRange};
use maillage_store::StoredAvailability;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub(super) fn ctx<'a>(state: &'a AppState, principal: &'a Principal, headers: &HeaderMap) -> Ctx<'a> {
    Ctx { state, principal, request_id: request_id(headers) }
}

pub(super) fn bad_body(r: JsonRejection) -> ApiError {
    let text = r.body_text();
    ApiError::new(r.status(), "invalid_body", text.clone(), format!("Le document envoyé n'est pas valide : {text}"))
}

pub(super) fn bad_query(r: QueryRejection) -> ApiError {
    let text = r.body_text();
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_parameters",
        text.clone(),
        format!("Paramètres invalides : {text}"),
    )
}

/// `2026-11-24T14:00` (Paris wall-clock time).
fn paris(t: DateTime<Utc>) -> String {
    paris_time(t).map(|l| l.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

fn place_code(p: Place) -> &'static str {
    match p {
        Place::Cabinet => "cabinet",
        Place::Domicile => "domicile",
        Place::Teleconsultation => "teleconsultation",
    }
}

// ---------------------------------------------------------------------------------------------
// Availability

/// A professional's whole publication, in Paris wall-clock time. The items are those of
/// `docs/snp.md`: weekly ranges (`weekday` `Mon`…`Sun`, `start`/`end` `HH:MM:SS`,
/// `slot_minutes`, `capacity`, `place` `cabinet`|`domicile`|`teleconsultation`, `audiences`
/// among `public`, `pro`, `snp`, `cpts`, `valid_from`, `valid_until`), one-off slots (`start`,
/// `minutes`, `place`, `audiences`, `capacity`), closures (`from`, `to`, `reason`) and
/// cancellations (`start`, `reason`).
#[derive(Serialize, ToSchema)]
pub struct SnpAvailability {
    /// The directory national id (`8` + RPPS).
    professional: String,
    /// Send it back to replace this publication.
    revision: i64,
    updated_at: DateTime<Utc>,
    #[schema(value_type = Vec<Object>)]
    weekly: Vec<WeeklyRange>,
    #[schema(value_type = Vec<Object>)]
    one_off: Vec<OneOffSlot>,
    #[schema(value_type = Vec<Object>)]
    closures: Vec<Closure>,
    #[schema(value_type = Vec<Object>)]
    cancellations: Vec<Cancellation>,
}

impl From<StoredAvailability> for SnpAvailability {
    fn from(s: StoredAvailability) -> Self {
        let a = s.availability;
        SnpAvailability {
            professional: uc::national_id(a.professional),
            revision: s.revision,
            updated_at: s.updated_at,
            weekly: a.weekly,
            one_off: a.one_off,
            closures: a.closures,
            cancellations: a.cancellations,
        }
    }
}

/// What `PUT` sends: the whole publication (see [`SnpAvailability`] for the items), and the
/// revision read (absent to publish for the first time).
#[derive(Deserialize, ToSchema)]
pub struct SnpAvailabilityBody {
    revision: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    weekly: Vec<WeeklyRange>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    one_off: Vec<OneOffSlot>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    closures: Vec<Closure>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    cancellations: Vec<Cancellation>,
}

/// A professional's publication.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/snp/availability/{professional}", tag = "snp", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("professional" = String, Path, description = "directory national id (`8` + RPPS)"),
    ),
    responses(
        (status = 200, body = SnpAvailability),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; a professional asking for someone else"),
        (status = 404, body = ApiError, description = "unknown CPTS or another tenant's; nothing published"),
        (status = 422, body = ApiError, description = "`invalid_professional` (not an RPPS)"),
    ))]
pub async fn availability(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, professional)): Path<(String, String)>,
) -> Result<Json<SnpAvailability>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    Ok(Json(uc::availability(&c, &id, &professional).await?.into()))
}

/// Publishes (no `revision`) or replaces (the `revision` read) a professional's availability.
/// Every problem of the publication is reported at once (`details[].path` such as
/// `weekly[0].end`).
#[utoipa::path(put, path = "/api/v1/cpts/{id}/snp/availability/{professional}", tag = "snp", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("professional" = String, Path, description = "directory national id (`8` + RPPS)"),
    ),
    request_body = SnpAvailabilityBody,
    responses(
        (status = 200, body = SnpAvailability, description = "the publication stored, with its new revision"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; a professional publishing for someone else"),
        (status = 404, body = ApiError, description = "unknown CPTS or another tenant's; professional not in the directory"),
        (status = 409, body = ApiError, description = "already published (send the revision), or changed since the revision read"),
        (status = 422, body = ApiError, description = "`invalid_availability` with details, `invalid_professional`, `invalid_body`"),
    ))]
pub async fn put_availability(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, professional)): Path<(String, String)>,
    body: Result<Json<SnpAvailabilityBody>, JsonRejection>,
) -> Result<Json<SnpAvailability>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    let availability = Availability {
        professional: uc::professional_id(&professional)?,
        weekly: body.weekly,
        one_off: body.one_off,
        closures: body.closures,
        cancellations: body.cancellations,
    };
    Ok(Json(uc::put_availability(&c, &id, &professional, availability, body.revision).await?.into()))
}

// ---------------------------------------------------------------------------------------------
// Search

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnpSlotParams {
    /// INSEE code of the patient's commune (the search starts at its centre).
    commune: String,
    /// Slots starting from (RFC 3339; default now; never before now).
    from: Option<DateTime<Utc>>,
    /// Slots starting before (RFC 3339; default `from` + 24 h; at most 7 days after `from`).
    to: Option<DateTime<Utc>>,
    /// A profession code of the directory (`10` médecin, `60` infirmier…).
    profession: Option<String>,
    /// Places accepted, comma-separated among `cabinet`, `domicile`, `teleconsultation`
    /// (default `cabinet,domicile`).
    place: Option<String>,
    /// Who books: `snp` (default), `cpts`, `pro` or `public`.
    audience: Option<String>,
    /// Farthest practice, km (teleconsultation aside).
    max_km: Option<f64>,
}

/// A free slot.
#[derive(Serialize, ToSchema)]
pub struct SnpSlot {
    /// The slot's id, to book it: `p<RPPS>-<YYYYMMDDTHHMM Paris>-<C|D|T>`.
    slot: String,
    /// Directory national id (`8` + RPPS).
    professional: String,
    professional_name: String,
    profession: String,
    /// `cabinet`, `domicile` or `teleconsultation`.
    place: String,
    place_fr: String,
    /// The commune of the practice.
    commune: Option<String>,
    /// From the patient's commune centre to the practice's (0 for teleconsultation).
    distance_km: f64,
    /// Places still free.
    free: u8,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Paris wall-clock time, `YYYY-MM-DDTHH:MM`.
    start_paris: String,
    end_paris: String,
}

impl From<SlotView> for SnpSlot {
    fn from(v: SlotView) -> Self {
        let h = v.hit;
        SnpSlot {
            slot: h.id.to_string(),
            professional: v.professional,
            professional_name: v.professional_name,
            profession: h.profession.to_string(),
            place: place_code(h.place).to_owned(),
            place_fr: h.place.fr().to_owned(),
            commune: v.commune,
            distance_km: (h.distance_km * 10.0).round() / 10.0,
            free: h.free,
            start: h.start,
            end: h.end,
            start_paris: paris(h.start),
            end_paris: paris(h.end),
        }
    }
}

fn invalid_param(name: &str, value: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_parameters",
        format!("unknown {name} {value:?}"),
        format!("Paramètre {name} inconnu : « {value} »."),
    )
}

/// The best free slots (10 at most) for a patient: nearest practice first, then soonest.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/snp/slots", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), SnpSlotParams),
    responses(
        (status = 200, body = Vec<SnpSlot>),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_form` with details (commune, window, profession, distance), `invalid_parameters`"),
    ))]
pub async fn slots(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<SnpSlotParams>, QueryRejection>,
) -> Result<Json<Vec<SnpSlot>>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let Query(q) = query.map_err(bad_query)?;
    let mut places = Vec::new();
    for p in q.place.as_deref().unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        places.push(Place::ALL.into_iter().find(|x| place_code(*x) == p).ok_or_else(|| invalid_param("place", p))?);
    }
    let audience = match q.audience.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(
            Audience::ALL
                .into_iter()
                .find(|x| x.code().eq_ignore_ascii_case(a))
                .ok_or_else(|| invalid_param("audience", a))?,
        ),
    };
    let search = SlotSearch {
        commune: q.commune,
        from: q.from,
        to: q.to,
        profession: q.profession,
        places,
        audience,
        max_km: q.max_km,
    };
    let (_, hits) = uc::search(&c, &id, &search).await?;
    Ok(Json(hits.into_iter().map(SnpSlot::from).collect()))
}

// ---------------------------------------------------------------------------------------------
// Bookings

/// A booking.
#[derive(Serialize, ToSchema)]
pub struct SnpBooking {
    id: String,
    /// The request it orients.
    request: Option<String>,
    slot: String,
    /// Directory national id (`8` + RPPS).
    professional: String,
    professional_name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    start_paris: String,
    /// `cabinet`, `domicile` or `teleconsultation`.
    place: String,
    /// Reason code (`fievre`, `douleur_aigue`…) and its French label.
    reason: String,
    reason_fr: String,
    /// INSEE code of the patient's commune.
    commune: String,
    phone: Option<String>,
    email: Option<String>,
    /// `patient`, `regulation`, `pharmacie`, `professionnel`, `etablissement`, `autre`.
    referrer: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
    cancelled_at: Option<DateTime<Utc>>,
    /// `vu`, `absent`, `reoriente_urgences` or `autre`, once recorded.
    outcome: Option<String>,
    outcome_note: Option<String>,
    outcome_at: Option<DateTime<Utc>>,
}

impl From<BookingView> for SnpBooking {
    fn from(v: BookingView) -> Self {
        let b = v.booking;
        let (outcome, outcome_note, outcome_at) = match b.outcome {
            None => (None, None, None),
            Some((o, at)) => {
                let (code, note) = match o {
                    Outcome::Vu => ("vu", None),
                    Outcome::Absent => ("absent", None),
                    Outcome::ReorienteUrgences => ("reoriente_urgences", None),
                    Outcome::Autre { note } => ("autre", Some(note)),
                };
                (Some(code.to_owned()), note, Some(at))
            }
        };
        SnpBooking {
            id: b.id,
            request: b.request,
            slot: b.slot.to_string(),
            professional: v.professional,
            professional_name: v.professional_name,
            start: b.start,
            end: b.end,
            start_paris: paris(b.start),
            place: place_code(b.place).to_owned(),
            reason: b.reason.code().to_owned(),
            reason_fr: b.reason.fr().to_owned(),
            commune: b.commune.as_str().to_owned(),
            phone: b.phone,
            email: b.email,
            referrer: b.referrer.code().to_owned(),
            note: b.note,
            created_at: b.created_at,
            created_by: b.created_by,
            cancelled_at: b.cancelled_at,
            outcome,
            outcome_note,
            outcome_at,
        }
    }
}

/// What `POST …/bookings` sends: the slot and the intake form (as the operator typed it; the
/// window fields are not used to book, only checked).
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SnpBookingBody {
    /// A slot id from the search.
    slot: String,
    /// Reason code: `fievre`, `douleur_aigue`, `traumatisme_benin`, `infection_respiratoire`,
    /// `infection_urinaire`, `probleme_cutane`, `troubles_digestifs`,
    /// `renouvellement_traitement`, `soins_infirmiers`, `autre`.
    reason: String,
    /// INSEE code of the patient's commune.
    commune: String,
    /// A phone or an e-mail is required.
    phone: String,
    email: String,
    /// Paris time (`2026-11-24T14:00`), optional.
    window_from: String,
    window_to: String,
    /// `patient`, `regulation`, `pharmacie`, `professionnel`, `etablissement`, `autre`.
    referrer: String,
    /// At most 500 characters.
    note: String,
}

/// A booking made, and its iCalendar confirmation (one VEVENT, naming no patient).
#[derive(Serialize, ToSchema)]
pub struct SnpBooked {
    booking: SnpBooking,
    /// `text/calendar` content (RFC 5545, CRLF line endings).
    ics: String,
}

/// Books one place in a slot for a patient.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/snp/bookings", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    request_body = SnpBookingBody,
    responses(
        (status = 201, body = SnpBooked),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS or another tenant's; a slot nobody publishes"),
        (status = 409, body = ApiError, description = "the slot is full"),
        (status = 422, body = ApiError, description = "`invalid_form` with details, `slot_started`, `invalid_body`"),
    ))]
pub async fn book(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<SnpBookingBody>, JsonRejection>,
) -> Result<(StatusCode, Json<SnpBooked>), ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    let form = IntakeForm {
        reason: body.reason,
        commune: body.commune,
        phone: body.phone,
        email: body.email,
        window_from: body.window_from,
        window_to: body.window_to,
        referrer: body.referrer,
        note: body.note,
    };
    let booked = uc::book(&c, &id, &body.slot, &form).await?;
    Ok((StatusCode::CREATED, Json(booked.into())))
}

impl From<uc::Booked> for SnpBooked {
    fn from(b: uc::Booked) -> Self {
        SnpBooked { booking: b.view.into(), ics: b.ics }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnpWindowParams {
    /// Bookings starting from (RFC 3339; default 24 hours ago).
    from: Option<DateTime<Utc>>,
    /// Bookings starting before (RFC 3339; default `from` + 8 days; at most 92 days).
    to: Option<DateTime<Utc>>,
}

/// Bookings starting in the window (cancelled ones included), by start: every booking for the
/// operators, her own for a professional. The read is audited.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/snp/bookings", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), SnpWindowParams),
    responses(
        (status = 200, body = Vec<SnpBooking>),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; members not linked to a profile"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_window`, `invalid_parameters`"),
    ))]
pub async fn bookings(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<SnpWindowParams>, QueryRejection>,
) -> Result<Json<Vec<SnpBooking>>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let Query(q) = query.map_err(bad_query)?;
    Ok(Json(uc::bookings(&c, &id, q.from, q.to).await?.into_iter().map(SnpBooking::from).collect()))
}

/// Cancels a booking and frees its place.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/snp/bookings/{booking}/cancel", tag = "snp", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("booking" = String, Path, description = "booking id"),
    ),
    responses(
        (status = 200, body = SnpBooking),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; members not linked to a profile"),
        (status = 404, body = ApiError, description = "unknown CPTS or booking, another tenant's, another professional's"),
        (status = 409, body = ApiError, description = "already cancelled, or its outcome is recorded"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, booking)): Path<(String, String)>,
) -> Result<Json<SnpBooking>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    Ok(Json(uc::cancel(&c, &id, &booking).await?.into()))
}

/// What became of the patient.
#[derive(Deserialize, ToSchema)]
pub struct SnpOutcomeBody {
    /// `vu`, `absent`, `reoriente_urgences` or `autre`.
    outcome: String,
    /// Required with `autre` (at most 500 characters).
    #[serde(default)]
    note: String,
}

/// Records (or corrects) what became of the patient, once the slot has started.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/snp/bookings/{booking}/outcome", tag = "snp", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("booking" = String, Path, description = "booking id"),
    ),
    request_body = SnpOutcomeBody,
    responses(
        (status = 200, body = SnpBooking),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; members not linked to a profile"),
        (status = 404, body = ApiError, description = "unknown CPTS or booking, another tenant's, another professional's"),
        (status = 409, body = ApiError, description = "the booking is cancelled"),
        (status = 422, body = ApiError, description = "`invalid_form` with details, `slot_not_started`, `invalid_body`"),
    ))]
pub async fn outcome(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, booking)): Path<(String, String)>,
    body: Result<Json<SnpOutcomeBody>, JsonRejection>,
) -> Result<Json<SnpBooking>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    Ok(Json(uc::record_outcome(&c, &id, &booking, &body.outcome, &body.note).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnpAgendaParams {
    /// Directory national id (`8` + RPPS); required for operators, a professional's own by
    /// default.
    professional: Option<String>,
}

/// A professional's iCalendar feed: her bookings (not cancelled) from 30 days ago to 90 days
/// ahead; each event names the reason and the place, never the patient. Audited.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/snp/agenda.ics", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), SnpAgendaParams),
    responses(
        (status = 200, description = "the feed (RFC 5545)", content((String = "text/calendar; charset=utf-8"))),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; a professional asking for someone else's"),
        (status = 404, body = ApiError, description = "unknown CPTS or another tenant's; professional not in the directory"),
        (status = 422, body = ApiError, description = "`missing_professional`, `invalid_professional`"),
    ))]
pub async fn agenda(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<SnpAgendaParams>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let Query(q) = query.map_err(bad_query)?;
    let ics = uc::agenda_ics(&c, &id, q.professional.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], ics))
}
