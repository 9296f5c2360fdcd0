//! The registry of patients without a médecin traitant (`maillage_core::patients`): what the
//! pages of the access-to-care mission do with it.
//!
//! Health data: the registry, a request and its changes are the business of the CPTS's
//! coordinator and board (`Need::Edit`) and of the platform admin. A member professional may
//! register a patient (`Need::PersonalData`) and then sees a confirmation, never the registry
//! nor another request; the duplicate check (which would show other requests) is done for her
//! by the coordination, on the request's page. ARS, CPAM and national observers see nothing
//! (403), another CPTS's people nothing either (404). Anyone may register themselves on the
//! public form, within a rate limit per client address kept in the database.
//!
//! Every read of a request (its page, the registry list, an export) writes an audit event; every
//! change commits its audit event in the store transaction.

use super::{Ctx, Need, allowed, load_cpts};
use crate::error::{ErrorDetail, Failure};
use crate::state::AppState;
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::access::CptsId;
use maillage_core::ids::InseeCode;
use maillage_core::patients::{
    CapacityForm, CapacityUse, DoctorCapacity, DuplicateReason, FieldError, PatientRequest, RequestEvent, RequestForm,
    RequestSource, RequestStatus, capacity_use, probable_duplicates, subject_access_summary,
};
use maillage_store::{
    AccountStore, AuditEvent, Cpts, CptsStore, DirectoryEntry, DirectoryStore, PatientStore, RequestChange,
    RequestQuery, RequestRecord, RequestRow, StoreError,
};
use std::collections::{BTreeMap, BTreeSet};

/// Requests per page of the registry.
pub const PAGE_SIZE: u32 = 50;
/// Public registrations accepted from one client address within [`SELF_REGISTRATION_WINDOW`].
pub const SELF_REGISTRATION_LIMIT: u32 = 5;
/// The window of the public form's rate limit, in minutes.
pub const SELF_REGISTRATION_WINDOW: i64 = 60;
/// The GP profession code of the directory.
const GENERAL_PRACTITIONER: &str = "10";

/// A request id as this module makes them: `p-` and 16 hex digits.
fn new_request_id() -> String {
    let bytes: [u8; 8] = rand::random();
    format!("p-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// French label of a field of the request or capacity forms.
pub fn field_fr(field: &str) -> &'static str {
    match field {
        "family_name" => "Nom",
        "given_name" => "Prénom",
        "birth_date" => "Date de naissance",
        "commune" => "Commune",
        "phone" => "Téléphone",
        "email" => "Adresse électronique",
        "ald" => "Affection de longue durée",
        "precarity_c2s" => "Complémentaire santé solidaire",
        "other_fragility" => "Autre fragilité",
        "note" => "Note",
        "consent" => "Accord de la personne",
        "referred_by" => "Adressé par",
        "source" => "Origine de la demande",
        "national_id" => "Médecin",
        "kind" => "Type de capacité",
        "count" => "Nombre de nouveaux patients",
        "max_km" => "Distance maximale",
        "communes" => "Communes acceptées",
        "reason" => "Motif",
        "ald_class" => "Classe des patients en ALD",
        "age_class" => "Classe selon l'âge",
        "age_years" => "Âge à partir duquel",
        "precarity_class" => "Classe des patients en précarité",
        "other_fragility_class" => "Classe des autres fragilités",
        "hospital_discharge_class" => "Classe des sorties d'hospitalisation",
        "default_class" => "Classe des autres patients",
        "retention_days" => "Durée de conservation",
        _ => "Champ",
    }
}

fn field_error(field: &'static str, en: impl Into<String>, fr: impl Into<String>) -> FieldError {
    FieldError { field, en: en.into(), fr: fr.into() }
}

/// A refused form: one French sentence, and every field's problem in `details` (`path` = the
/// field) for the page to show next to the fields and in its summary.
pub(super) fn refused(what_fr: &str, errors: &[FieldError]) -> Failure {
    let fr = errors.iter().map(|e| format!("{} : {}", field_fr(e.field), e.fr)).collect::<Vec<_>>().join(" ; ");
    let en = errors.iter().map(|e| format!("{}: {}", e.field, e.en)).collect::<Vec<_>>().join("; ");
    Failure::invalid("invalid_form", format!("{what_fr} — {fr}."), en).with_details(
        errors.iter().map(|e| ErrorDetail {
            code: "invalid_field",
            path: e.field.to_owned(),
            en: e.en.clone(),
            fr: e.fr.clone(),
        }),
    )
}

/// The problem, if any, of a commune code that is well formed but names no current commune.
fn commune_error(state: &AppState, text: &str) -> Option<FieldError> {
    let code = InseeCode::parse(text.trim()).ok()?;
    state.reference.resolve(code.as_str()).err().map(|e| field_error("commune", e.to_string(), e.fr()))
}

/// Parses a request form, the commune checked against the reference too; every problem at once.
fn checked(
    state: &AppState,
    parsed: Result<PatientRequest, Vec<FieldError>>,
    form: &RequestForm,
    mut extra: Vec<FieldError>,
) -> Result<PatientRequest, Vec<FieldError>> {
    extra.extend(commune_error(state, &form.commune));
    match parsed {
        Ok(r) if extra.is_empty() => Ok(r),
        Ok(_) => Err(extra),
        Err(mut errors) => {
            errors.extend(extra);
            Err(errors)
        }
    }
}

/// The sources a professional's form offers: all but self-registration.
pub fn professional_sources() -> Vec<RequestSource> {
    RequestSource::ALL.into_iter().filter(|s| *s != RequestSource::SelfRegistration).collect()
}

pub(super) fn stale() -> Failure {
    Failure::Conflict {
        fr: "La demande a changé entre-temps (quelqu'un d'autre l'a modifiée) : rien n'a été enregistré. \
             Rechargez la page pour voir son état actuel, puis recommencez."
            .into(),
        en: "the request changed since it was read".into(),
    }
}

pub(super) fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::Stale { .. } => stale(),
        other => other.into(),
    }
}

/// The name of a professional as pages write it: `Dr Élise Martin`.
pub fn professional_name(p: &maillage_core::directory::model::Professional) -> String {
    crate::pages::full_name(p.civility.as_deref(), &p.given_name, &p.family_name)
}

/// What the registry's pages and the matching need of a doctor of the directory.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorInfo {
    /// With the civility: `Dr Élise Martin`.
    pub name: String,
    /// Without: `Élise Martin` (explanations write « proposé au Dr … » themselves).
    pub plain_name: String,
    /// Where she practises: the commune of her first place that has one (corrections applied).
    pub commune: Option<InseeCode>,
}

/// Up to this many doctors are read one by one; more in one bulk read of the directory.
const READ_ONE_BY_ONE: usize = 8;

/// The doctors named by national id, looked up in the CPTS's directory; an id the directory
/// does not know is left out (pages show the id, the matching leaves the doctor out).
pub async fn doctor_directory(
    ctx: &Ctx<'_>,
    cpts: &CptsId,
    ids: impl IntoIterator<Item = String>,
) -> Result<BTreeMap<String, DoctorInfo>, Failure> {
    let wanted: BTreeSet<String> = ids.into_iter().collect();
    let info = |e: &DirectoryEntry| {
        let shown = maillage_core::directory::model::effective(&e.professional, &e.corrections);
        DoctorInfo {
            name: professional_name(&e.professional),
            plain_name: format!("{} {}", e.professional.given_name, e.professional.family_name),
            commune: shown.places.iter().find_map(|p| p.commune_code.value),
        }
    };
    let store = &ctx.state.store;
    let mut found = BTreeMap::new();
    if wanted.len() <= READ_ONE_BY_ONE {
        for id in wanted {
            match store.directory_entry(cpts, &id).await {
                Ok(entry) => {
                    found.insert(id, info(&entry));
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
    } else {
        for entry in store.directory_export(cpts, true).await? {
            let id = entry.professional.national_id.national();
            if wanted.contains(&id) {
                found.insert(id, info(&entry));
            }
        }
    }
    Ok(found)
}

/// The names of the doctors named by national id (see [`doctor_directory`]).
pub async fn doctor_names(
    ctx: &Ctx<'_>,
    cpts: &CptsId,
    ids: impl IntoIterator<Item = String>,
) -> Result<BTreeMap<String, String>, Failure> {
    Ok(doctor_directory(ctx, cpts, ids).await?.into_iter().map(|(id, d)| (id, d.name)).collect())
}

// ---------------------------------------------------------------------------------------------
// The registry

/// What the registry list may be narrowed to, as typed.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Words of the names (accents and case ignored; two words at most are used).
    pub text: String,
    /// A status code (`waiting`…), empty for all.
    pub status: String,
    /// An INSEE code, empty for all.
    pub commune: String,
    /// From 1.
    pub page: u32,
}

impl RequestFilter {
    fn query(&self) -> Result<RequestQuery, Failure> {
        let text = self.text.trim();
        if text.chars().count() > 100 {
            return Err(Failure::invalid(
                "invalid_text",
                "La recherche compte au plus 100 caractères.",
                "the search text has at most 100 characters",
            ));
        }
        let status = match self.status.trim() {
            "" => None,
            s => Some(
                s.parse::<RequestStatus>()
                    .map_err(|e| Failure::invalid("invalid_status", format!("Statut inconnu : « {s} »."), e))?,
            ),
        };
        let commune = match self.commune.trim() {
            "" => None,
            c => Some(
                InseeCode::parse(c)
                    .map_err(|e| {
                        Failure::invalid(
                            "invalid_commune",
                            format!("Commune : {}.", e.fr),
                            format!("commune: {}", e.en),
                        )
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let page = self.page.max(1);
        Ok(RequestQuery {
            text: (!text.is_empty()).then(|| text.to_owned()),
            status,
            commune,
            doctor: None,
            offset: (page - 1).saturating_mul(PAGE_SIZE),
            limit: PAGE_SIZE,
        })
    }

    /// How the audit log records the filter.
    fn describe(&self, shown: usize, total: u64) -> String {
        let mut parts = Vec::new();
        if !self.status.trim().is_empty() {
            let s = self
                .status
                .trim()
                .parse::<RequestStatus>()
                .map_or_else(|_| self.status.trim().to_owned(), |s| s.fr().to_owned());
            parts.push(format!("statut « {s} »"));
        }
        if !self.text.trim().is_empty() {
            parts.push(format!("recherche « {} »", self.text.trim()));
        }
        if !self.commune.trim().is_empty() {
            parts.push(format!("commune {}", self.commune.trim()));
        }
        let filter = if parts.is_empty() { "sans filtre".to_owned() } else { parts.join(", ") };
        format!("registre, {filter}, page {} : {shown} demande(s) affichée(s) sur {total}", self.page.max(1))
    }
}

pub struct RequestList {
    pub cpts: Cpts,
    pub rows: Vec<RequestRow>,
    /// Matching the filter.
    pub total: u64,
    /// From 1.
    pub page: u32,
    pub pages: u32,
    /// Requests per status in the whole registry, in [`RequestStatus::ALL`] order.
    pub counts: Vec<(RequestStatus, u64)>,
    /// Every request of the registry.
    pub registered: u64,
}

/// Opens the registry of a CPTS: coordinator, board, admin.
pub async fn open_registry(ctx: &Ctx<'_>, id: &str) -> Result<Cpts, Failure> {
    load_cpts(ctx, id, Need::Edit).await
}

/// One page of the registry, who waits longest first, with the counts per status. The read is
/// audited (names are shown), one event per page view, the filter as detail.
pub async fn list(ctx: &Ctx<'_>, id: &str, filter: &RequestFilter) -> Result<RequestList, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let query = filter.query()?;
    let store = &ctx.state.store;
    let (rows, total) = store.search_requests(&cpts.id, &query).await?;
    let by_status = store.status_counts(&cpts.id).await?;
    let counts: Vec<(RequestStatus, u64)> =
        RequestStatus::ALL.into_iter().map(|s| (s, by_status.get(&s).copied().unwrap_or(0))).collect();
    let registered = counts.iter().map(|(_, n)| n).sum();
    ctx.audit(Some(&cpts.id), "read", "patient_registry", cpts.id.as_str(), filter.describe(rows.len(), total)).await?;
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE))).unwrap_or(u32::MAX).max(1);
    Ok(RequestList { cpts, rows, total, page: filter.page.max(1), pages, counts, registered })
}

// ---------------------------------------------------------------------------------------------
// Registration

/// A request of the registry that probably concerns the same person.
#[derive(Debug, Clone)]
pub struct ProbableDuplicate {
    pub id: String,
    pub family_name: String,
    pub given_name: String,
    pub birth_date: NaiveDate,
    pub status: RequestStatus,
    pub registered_at: DateTime<Utc>,
    pub reason: DuplicateReason,
}

fn duplicates_of(candidate: &PatientRequest, registry: &[RequestRecord]) -> Vec<ProbableDuplicate> {
    let requests: Vec<PatientRequest> = registry.iter().map(|r| r.request.clone()).collect();
    probable_duplicates(candidate, &requests)
        .into_iter()
        .filter_map(|(id, reason)| {
            let r = registry.iter().find(|r| r.request.id == id)?;
            Some(ProbableDuplicate {
                id,
                family_name: r.request.family_name.clone(),
                given_name: r.request.given_name.clone(),
                birth_date: r.request.birth_date,
                status: r.state.status,
                registered_at: r.request.registered_at,
                reason,
            })
        })
        .collect()
}

/// The outcome of the professional's form.
pub enum Registration {
    /// Registered; `sees_registry` tells whether the caller may open it (else: a confirmation).
    Registered { id: String, sees_registry: bool },
    /// Not registered: probable duplicates to look at first (coordinator, board, admin only).
    Duplicates(Vec<ProbableDuplicate>),
}

/// The CPTS whose professional form the caller may fill in, and whether she also sees the
/// registry.
pub async fn open_form(ctx: &Ctx<'_>, id: &str) -> Result<(Cpts, bool), Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    let sees_registry = allowed(ctx, &cpts, Need::Edit);
    Ok((cpts, sees_registry))
}

/// Registers a request from a professional's form (coordinator, board, admin, member
/// professionals); an empty source means a professional. For those who see the registry, probable duplicates stop the registration
/// unless `confirmed` (their names are then shown, and that read audited).
pub async fn register(
    ctx: &Ctx<'_>,
    id: &str,
    form: &RequestForm,
    source: &str,
    confirmed: bool,
) -> Result<Registration, Failure> {
    let (cpts, sees_registry) = open_form(ctx, id).await?;
    let mut extra = Vec::new();
    let source = match source.trim() {
        "" => Ok(RequestSource::Professional),
        s => s.parse::<RequestSource>(),
    };
    let source = match source {
        Ok(s) if s != RequestSource::SelfRegistration => s,
        _ => {
            extra.push(field_error("source", "choose where the request comes from", "choisissez l'origine"));
            RequestSource::Professional
        }
    };
    let now = ctx.state.now();
    let request = checked(ctx.state, form.parse(&new_request_id(), now, source), form, extra)
        .map_err(|e| refused("Demande non enregistrée", &e))?;
    let store = &ctx.state.store;
    let mut detail = format!("origine : {}", source.fr());
    if sees_registry {
        let registry = store.registry(&cpts.id).await?;
        let duplicates = duplicates_of(&request, &registry);
        if !duplicates.is_empty() {
            if !confirmed {
                for d in &duplicates {
                    ctx.audit(Some(&cpts.id), "read", "patient_request", &d.id, "affichée comme doublon probable")
                        .await?;
                }
                return Ok(Registration::Duplicates(duplicates));
            }
            detail.push_str(&format!(
                " ; enregistrée malgré {} doublon(s) probable(s) : {}",
                duplicates.len(),
                duplicates.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let event = ctx.event(Some(&cpts.id), "create", "patient_request", &request.id, detail);
    store.register_request(&cpts.id, &request, &event).await?;
    Ok(Registration::Registered { id: request.id, sees_registry })
}

// ---------------------------------------------------------------------------------------------
// A request

pub struct RequestPage {
    pub cpts: Cpts,
    pub record: RequestRecord,
    /// Other requests that probably concern the same person.
    pub duplicates: Vec<ProbableDuplicate>,
    /// Names of the doctors the history and state name, by national id.
    pub doctors: BTreeMap<String, String>,
}

/// A request with its history; the read is audited.
pub async fn request(ctx: &Ctx<'_>, id: &str, request_id: &str) -> Result<RequestPage, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let store = &ctx.state.store;
    let record = store.request(&cpts.id, request_id).await?;
    let registry = store.registry(&cpts.id).await?;
    let duplicates = duplicates_of(&record.request, &registry);
    let named: Vec<String> = record
        .history
        .iter()
        .filter_map(|c| c.doctor.clone())
        .chain(record.state.doctor.clone())
        .chain(record.state.excluded_doctors.iter().cloned())
        .collect();
    let doctors = doctor_names(ctx, &cpts.id, named).await?;
    ctx.audit(Some(&cpts.id), "read", "patient_request", request_id, "demande de médecin traitant consultée").await?;
    for d in &duplicates {
        ctx.audit(
            Some(&cpts.id),
            "read",
            "patient_request",
            &d.id,
            format!("affichée comme doublon probable de {request_id}"),
        )
        .await?;
    }
    Ok(RequestPage { cpts, record, duplicates, doctors })
}

/// The events a coordinator records by hand on a request's page: the person's news, and the
/// doctor's answer or the declaration when the doctor gave them by phone rather than in her
/// own view. Proposals come from the matching.
pub const MANUAL_EVENTS: [&str; 8] = [
    "doctor_accepts",
    "doctor_declines",
    "declare",
    "withdraw",
    "moved_away",
    "unreachable",
    "patient_declines",
    "reopen",
];

/// The manual event of a form, with its optional reason.
pub fn manual_event(code: &str, reason: &str) -> Result<RequestEvent, Failure> {
    let reason = Some(reason.trim().to_owned()).filter(|r| !r.is_empty());
    Ok(match code.trim() {
        "doctor_accepts" => RequestEvent::DoctorAccepts,
        "doctor_declines" => RequestEvent::DoctorDeclines { reason },
        "declare" => RequestEvent::Declare,
        "withdraw" => RequestEvent::Withdraw { reason },
        "moved_away" => RequestEvent::MovedAway { reason },
        "unreachable" => RequestEvent::Unreachable { reason },
        "patient_declines" => RequestEvent::PatientDeclines { reason },
        "reopen" => RequestEvent::Reopen { reason },
        other => {
            return Err(Failure::invalid(
                "unknown_event",
                "Ce changement ne se fait pas depuis cette page.",
                format!("unknown or not manual event {other:?}"),
            ));
        }
    })
}

/// The revision a form was filled from.
pub(super) fn revision(text: &str) -> Result<i64, Failure> {
    text.trim().parse().map_err(|_| {
        Failure::invalid("invalid_revision", "Le formulaire est incomplet : rechargez la page.", "missing revision")
    })
}

/// Applies one manual event to a request read at `revision_text`; returns the new status.
pub async fn apply_event(
    ctx: &Ctx<'_>,
    id: &str,
    request_id: &str,
    code: &str,
    reason: &str,
    revision_text: &str,
) -> Result<RequestStatus, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let expected = revision(revision_text)?;
    let event = manual_event(code, reason)?;
    let record = ctx.state.store.request(&cpts.id, request_id).await?;
    record_event(ctx, &cpts, &record, expected, &event, "").await
}

/// Applies `event` to a request read at revision `expected` (409 when it moved on since), made
/// by the caller, with its audit event (from → to, `who`, the reason); returns the new status.
pub(super) async fn record_event(
    ctx: &Ctx<'_>,
    cpts: &Cpts,
    record: &RequestRecord,
    expected: i64,
    event: &RequestEvent,
    who: &str,
) -> Result<RequestStatus, Failure> {
    if record.revision != expected {
        return Err(stale());
    }
    let now = ctx.state.now();
    let (state, change) = record
        .state
        .apply(event, now, &ctx.principal.account.display_name)
        .map_err(|e| Failure::invalid("refused_transition", format!("{}.", crate::pages::capitalised(&e.fr)), e.en))?;
    let mut detail = format!("{} → {}{who}", change.from.fr(), change.to.fr());
    if let Some(r) = &change.reason {
        detail.push_str(&format!(" ; motif : {r}"));
    }
    let id = &record.request.id;
    let audit = ctx.event(Some(&cpts.id), "update", "patient_request", id, detail);
    let to = change.to;
    let changes = [RequestChange { request_id: id.clone(), expected_revision: expected, state, change }];
    ctx.state.store.apply_changes(&cpts.id, &changes, now, &audit).await.map_err(store_failure)?;
    Ok(to)
}

/// Replaces what the person gave (status and history untouched).
pub async fn update(
    ctx: &Ctx<'_>,
    id: &str,
    request_id: &str,
    form: &RequestForm,
    revision_text: &str,
) -> Result<PatientRequest, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let expected = revision(revision_text)?;
    let store = &ctx.state.store;
    let record = store.request(&cpts.id, request_id).await?;
    if record.revision != expected {
        return Err(stale());
    }
    let now = ctx.state.now();
    let request = checked(ctx.state, form.update(&record.request, now), form, Vec::new())
        .map_err(|e| refused("Modification non enregistrée", &e))?;
    let event = ctx.event(Some(&cpts.id), "update", "patient_request", request_id, "coordonnées et situation");
    store.update_request(&cpts.id, &request, expected, now, &event).await.map_err(store_failure)?;
    Ok(request)
}

/// The person's data as a JSON document (right of access): the request, its state and history,
/// and the same in French words. The export is audited.
pub async fn export(ctx: &Ctx<'_>, id: &str, request_id: &str) -> Result<String, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let record = ctx.state.store.request(&cpts.id, request_id).await?;
    let summary: Vec<serde_json::Value> = subject_access_summary(&record.request, &record.history)
        .into_iter()
        .map(|(label, value)| serde_json::json!({ "label": label, "value": value }))
        .collect();
    let document = serde_json::json!({
        "cpts": { "id": cpts.id.as_str(), "name": cpts.name },
        "exported_at": ctx.state.now(),
        "summary": summary,
        "request": record.request,
        "state": record.state,
        "history": record.history,
    });
    let text = serde_json::to_string_pretty(&document).map_err(|e| Failure::Internal(e.to_string()))?;
    ctx.audit(Some(&cpts.id), "export", "patient_request", request_id, "export des données de la personne (RGPD)")
        .await?;
    Ok(text)
}

/// Erases a request and its history (the person's request, RGPD); `confirmed` is the box the
/// form asks to tick.
pub async fn erase(ctx: &Ctx<'_>, id: &str, request_id: &str, confirmed: bool) -> Result<(), Failure> {
    let cpts = open_registry(ctx, id).await?;
    if !confirmed {
        return Err(Failure::invalid(
            "not_confirmed",
            "Cochez la case pour confirmer l'effacement : rien n'a été effacé.",
            "erasure not confirmed",
        ));
    }
    let event = ctx.event(
        Some(&cpts.id),
        "delete",
        "patient_request",
        request_id,
        "effacement de la demande et de son historique (RGPD)",
    );
    Ok(ctx.state.store.erase_request(&cpts.id, request_id, &event).await?)
}

// ---------------------------------------------------------------------------------------------
// Doctors' capacities

pub struct CapacityView {
    pub capacity: DoctorCapacity,
    pub updated_at: DateTime<Utc>,
    /// From the directory; the national id when the directory no longer has the doctor.
    pub name: String,
    pub usage: CapacityUse,
    pub remaining: u32,
}

pub struct Capacities {
    pub cpts: Cpts,
    /// Coordinator, board, admin: every doctor's capacity.
    pub can_edit: bool,
    /// The caller's own GP profile (national id, name), when her account is linked to one.
    pub own: Option<(String, String)>,
    pub rows: Vec<CapacityView>,
}

/// The GP profile the caller's account is linked to, if it is a médecin's: (national id, name).
pub async fn own_doctor(ctx: &Ctx<'_>, cpts: &Cpts) -> Result<Option<(String, String)>, Failure> {
    if ctx.principal.role().cpts() != Some(&cpts.id) {
        return Ok(None);
    }
    let Some(nid) = ctx.state.store.professional_of_account(&cpts.id, &ctx.principal.account.id).await? else {
        return Ok(None);
    };
    match ctx.state.store.directory_entry(&cpts.id, &nid).await {
        Ok(e) if e.professional.profession_code == GENERAL_PRACTITIONER => {
            Ok(Some((nid, professional_name(&e.professional))))
        }
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn open_capacities(ctx: &Ctx<'_>, id: &str) -> Result<(Cpts, bool, Option<(String, String)>), Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    let can_edit = allowed(ctx, &cpts, Need::Edit);
    let own = if can_edit { None } else { own_doctor(ctx, &cpts).await? };
    if !can_edit && own.is_none() {
        return Err(Failure::Forbidden);
    }
    Ok((cpts, can_edit, own))
}

/// The declared capacities with what is left of each (a GP sees her own only).
pub async fn capacities(ctx: &Ctx<'_>, id: &str) -> Result<Capacities, Failure> {
    let (cpts, can_edit, own) = open_capacities(ctx, id).await?;
    let store = &ctx.state.store;
    let records: Vec<_> = store
        .capacities(&cpts.id)
        .await?
        .into_iter()
        .filter(|r| can_edit || own.as_ref().is_some_and(|(nid, _)| *nid == r.capacity.national_id))
        .collect();
    let registry = if records.is_empty() { Vec::new() } else { store.registry(&cpts.id).await? };
    let today = ctx.state.now().date_naive();
    let ids = records.iter().map(|r| r.capacity.national_id.clone());
    let names = doctor_names(ctx, &cpts.id, ids).await?;
    let mut rows: Vec<CapacityView> = records
        .into_iter()
        .map(|r| {
            let usage = capacity_use(&r.capacity.national_id, today, registry.iter().map(|x| x.history.as_slice()));
            CapacityView {
                name: names.get(&r.capacity.national_id).cloned().unwrap_or_else(|| r.capacity.national_id.clone()),
                remaining: r.capacity.remaining(usage.total, usage.this_month),
                usage,
                updated_at: r.updated_at,
                capacity: r.capacity,
            }
        })
        .collect();
    rows.sort_by_cached_key(|r| maillage_core::text::fold_for_search(&r.name));
    Ok(Capacities { cpts, can_edit, own, rows })
}

/// Declares or replaces a GP's capacity: coordinator and board for any médecin of the
/// directory, a GP for herself.
pub async fn put_capacity(ctx: &Ctx<'_>, id: &str, form: &CapacityForm) -> Result<DoctorCapacity, Failure> {
    let (cpts, can_edit, own) = open_capacities(ctx, id).await?;
    let mut form = form.clone();
    if let (false, Some((nid, _))) = (can_edit, &own) {
        form.national_id.clone_from(nid);
    }
    let parsed = form.parse();
    let mut errors = match &parsed {
        Ok(_) => Vec::new(),
        Err(e) => e.clone(),
    };
    for code in form.communes.split([',', ';', ' ', '\t', '\n', '\r']).filter(|c| !c.is_empty()) {
        if let Some(mut e) = commune_error(ctx.state, code) {
            e.field = "communes";
            errors.push(e);
        }
    }
    let capacity = match parsed {
        Ok(c) if errors.is_empty() => c,
        _ => return Err(refused("Capacité non enregistrée", &errors)),
    };
    let store = &ctx.state.store;
    let not_in_directory = || {
        refused(
            "Capacité non enregistrée",
            &[field_error(
                "national_id",
                "no such professional in the directory of the CPTS",
                format!("l'annuaire de la CPTS n'a pas de professionnel {}", capacity.national_id),
            )],
        )
    };
    let entry = match store.directory_entry(&cpts.id, &capacity.national_id).await {
        Ok(e) => e,
        Err(StoreError::NotFound) => return Err(not_in_directory()),
        Err(e) => return Err(e.into()),
    };
    if entry.professional.profession_code != GENERAL_PRACTITIONER {
        return Err(refused(
            "Capacité non enregistrée",
            &[field_error(
                "national_id",
                "not a médecin",
                format!(
                    "{} n'est pas médecin : seuls les médecins accueillent des patients comme médecin traitant",
                    professional_name(&entry.professional)
                ),
            )],
        ));
    }
    let event = ctx.event(Some(&cpts.id), "update", "doctor_capacity", &capacity.national_id, capacity.kind.fr());
    store.put_capacity(&cpts.id, &capacity, ctx.state.now(), &event).await.map_err(|e| match e {
        StoreError::NotFound => not_in_directory(),
        other => other.into(),
    })?;
    Ok(capacity)
}

/// Removes a GP's capacity (she takes no new patient through the CPTS any more).
pub async fn delete_capacity(ctx: &Ctx<'_>, id: &str, national_id: &str) -> Result<(), Failure> {
    let (cpts, can_edit, own) = open_capacities(ctx, id).await?;
    let national_id = national_id.trim();
    if !can_edit && own.as_ref().is_none_or(|(nid, _)| nid != national_id) {
        return Err(Failure::Forbidden);
    }
    let event = ctx.event(Some(&cpts.id), "delete", "doctor_capacity", national_id, "capacité retirée");
    Ok(ctx.state.store.delete_capacity(&cpts.id, national_id, &event).await?)
}

// ---------------------------------------------------------------------------------------------
// Public self-registration

/// A CPTS by the id of a public page: any unknown or malformed id is "not found".
pub async fn public_cpts(state: &AppState, id: &str) -> Result<Cpts, Failure> {
    let id = CptsId::parse(id).ok_or(Failure::NotFound)?;
    Ok(state.store.get_cpts(&id).await?)
}

/// What the public form did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfRegistration {
    Registered,
    /// The honeypot was filled: a robot. It is told "registered", nothing is stored.
    Ignored,
}

fn throttle_key(addr: &str) -> String {
    format!("self_registration:{addr}")
}

fn too_many() -> Failure {
    Failure::TooManyAttempts
}

/// The person registers themselves (no account). At most [`SELF_REGISTRATION_LIMIT`]
/// registrations per client address and hour (counted in the database, so that every server
/// sees the same count); a filled honeypot counts but stores nothing.
pub async fn self_register(
    state: &AppState,
    request_id: &str,
    addr: &str,
    id: &str,
    form: &RequestForm,
    honeypot: &str,
) -> Result<SelfRegistration, Failure> {
    let cpts = public_cpts(state, id).await?;
    let now = state.now();
    let window = chrono::Duration::minutes(SELF_REGISTRATION_WINDOW);
    let key = throttle_key(addr);
    if state.store.login_failures(&key, now, window).await? >= SELF_REGISTRATION_LIMIT {
        return Err(too_many());
    }
    if !honeypot.trim().is_empty() {
        state.store.record_login_failure(&key, now, window).await?;
        return Ok(SelfRegistration::Ignored);
    }
    let request = checked(state, form.parse(&new_request_id(), now, RequestSource::SelfRegistration), form, Vec::new())
        .map_err(|e| refused("Demande non envoyée", &e))?;
    // Counted before storing: concurrent submissions cannot pass the limit together.
    if state.store.record_login_failure(&key, now, window).await? > SELF_REGISTRATION_LIMIT {
        return Err(too_many());
    }
    let event = AuditEvent {
        cpts_id: Some(cpts.id.clone()),
        id: uuid::Uuid::new_v4().to_string(),
        at: now,
        account_id: None,
        account_label: "anonyme".into(),
        role: "anonymous".into(),
        action: "create".into(),
        object_type: "patient_request".into(),
        object_id: request.id.clone(),
        request_id: request_id.to_owned(),
        detail: format!("inscription en ligne par la personne (adresse {addr})"),
    };
    state.store.register_request(&cpts.id, &request, &event).await?;
    Ok(SelfRegistration::Registered)
}
