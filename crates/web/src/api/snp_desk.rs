//! Same-day care as JSON, the orientation desk's side (`app::snp_desk`): requests taken
//! without a slot, booking a waiting request, the SNP indicators, the CPTS's FINESS, and the
//! professionals' subscribable calendar addresses.

use super::snp::{SnpBooked, bad_body, bad_query, ctx};
use crate::app::snp_desk as uc;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::snp::booking::IntakeForm;
use maillage_core::snp::requests::Tally;
use maillage_store::SnpRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------------------------------------
// Requests

/// A request taken by the orientation desk.
#[derive(Serialize, ToSchema)]
pub struct SnpRequestView {
    id: String,
    received_at: DateTime<Utc>,
    /// Reason code and its French label.
    reason: String,
    reason_fr: String,
    /// INSEE code of the patient's commune.
    commune: String,
    phone: Option<String>,
    email: Option<String>,
    referrer: String,
    note: Option<String>,
    created_by: String,
    /// `en_attente`, `orientee` (a slot of the CPTS is booked), `reorientee`, `abandonnee`.
    status: String,
    /// Where a `reorientee` request was sent: `urgences`, `regulation`, `medecin_traitant`,
    /// `pharmacie`, `garde`, `conseil`, `autre`.
    destination: Option<String>,
    booking: Option<String>,
    /// Start of the booked slot.
    appointment: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
}

impl From<SnpRequest> for SnpRequestView {
    fn from(r: SnpRequest) -> Self {
        SnpRequestView {
            id: r.id,
            received_at: r.received_at,
            reason: r.reason.code().to_owned(),
            reason_fr: r.reason.fr().to_owned(),
            commune: r.commune.as_str().to_owned(),
            phone: r.phone,
            email: r.email,
            referrer: r.referrer.code().to_owned(),
            note: r.note,
            created_by: r.created_by,
            status: r.status.code().to_owned(),
            destination: r.destination.map(|d| d.code().to_owned()),
            booking: r.booking,
            appointment: r.appointment,
            closed_at: r.closed_at,
        }
    }
}

/// What `POST …/requests` sends: the intake (the fields of a booking but `slot`) and what was
/// done: nothing yet (`en_attente`, the default), a destination code, or `abandonnee`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SnpRequestBody {
    /// Reason code, as for a booking.
    reason: String,
    /// INSEE code of the patient's commune.
    commune: String,
    /// A phone or an e-mail is required.
    phone: String,
    email: String,
    /// Paris time (`2026-11-24T14:00`), optional: when the patient asks to be seen.
    window_from: String,
    window_to: String,
    /// `patient`, `regulation`, `pharmacie`, `professionnel`, `etablissement`, `autre`.
    referrer: String,
    /// At most 500 characters.
    note: String,
    /// `en_attente` (default), `urgences`, `regulation`, `medecin_traitant`, `pharmacie`,
    /// `garde`, `conseil`, `autre`, or `abandonnee`.
    closure: String,
}

/// Records a request taken without booking a slot: to call back, sent elsewhere, or given up.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/snp/requests", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    request_body = SnpRequestBody,
    responses(
        (status = 201, body = SnpRequestView),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_form` with details, `invalid_body`"),
    ))]
pub async fn record(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<SnpRequestBody>, JsonRejection>,
) -> Result<(StatusCode, Json<SnpRequestView>), ApiError> {
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
    let request = uc::record_request(&c, &id, &form, &body.closure).await?;
    Ok((StatusCode::CREATED, Json(request.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnpPeriodParams {
    /// First Paris day (`YYYY-MM-DD`; default 27 days before `to`).
    from: Option<NaiveDate>,
    /// Last Paris day (default today; at most 400 days in all).
    to: Option<NaiveDate>,
}

/// Requests received in a period (default the last 4 weeks), oldest first. Audited.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/snp/requests", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), SnpPeriodParams),
    responses(
        (status = 200, body = Vec<SnpRequestView>),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_period`, `invalid_parameters`"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<SnpPeriodParams>, QueryRejection>,
) -> Result<Json<Vec<SnpRequestView>>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let c = ctx(&state, &principal, &headers);
    let list = uc::requests(&c, &id, q.from, q.to).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Requests waiting for an orientation, oldest first (at most 100). Audited.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/snp/requests/waiting", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = Vec<SnpRequestView>),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
    ))]
pub async fn waiting(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<SnpRequestView>>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    Ok(Json(uc::waiting(&c, &id).await?.1.into_iter().map(Into::into).collect()))
}

/// Closing a waiting request.
#[derive(Deserialize, ToSchema)]
pub struct SnpCloseBody {
    /// A destination code (`urgences`, `regulation`, `medecin_traitant`, `pharmacie`, `garde`,
    /// `conseil`, `autre`) or `abandonnee`.
    closure: String,
}

/// Closes a waiting request: sent elsewhere, or given up.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/snp/requests/{request}/close", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), ("request" = String, Path, description = "request id")),
    request_body = SnpCloseBody,
    responses(
        (status = 200, body = SnpRequestView),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, another tenant's, unknown request"),
        (status = 409, body = ApiError, description = "the request no longer waits"),
        (status = 422, body = ApiError, description = "`invalid_form`, `missing_destination`, `invalid_body`"),
    ))]
pub async fn close(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, request)): Path<(String, String)>,
    body: Result<Json<SnpCloseBody>, JsonRejection>,
) -> Result<Json<SnpRequestView>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    Ok(Json(uc::close_request(&c, &id, &request, &body.closure).await?.into()))
}

/// Booking a waiting request.
#[derive(Deserialize, ToSchema)]
pub struct SnpBookRequestBody {
    /// A slot id from the search.
    slot: String,
}

/// Books a slot for a waiting request (its recorded intake).
#[utoipa::path(post, path = "/api/v1/cpts/{id}/snp/requests/{request}/book", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), ("request" = String, Path, description = "request id")),
    request_body = SnpBookRequestBody,
    responses(
        (status = 201, body = SnpBooked),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, another tenant's, unknown request or slot"),
        (status = 409, body = ApiError, description = "the slot is full, or the request no longer waits"),
        (status = 422, body = ApiError, description = "`invalid_form`, `slot_started`, `invalid_body`"),
    ))]
pub async fn book(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, request)): Path<(String, String)>,
    body: Result<Json<SnpBookRequestBody>, JsonRejection>,
) -> Result<(StatusCode, Json<SnpBooked>), ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    let booked = uc::book_request(&c, &id, &request, &body.slot).await?;
    Ok((StatusCode::CREATED, Json(SnpBooked::from(booked))))
}

// ---------------------------------------------------------------------------------------------
// Indicators

/// Requests received and handled within 24 hours, in one bucket.
#[derive(Serialize, ToSchema)]
pub struct SnpTally {
    received: u64,
    within_24h: u64,
}

impl From<Tally> for SnpTally {
    fn from(t: Tally) -> Self {
        SnpTally { received: t.received, within_24h: t.within_24h }
    }
}

/// A count with its label.
#[derive(Serialize, ToSchema)]
pub struct SnpCount {
    code: String,
    label: String,
    count: u64,
}

/// A week's tally.
#[derive(Serialize, ToSchema)]
pub struct SnpWeek {
    /// The week's Monday.
    week: NaiveDate,
    received: u64,
    within_24h: u64,
}

/// The SNP indicators of a period (definitions in docs/snp.md, « Indicators »).
#[derive(Serialize, ToSchema)]
pub struct SnpIndicatorsView {
    from: NaiveDate,
    to: NaiveDate,
    received: u64,
    /// Booked in a slot of the CPTS, or sent elsewhere.
    oriented: u64,
    booked: u64,
    reoriented: u64,
    abandoned: u64,
    waiting: u64,
    /// Booked in a slot starting at most 24 hours after the call.
    within_24h: u64,
    /// `within_24h / received`, percent.
    within_24h_share: Option<f64>,
    /// Median time from the call to the booked slot, minutes.
    median_delay_minutes: Option<i64>,
    /// Monday first, by the Paris day of the call.
    by_weekday: Vec<SnpTally>,
    /// Hours 0–23 of the call, Paris time.
    by_hour: Vec<SnpTally>,
    by_week: Vec<SnpWeek>,
    /// Bookings by profession of the professional booked.
    by_profession: Vec<SnpCount>,
    by_reason: Vec<SnpCount>,
    by_destination: Vec<SnpCount>,
    /// Outcomes of the booked requests: `vu`, `absent`, `reoriente_urgences`, `autre`, `non_renseigne`.
    outcomes: Vec<SnpCount>,
    /// Professionals whose publication has a slot in the period.
    participating_professionals: usize,
    /// Professionals who publish at all.
    publishing_professionals: usize,
}

impl From<uc::Dashboard> for SnpIndicatorsView {
    fn from(d: uc::Dashboard) -> Self {
        let i = d.indicators;
        let count = |code: &str, label: &str, count: u64| SnpCount { code: code.into(), label: label.into(), count };
        let o = i.outcomes;
        SnpIndicatorsView {
            from: i.from,
            to: i.to,
            received: i.received,
            oriented: i.oriented,
            booked: i.booked,
            reoriented: i.reoriented,
            abandoned: i.abandoned,
            waiting: i.waiting,
            within_24h: i.within_24h,
            within_24h_share: i.within_24h_share,
            median_delay_minutes: i.median_delay_minutes,
            by_weekday: i.by_weekday.into_iter().map(Into::into).collect(),
            by_hour: i.by_hour.into_iter().map(Into::into).collect(),
            by_week: i
                .by_week
                .into_iter()
                .map(|(week, t)| SnpWeek { week, received: t.received, within_24h: t.within_24h })
                .collect(),
            by_profession: d.by_profession.iter().map(|(code, label, n)| count(code, label, *n)).collect(),
            by_reason: i.by_reason.iter().map(|(r, n)| count(r.code(), r.fr(), *n)).collect(),
            by_destination: i.by_destination.iter().map(|(x, n)| count(x.code(), x.fr(), *n)).collect(),
            outcomes: vec![
                count("vu", "Vu", o.seen),
                count("absent", "Absent (non venu)", o.no_show),
                count("reoriente_urgences", "Réorienté vers les urgences", o.emergency),
                count("autre", "Autre", o.other),
                count("non_renseigne", "Issue non renseignée", o.unrecorded),
            ],
            participating_professionals: d.participating,
            publishing_professionals: d.publishing,
        }
    }
}

/// The SNP indicators of a period (default the last 4 weeks). Aggregates only.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/snp/indicators", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), SnpPeriodParams),
    responses(
        (status = 200, body = SnpIndicatorsView),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "members; observers outside the CPTS's région"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_period`, `invalid_parameters`"),
    ))]
pub async fn indicators(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<SnpPeriodParams>, QueryRejection>,
) -> Result<Json<SnpIndicatorsView>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let c = ctx(&state, &principal, &headers);
    Ok(Json(uc::dashboard(&c, &id, q.from, q.to).await?.into()))
}

// ---------------------------------------------------------------------------------------------
// FINESS and calendar addresses

/// The CPTS's FINESS.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct SnpFinessBody {
    /// 9 characters (Luhn key checked); empty to clear. The SAS names the CPTS's Organization
    /// `1` + FINESS.
    finess: String,
}

/// Records (or clears) the CPTS's FINESS, served to the SAS as its Organization identifier.
#[utoipa::path(put, path = "/api/v1/cpts/{id}/finess", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    request_body = SnpFinessBody,
    responses(
        (status = 200, body = SnpFinessBody),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "members, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_form` (not a FINESS), `invalid_body`"),
    ))]
pub async fn put_finess(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<SnpFinessBody>, JsonRejection>,
) -> Result<Json<SnpFinessBody>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    let cpts = uc::set_finess(&c, &id, &body.finess).await?;
    Ok(Json(SnpFinessBody { finess: cpts.finess.map(|f| f.to_string()).unwrap_or_default() }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnpFeedParams {
    /// Directory national id (`8` + RPPS); default the caller's own profile.
    professional: Option<String>,
}

/// A new calendar address.
#[derive(Serialize, ToSchema)]
pub struct SnpFeedAddress {
    /// Path of the secret address (`/calendrier/<token>.ics`), under the server's public URL.
    /// Shown once; the previous address stops working.
    path: String,
    url: String,
}

/// Makes a new secret calendar address for a professional (a calendar application subscribes
/// to it without logging in); the previous one stops working.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/snp/feed-token", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), SnpFeedParams),
    responses(
        (status = 201, body = SnpFeedAddress),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; a professional for someone else"),
        (status = 404, body = ApiError, description = "unknown CPTS, another tenant's; not in the directory"),
        (status = 422, body = ApiError, description = "`invalid_professional`, `missing_professional`"),
    ))]
pub async fn new_feed_token(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<SnpFeedParams>, QueryRejection>,
) -> Result<(StatusCode, Json<SnpFeedAddress>), ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let c = ctx(&state, &principal, &headers);
    let path = uc::new_feed_token(&c, &id, q.professional.as_deref()).await?;
    let url = format!("{}{path}", state.settings.public_url.trim_end_matches('/'));
    Ok((StatusCode::CREATED, Json(SnpFeedAddress { path, url })))
}

/// Revokes a professional's secret calendar address.
#[utoipa::path(delete, path = "/api/v1/cpts/{id}/snp/feed-token", tag = "snp", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), SnpFeedParams),
    responses(
        (status = 204),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "observers; a professional for someone else"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_professional`, `missing_professional`"),
    ))]
pub async fn revoke_feed_token(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<SnpFeedParams>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let c = ctx(&state, &principal, &headers);
    uc::revoke_feed_token(&c, &id, q.professional.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
