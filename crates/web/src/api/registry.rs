//! The registry's matching, settings and indicators as JSON: the use cases of the pages
//! `/cpts/{id}/acces-soins/{appariement,reglages,indicateurs}` (`app::matching`), so the same
//! rules. The coordination (coordinator, board, admin) only; the ARS, the CPAM, the national
//! level and member professionals get 403, another CPTS's people 404. A preview audits the
//! names it returns; sending proposals commits them with one audit event.

use crate::app::Ctx;
use crate::app::matching::{self as uc, Run};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::middleware::request_id;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use chrono::NaiveDate;
use maillage_core::matching::WaitingReason;
use maillage_core::patients::{RegistryIndicators, RegistrySettings, SettingsForm, StatusCounts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

fn ctx<'a>(state: &'a AppState, principal: &'a Principal, headers: &HeaderMap) -> Ctx<'a> {
    Ctx { state, principal, request_id: request_id(headers) }
}

fn bad_body(r: JsonRejection) -> ApiError {
    let text = r.body_text();
    ApiError::new(r.status(), "invalid_body", text.clone(), format!("Le document envoyé n'est pas valide : {text}"))
}

// ---------------------------------------------------------------------------------------------
// Matching

/// A proposal of a run.
#[derive(Serialize, ToSchema)]
pub struct MatchingProposal {
    /// The request's id.
    request: String,
    /// The doctor's national id (`8` + RPPS).
    doctor: String,
    doctor_name: String,
    /// Between the commune centres, whole metres.
    metres: u32,
    class: u8,
    /// Codes of the criteria that gave the class: `ald`, `age_at_least`, `precarity`, `flag`,
    /// `default`.
    because: Vec<String>,
    /// « proposé au Dr …, à 4,2 km, priorité 1 parce que ALD ».
    explanation_fr: String,
}

/// A patient a run leaves waiting.
#[derive(Serialize, ToSchema)]
pub struct MatchingWaiting {
    request: String,
    class: u8,
    /// `no_doctor_in_range` or `no_capacity_left`.
    reason: String,
    explanation_fr: String,
}

/// A run of the matching: computed on the registry and the capacities as they are.
#[derive(Serialize, ToSchema)]
pub struct MatchingRun {
    /// Identifies this run: send it back to `POST` to send exactly these proposals.
    fingerprint: String,
    max_km: f64,
    /// Matched patients per class (every class present).
    matched_by_class: BTreeMap<u8, u64>,
    /// Waiting patients per class.
    patients_by_class: BTreeMap<u8, u64>,
    total_km: f64,
    doctors_with_room: usize,
    /// Doctors with a declared capacity left out of the run, with why (in French).
    doctors_left_out: Vec<[String; 2]>,
    proposals: Vec<MatchingProposal>,
    waiting: Vec<MatchingWaiting>,
    /// `true` on the answer of `POST`: the proposals were sent.
    sent: bool,
}

impl MatchingRun {
    fn of(run: &Run, sent: bool) -> Self {
        MatchingRun {
            fingerprint: run.fingerprint.clone(),
            max_km: run.settings.max_km,
            matched_by_class: run.matching.matched_by_class.clone(),
            patients_by_class: run.matching.patients_by_class.clone(),
            total_km: run.matching.total_km(),
            doctors_with_room: run.doctors_with_room,
            doctors_left_out: run.doctors_left_out.iter().map(|(d, why)| [d.clone(), (*why).to_owned()]).collect(),
            proposals: run
                .proposals
                .iter()
                .map(|p| MatchingProposal {
                    request: p.assignment.patient.clone(),
                    doctor: p.assignment.doctor.clone(),
                    doctor_name: p.doctor.clone(),
                    metres: p.assignment.metres,
                    class: p.assignment.class,
                    because: p.assignment.because.iter().map(|r| r.code().to_owned()).collect(),
                    explanation_fr: p.explanation.clone(),
                })
                .collect(),
            waiting: run
                .waiting
                .iter()
                .map(|w| MatchingWaiting {
                    request: w.waiting.patient.clone(),
                    class: w.waiting.class,
                    reason: match w.waiting.why {
                        WaitingReason::NoDoctorInRange => "no_doctor_in_range",
                        WaitingReason::NoCapacityLeft { .. } => "no_capacity_left",
                    }
                    .to_owned(),
                    explanation_fr: w.explanation.clone(),
                })
                .collect(),
            sent,
        }
    }
}

/// What `POST …/registry/matching` sends: the fingerprint of the run previewed.
#[derive(Deserialize, ToSchema)]
pub struct MatchingSend {
    fingerprint: String,
}

/// The run the matching would make now; nothing is written (the names are audited).
#[utoipa::path(get, path = "/api/v1/cpts/{id}/registry/matching", tag = "registry", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = MatchingRun),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
    ))]
pub async fn preview(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<MatchingRun>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    Ok(Json(MatchingRun::of(&uc::preview(&c, &id).await?, false)))
}

/// Sends the proposals of the run previewed as `fingerprint`, all or none: each request becomes
/// "proposed" to its doctor and appears in her list.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/registry/matching", tag = "registry", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    request_body = MatchingSend,
    responses(
        (status = 200, body = MatchingRun, description = "the run sent"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 409, body = ApiError, description = "the registry or the capacities changed since the preview: nothing sent"),
        (status = 422, body = ApiError, description = "`nothing_to_send`, `invalid_body`"),
    ))]
pub async fn send(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<MatchingSend>, JsonRejection>,
) -> Result<Json<MatchingRun>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    Ok(Json(MatchingRun::of(&uc::send(&c, &id, &body.fingerprint).await?, true)))
}

// ---------------------------------------------------------------------------------------------
// Settings

/// The registry's settings. A class is from 1 to 4, `null` for "not a criterion".
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RegistrySettingsBody {
    /// 1 to 100 km.
    max_km: f64,
    ald_class: Option<u8>,
    age_class: Option<u8>,
    /// The age from which `age_class` applies (1 to 120).
    age_years: u16,
    precarity_class: Option<u8>,
    other_fragility_class: Option<u8>,
    hospital_discharge_class: Option<u8>,
    /// The class of everyone else: after every criterion's class.
    default_class: u8,
    /// Days an ended request is kept (30 to 1825).
    retention_days: u32,
}

impl RegistrySettingsBody {
    fn of(settings: &RegistrySettings) -> Self {
        let f = SettingsForm::of(settings);
        let class = |v: &str| v.parse().ok();
        RegistrySettingsBody {
            max_km: settings.max_km,
            ald_class: class(&f.ald_class),
            age_class: class(&f.age_class),
            age_years: f.age_years.parse().unwrap_or(70),
            precarity_class: class(&f.precarity_class),
            other_fragility_class: class(&f.other_fragility_class),
            hospital_discharge_class: class(&f.hospital_discharge_class),
            default_class: settings.priority.default_class,
            retention_days: settings.retention.closed_after_days,
        }
    }

    fn form(&self) -> SettingsForm {
        let class = |c: Option<u8>| c.map(|c| c.to_string()).unwrap_or_default();
        SettingsForm {
            max_km: self.max_km.to_string(),
            ald_class: class(self.ald_class),
            age_class: class(self.age_class),
            age_years: self.age_years.to_string(),
            precarity_class: class(self.precarity_class),
            other_fragility_class: class(self.other_fragility_class),
            hospital_discharge_class: class(self.hospital_discharge_class),
            default_class: self.default_class.to_string(),
            retention_days: self.retention_days.to_string(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/cpts/{id}/registry/settings", tag = "registry", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = RegistrySettingsBody, description = "the CPTS's settings, or the defaults"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
    ))]
pub async fn settings(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RegistrySettingsBody>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let (_, settings) = uc::settings(&c, &id).await?;
    Ok(Json(RegistrySettingsBody::of(&settings)))
}

/// Replaces the settings (they apply from the next run).
#[utoipa::path(put, path = "/api/v1/cpts/{id}/registry/settings", tag = "registry", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    request_body = RegistrySettingsBody,
    responses(
        (status = 200, body = RegistrySettingsBody),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
        (status = 422, body = ApiError, description = "`invalid_form` with one detail per field (`path` = the field), `invalid_body`"),
    ))]
pub async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<RegistrySettingsBody>, JsonRejection>,
) -> Result<Json<RegistrySettingsBody>, ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    let settings = uc::put_settings(&c, &id, &body.form()).await?;
    Ok(Json(RegistrySettingsBody::of(&settings)))
}

// ---------------------------------------------------------------------------------------------
// Indicators

/// Requests by current status (see `docs/patients.md` for every definition).
#[derive(Serialize, ToSchema)]
pub struct RegistryCounts {
    registered: u32,
    waiting: u32,
    proposed: u32,
    accepted: u32,
    declared: u32,
    declined: u32,
    withdrawn: u32,
    moved_away: u32,
    unreachable: u32,
    closed: u32,
    /// Requests that received at least one proposal (not part of the sum).
    matched: u32,
}

impl From<&StatusCounts> for RegistryCounts {
    fn from(c: &StatusCounts) -> Self {
        RegistryCounts {
            registered: c.registered,
            waiting: c.waiting,
            proposed: c.proposed,
            accepted: c.accepted,
            declared: c.declared,
            declined: c.declined,
            withdrawn: c.withdrawn,
            moved_away: c.moved_away,
            unreachable: c.unreachable,
            closed: c.closed,
            matched: c.matched,
        }
    }
}

/// One month of the series.
#[derive(Serialize, ToSchema)]
pub struct RegistryMonth {
    /// First day of the month.
    month: NaiveDate,
    registered: u32,
    declared: u32,
    open_at_end: u32,
}

/// The registry's indicators on `today`, classes by the CPTS's current rule.
#[derive(Serialize, ToSchema)]
pub struct RegistryIndicatorsBody {
    today: NaiveDate,
    overall: RegistryCounts,
    by_class: BTreeMap<u8, RegistryCounts>,
    median_days_to_declaration: Option<f64>,
    median_current_wait_days: Option<f64>,
    ald_registered: u32,
    ald_open: u32,
    ald_open_share: Option<f64>,
    /// The 12 months ending with the current one, oldest first.
    monthly: Vec<RegistryMonth>,
}

impl From<&RegistryIndicators> for RegistryIndicatorsBody {
    fn from(i: &RegistryIndicators) -> Self {
        RegistryIndicatorsBody {
            today: i.today,
            overall: (&i.overall).into(),
            by_class: i.by_class.iter().map(|(k, c)| (*k, c.into())).collect(),
            median_days_to_declaration: i.median_days_to_declaration,
            median_current_wait_days: i.median_current_wait_days,
            ald_registered: i.ald_registered,
            ald_open: i.ald_open,
            ald_open_share: i.ald_open_share,
            monthly: i
                .monthly
                .iter()
                .map(|m| RegistryMonth {
                    month: m.month,
                    registered: m.registered,
                    declared: m.declared,
                    open_at_end: m.open_at_end,
                })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/cpts/{id}/registry/indicators", tag = "registry", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = RegistryIndicatorsBody),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "member professionals, observers"),
        (status = 404, body = ApiError, description = "unknown CPTS, or another tenant's"),
    ))]
pub async fn indicators(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RegistryIndicatorsBody>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let (_, _, indicators) = uc::indicators(&c, &id).await?;
    Ok(Json((&indicators).into()))
}
