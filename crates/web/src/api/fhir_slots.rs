//! The CPTS's free same-day-care slots as FHIR R4, in the shape the SAS (Service d'accès aux
//! soins) expects of a CPTS "aggregator": `GET /api/v1/cpts/{id}/fhir/Slot?start=ge…&start=lt…
//! &status=free&schedule.actor:Practitioner.identifier=8…,8…&_include=…` answers a `searchset`
//! `Bundle` of `Slot`s (`search.mode` `match`) and, when asked by `_include`, their `Schedule`s,
//! `Practitioner`s, the CPTS's `HealthcareService` and `Organization` (`include`). See
//! docs/snp.md, « SAS FHIR endpoint ».
//!
//! Who: the same rule as the slot search (`app::snp::search`): an account operating the CPTS's
//! same-day care (coordinator, board, admin), with an API token. Errors are FHIR
//! `OperationOutcome`s: 400 (parameters), 401 (no or a bad token), 403, 404 (another CPTS).

use crate::app::snp::{FreeSlot, free_slots, professional_id};
use crate::app::{Ctx, Need, load_cpts};
use crate::auth::MaybePrincipal;
use crate::error::Failure;
use crate::middleware::request_id;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maillage_core::directory::model::Professional;
use maillage_core::snp::booking::MAX_WINDOW;
use maillage_core::snp::{Place, ProfessionalId, paris};
use maillage_store::Cpts;
use serde_json::{Value, json};

/// Slot profile of a CPTS aggregator (`sas-cpts-slot-aggregator`, from FrSlot), under the SAS
/// guide's canonical (`ans.fhir.fr.sas`, `https://interop.esante.gouv.fr/ig/fhir/sas`).
pub const SLOT_PROFILE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator";
/// Audiences of a slot (`PUBLIC`, `PRO`, `SNP`, `CPTS`), ANS TRE_R314.
pub const TRE_R314_TYPE_CRENEAU: &str = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau";
/// Establishment categories (604: CPTS), ANS TRE_R66.
pub const TRE_R66_CATEGORIE_ETABLISSEMENT: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement";
/// The CPTS category of TRE_R66.
pub const CPTS_CATEGORY: &str = "604";
/// HL7 v3 ActCode: `AMB`, `HH`, `VR` (the place of the consultation).
pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// The R5 `Slot.serviceType` (a `CodeableReference`) as an R4 extension carrying the reference
/// to the HealthcareService (the guide's `SASServiceTypeR5`; its URL is the FHIR cross-version
/// extension of R5's `Slot.serviceType`).
pub const EXT_SERVICE_TYPE_R5: &str = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType";
/// National identifier of health professionals (`8` + RPPS).
const IDNPS_SYSTEM: &str = maillage_core::directory::fhir::IDNPS_SYSTEM;
/// Most practitioner identifiers in one search.
pub const MAX_IDENTIFIERS: usize = 25;
/// The practitioner identifier search parameter the SAS sends.
const IDENTIFIER_PARAM: &str = "schedule.actor:Practitioner.identifier";

// ---------------------------------------------------------------------------------------------
// Errors as OperationOutcome

fn outcome(status: StatusCode, code: &str, diagnostics: &str) -> Response {
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": "error", "code": code, "diagnostics": diagnostics }],
    });
    (status, [(header::CONTENT_TYPE, "application/fhir+json")], body.to_string()).into_response()
}

fn invalid(diagnostics: impl AsRef<str>) -> Response {
    outcome(StatusCode::BAD_REQUEST, "invalid", diagnostics.as_ref())
}

fn failure(f: &Failure) -> Response {
    if let Failure::Internal(detail) = f {
        tracing::error!(%detail, "internal error");
    }
    let code = match f {
        Failure::Unauthenticated => "login",
        Failure::Forbidden | Failure::Csrf => "forbidden",
        Failure::NotFound => "not-found",
        Failure::Invalid { .. } => "invalid",
        Failure::Conflict { .. } => "conflict",
        Failure::TooManyAttempts => "throttled",
        Failure::Internal(_) => "exception",
    };
    let status = match f {
        Failure::Invalid { .. } => StatusCode::BAD_REQUEST,
        other => other.status(),
    };
    outcome(status, code, &f.en())
}

// ---------------------------------------------------------------------------------------------
// Parameters

/// What the search asks, once parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// `None`: every professional.
    pub professionals: Option<Vec<ProfessionalId>>,
    pub include_schedule: bool,
    pub include_practitioner: bool,
    pub include_service: bool,
    pub include_organization: bool,
}

/// A `start` value: a FHIR instant (an offset is required; `+` decoded as a space by a sloppy
/// client is repaired) or a date (a Paris day). Returns the range of instants it stands for.
fn parse_when(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let text = text.trim().replace(' ', "+");
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        let t = t.with_timezone(&Utc);
        return Some((t, t + Duration::milliseconds(1)));
    }
    let day = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()?;
    Some((paris::day_start(day).ok()?, paris::day_start(day.succ_opt()?).ok()?))
}

/// Parses the search parameters (repeated ones included); unknown parameters are ignored, as
/// FHIR search allows.
pub fn parse_query(pairs: &[(String, String)]) -> Result<SlotQuery, String> {
    let mut from: Option<DateTime<Utc>> = None;
    let mut to: Option<DateTime<Utc>> = None;
    let mut professionals: Option<Vec<ProfessionalId>> = None;
    let mut query = SlotQuery {
        from: DateTime::<Utc>::MIN_UTC,
        to: DateTime::<Utc>::MIN_UTC,
        professionals: None,
        include_schedule: false,
        include_practitioner: false,
        include_service: false,
        include_organization: false,
    };
    for (key, value) in pairs {
        match key.as_str() {
            "start" => {
                let v = value.trim();
                let (prefix, rest) = if v.len() > 2 && v.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic) {
                    v.split_at(2)
                } else {
                    ("eq", v)
                };
                let (low, high) = parse_when(rest)
                    .ok_or_else(|| format!("start: {v:?} is not a FHIR instant with an offset, nor a date"))?;
                let (lower, upper) = match prefix {
                    "ge" => (Some(low), None),
                    "gt" => (Some(high), None),
                    "lt" => (None, Some(low)),
                    "le" => (None, Some(high)),
                    "eq" => (Some(low), Some(high)),
                    other => return Err(format!("start: the prefix {other:?} is not supported (ge, gt, lt, le, eq)")),
                };
                if let Some(l) = lower {
                    from = Some(from.map_or(l, |f| f.max(l)));
                }
                if let Some(u) = upper {
                    to = Some(to.map_or(u, |t| t.min(u)));
                }
            }
            "status" if value.split(',').any(|s| s.trim() != "free") => {
                return Err(format!("status: only free slots are served (status=free), not {value:?}"));
            }
            IDENTIFIER_PARAM | "schedule.actor.identifier" => {
                let list = professionals.get_or_insert_with(Vec::new);
                for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let bare = match item.split_once('|') {
                        Some((system, v)) if system.is_empty() || system == IDNPS_SYSTEM => v,
                        Some((system, _)) => {
                            return Err(format!("{IDENTIFIER_PARAM}: unknown identifier system {system:?}"));
                        }
                        None => item,
                    };
                    let p = professional_id(bare)
                        .map_err(|_| format!("{IDENTIFIER_PARAM}: {item:?} is not a national id 8 + RPPS"))?;
                    if !list.contains(&p) {
                        list.push(p);
                    }
                }
                if list.len() > MAX_IDENTIFIERS {
                    return Err(format!("{IDENTIFIER_PARAM}: at most {MAX_IDENTIFIERS} practitioners per search"));
                }
            }
            "_include" | "_include:iterate" => match value.trim() {
                "Slot:schedule" => query.include_schedule = true,
                "Schedule:actor" | "Schedule:actor:Practitioner" => query.include_practitioner = true,
                "Slot:service-type-reference" => query.include_service = true,
                "HealthcareService:organization" => query.include_organization = true,
                "*" | "Slot:*" => {
                    query.include_schedule = true;
                    query.include_service = true;
                }
                _ => {}
            },
            _ => {}
        }
    }
    let from = from.ok_or("start: a lower bound (start=ge…) is required")?;
    let to = to.unwrap_or(from + Duration::hours(24));
    if to <= from {
        return Err("start: the window ends before it starts".into());
    }
    if to - from > MAX_WINDOW {
        return Err("start: the window lasts at most 7 days".into());
    }
    query.from = from;
    query.to = to;
    query.professionals = professionals;
    Ok(query)
}

// ---------------------------------------------------------------------------------------------
// The Bundle

/// `2026-11-24T14:00:00+01:00`: the instant in Paris time with its offset.
fn instant(t: DateTime<Utc>) -> String {
    match (paris::to_local(t), paris::offset_at(t)) {
        (Ok(local), Ok(offset)) => format!("{}{}", local.format("%Y-%m-%dT%H:%M:%S"), offset.iso()),
        _ => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// A FHIR id made of the allowed characters (`[A-Za-z0-9\-\.]{1,64}`).
fn fhir_id(text: &str) -> String {
    let id: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .take(64)
        .collect();
    if id.is_empty() { "x".into() } else { id }
}

fn place_code(p: Place) -> (&'static str, &'static str) {
    match p {
        Place::Cabinet => ("AMB", "ambulatory"),
        Place::Domicile => ("HH", "home health"),
        Place::Teleconsultation => ("VR", "virtual"),
    }
}

fn practitioner(p: &Professional) -> Value {
    let nid = p.national_id.national();
    let mut name = json!({ "family": p.family_name });
    if !p.given_name.trim().is_empty() {
        name["given"] = json!([p.given_name]);
    }
    if let Some(civility) = p.civility.as_deref().filter(|c| !c.trim().is_empty()) {
        name["prefix"] = json!([civility]);
    }
    json!({
        "resourceType": "Practitioner",
        "id": fhir_id(&nid),
        "identifier": [{ "system": IDNPS_SYSTEM, "value": nid }],
        "name": [name],
    })
}

/// The searchset Bundle of free slots (sorted as given), with the resources `query` includes.
/// `base` is the FHIR base URL (`…/api/v1/cpts/{id}/fhir`), `self_url` the search as asked.
pub fn slot_bundle(cpts: &Cpts, base: &str, self_url: &str, query: &SlotQuery, slots: &[FreeSlot]) -> Value {
    let cpts_key = fhir_id(&cpts.id.to_string());
    let service_id = fhir_id(&format!("cpts-{cpts_key}"));
    let organization_id = service_id.clone();
    let entry = |resource: Value, mode: &str| {
        let full = format!(
            "{base}/{}/{}",
            resource["resourceType"].as_str().unwrap_or_default(),
            resource["id"].as_str().unwrap_or_default()
        );
        json!({ "fullUrl": full, "resource": resource, "search": { "mode": mode } })
    };
    let mut entries = Vec::new();
    let mut professionals: Vec<&Professional> = Vec::new();
    for s in slots {
        let schedule_id = fhir_id(&format!("p{}", s.slot.id.professional.0));
        let (place, place_display) = place_code(s.slot.place);
        let slot = json!({
            "resourceType": "Slot",
            "id": fhir_id(&s.slot.id.to_string()),
            "meta": {
                "profile": [SLOT_PROFILE],
                "security": s.slot.audiences.iter()
                    .map(|a| json!({ "system": TRE_R314_TYPE_CRENEAU, "code": a.code() }))
                    .collect::<Vec<_>>(),
            },
            "serviceType": [
                { "coding": [{ "system": V3_ACT_CODE, "code": place, "display": place_display }] },
                {
                    "extension": [{
                        "url": EXT_SERVICE_TYPE_R5,
                        "valueReference": { "reference": format!("HealthcareService/{service_id}") },
                    }],
                    "coding": [{ "system": TRE_R66_CATEGORIE_ETABLISSEMENT, "code": CPTS_CATEGORY }],
                },
            ],
            "schedule": { "reference": format!("Schedule/{schedule_id}") },
            "status": "free",
            "start": instant(s.slot.start),
            "end": instant(s.slot.end),
            "comment": format!("{} place(s) libre(s)", s.free),
        });
        entries.push(entry(slot, "match"));
        if !professionals.iter().any(|p| p.national_id == s.professional.national_id) {
            professionals.push(&s.professional);
        }
    }
    let total = entries.len();
    if query.include_schedule {
        for p in &professionals {
            let nid = p.national_id.national();
            let rpps = nid.strip_prefix('8').unwrap_or(&nid);
            entries.push(entry(
                json!({
                    "resourceType": "Schedule",
                    "id": fhir_id(&format!("p{rpps}")),
                    "active": true,
                    "actor": [{ "reference": format!("Practitioner/{}", fhir_id(&nid)) }],
                }),
                "include",
            ));
        }
    }
    if query.include_practitioner {
        entries.extend(professionals.iter().map(|p| entry(practitioner(p), "include")));
    }
    if total > 0 && query.include_service {
        entries.push(entry(
            json!({
                "resourceType": "HealthcareService",
                "id": service_id,
                "active": true,
                "providedBy": { "reference": format!("Organization/{organization_id}"), "display": cpts.name },
                "category": [{ "coding": [{ "system": TRE_R66_CATEGORIE_ETABLISSEMENT, "code": CPTS_CATEGORY }] }],
                "name": cpts.name,
            }),
            "include",
        ));
    }
    if total > 0 && query.include_organization {
        // Named by `1` + FINESS (IDNST) once the coordination has recorded it; by name only before.
        let mut organization =
            json!({ "resourceType": "Organization", "id": organization_id, "active": true, "name": cpts.name });
        if let Some(finess) = &cpts.finess {
            organization["identifier"] = json!([{
                "use": "official",
                "system": maillage_core::ids::IDNST_SYSTEM,
                "value": format!("1{finess}"),
            }]);
            organization["type"] =
                json!([{ "coding": [{ "system": TRE_R66_CATEGORIE_ETABLISSEMENT, "code": CPTS_CATEGORY }] }]);
        }
        entries.push(entry(organization, "include"));
    }
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{ "relation": "self", "url": self_url }],
        "entry": entries,
    })
}

// ---------------------------------------------------------------------------------------------
// Handler

/// `GET /api/v1/cpts/{id}/fhir/Slot`: the CPTS's free slots as a FHIR searchset Bundle.
pub async fn slots(
    State(state): State<AppState>,
    principal: MaybePrincipal,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(principal) = principal.0 else {
        return failure(&Failure::Unauthenticated);
    };
    let ctx = Ctx { state: &state, principal: &principal, request_id: request_id(&headers) };
    // Access first: a forbidden caller learns nothing of the parameters.
    let cpts = match load_cpts(&ctx, &id, Need::Edit).await {
        Ok(c) => c,
        Err(f) => return failure(&f),
    };
    let raw = raw.unwrap_or_default();
    let pairs: Vec<(String, String)> = match serde_urlencoded_pairs(&raw) {
        Some(p) => p,
        None => return invalid("the query string cannot be decoded"),
    };
    let query = match parse_query(&pairs) {
        Ok(q) => q,
        Err(e) => return invalid(e),
    };
    let found = match free_slots(&ctx, &cpts, query.from, query.to, query.professionals.as_deref()).await {
        Ok(f) => f,
        Err(f) => return failure(&f),
    };
    let base = format!("{}/api/v1/cpts/{}/fhir", state.settings.public_url.trim_end_matches('/'), cpts.id);
    let self_url = if raw.is_empty() { format!("{base}/Slot") } else { format!("{base}/Slot?{raw}") };
    let bundle = slot_bundle(&cpts, &base, &self_url, &query, &found);
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/fhir+json")], bundle.to_string()).into_response()
}

/// The query string's pairs, repeated keys kept, in order.
fn serde_urlencoded_pairs(raw: &str) -> Option<Vec<(String, String)>> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{raw}").parse().ok()?).ok().map(|q| q.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::snp::national_id;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn windows_and_prefixes() {
        let q = parse_query(&pairs(&[
            ("start", "ge2026-11-24T00:00:00Z"),
            ("start", "lt2026-11-25T00:00:00Z"),
            ("status", "free"),
            ("unknown", "x"),
        ]))
        .unwrap();
        assert_eq!(q.from.to_rfc3339(), "2026-11-24T00:00:00+00:00");
        assert_eq!(q.to.to_rfc3339(), "2026-11-25T00:00:00+00:00");
        assert!(q.professionals.is_none());
        // `+` decoded as a space.
        let q = parse_query(&pairs(&[("start", "ge2026-11-24T10:00:00.000 01:00")])).unwrap();
        assert_eq!(q.from.to_rfc3339(), "2026-11-24T09:00:00+00:00");
        assert_eq!(q.to - q.from, Duration::hours(24));
        // A date: the Paris day.
        let q = parse_query(&pairs(&[("start", "2026-11-24")])).unwrap();
        assert_eq!(q.from.to_rfc3339(), "2026-11-23T23:00:00+00:00");
        assert_eq!(q.to - q.from, Duration::hours(24));
        for bad in [
            vec![("start", "lt2026-11-25T00:00:00Z")],
            vec![("start", "ge2026-11-24T00:00:00Z"), ("start", "lt2026-12-25T00:00:00Z")],
            vec![("start", "ge2026-11-24T00:00:00Z"), ("start", "lt2026-11-23T00:00:00Z")],
            vec![("start", "ge2026-11-24T00:00:00")],
            vec![("start", "sa2026-11-24T00:00:00Z")],
            vec![("start", "ge2026-11-24T00:00:00Z"), ("status", "busy")],
        ] {
            assert!(parse_query(&pairs(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn practitioner_identifiers() {
        let many: Vec<String> = (0..26).map(|i| format!("8100000000{i:02}")).collect();
        let start = ("start", "ge2026-11-24T00:00:00Z");
        let q = parse_query(&pairs(&[start, (IDENTIFIER_PARAM, &many[..25].join(","))])).unwrap();
        assert_eq!(q.professionals.unwrap().len(), 25);
        assert!(parse_query(&pairs(&[start, (IDENTIFIER_PARAM, &many.join(","))])).is_err());
        let q = parse_query(&pairs(&[start, (IDENTIFIER_PARAM, "urn:oid:1.2.250.1.71.4.2.1|810001234567")])).unwrap();
        assert_eq!(q.professionals.unwrap(), [ProfessionalId(10001234567)]);
        assert!(parse_query(&pairs(&[start, (IDENTIFIER_PARAM, "http://x|810001234567")])).is_err());
        assert!(parse_query(&pairs(&[start, (IDENTIFIER_PARAM, "0123456789")])).is_err());
    }

    #[test]
    fn instants_carry_the_paris_offset() {
        let t = DateTime::parse_from_rfc3339("2026-11-24T13:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(instant(t), "2026-11-24T14:00:00+01:00");
        let t = DateTime::parse_from_rfc3339("2026-06-24T13:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(instant(t), "2026-06-24T15:00:00+02:00");
        assert_eq!(national_id(ProfessionalId(10001234567)), "810001234567");
    }
}
