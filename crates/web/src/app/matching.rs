//! The matching of the registry (`maillage_core::matching`), its settings, the GPs' answers,
//! and the indicators: what the access-to-care pages and the API do with them.
//!
//! The coordination (coordinator, board, admin: `Need::Edit`) sets the distance limit, the
//! priority rule and the retention; runs the matching as a preview (nothing written), then sends
//! the proposals it saw: the run is computed again and sent only if it is still the one
//! previewed, all proposals in one transaction with one audit event. A GP whose account is
//! linked to her profile sees the patients proposed to her and answers (accepts, declines with
//! a reason, records the declaration); a decline excludes her from that patient for good and
//! the patient waits for the next run. Every list that shows patients audits each of them.

use super::patients::{
    DoctorInfo, doctor_directory, open_registry, own_doctor, record_event, refused, revision, store_failure,
};
use super::{Ctx, Need, load_cpts};
use crate::error::Failure;
use chrono::NaiveDate;
use maillage_core::matching::{Assignment, Matching, Waiting, match_patients};
use maillage_core::patients::settings::priority;
use maillage_core::patients::{
    AvailableDoctor, RegistryIndicators, RegistrySettings, RequestEvent, RequestStatus, SettingsForm, capacity_use,
    matching_input,
};
use maillage_store::{Cpts, PatientStore, RequestChange, RequestQuery, RequestRecord, RequestRow};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The CPTS's settings, or the defaults until it changes them.
pub async fn current_settings(ctx: &Ctx<'_>, cpts: &Cpts) -> Result<RegistrySettings, Failure> {
    Ok(ctx.state.store.registry_settings(&cpts.id).await?.unwrap_or_default())
}

pub async fn settings(ctx: &Ctx<'_>, id: &str) -> Result<(Cpts, RegistrySettings), Failure> {
    let cpts = open_registry(ctx, id).await?;
    let settings = current_settings(ctx, &cpts).await?;
    Ok((cpts, settings))
}

/// Replaces the settings; every field that does not fit is refused (422, nothing written).
pub async fn put_settings(ctx: &Ctx<'_>, id: &str, form: &SettingsForm) -> Result<RegistrySettings, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let settings = form.parse().map_err(|e| refused("Les réglages ne sont pas enregistrés", &e))?;
    let detail = format!(
        "distance maximale {} km, conservation {} jours, règle de priorité {}",
        settings.max_km,
        settings.retention.closed_after_days,
        serde_json::to_string(&settings.priority).unwrap_or_default()
    );
    let audit = ctx.event(Some(&cpts.id), "update", "registry_settings", cpts.id.as_str(), detail);
    ctx.state.store.put_registry_settings(&cpts.id, &settings, ctx.state.now(), &audit).await?;
    Ok(settings)
}

// ---------------------------------------------------------------------------------------------
// A run

/// A proposal of a run, with what the coordination needs to check it.
#[derive(Debug, Clone)]
pub struct ProposalView {
    pub assignment: Assignment,
    pub patient: String,
    pub commune: String,
    pub doctor: String,
    /// « proposé au Dr Martin, à 4,2 km, priorité 1 parce que ALD ».
    pub explanation: String,
}

/// A patient a run leaves waiting, and why.
#[derive(Debug, Clone)]
pub struct WaitingView {
    pub waiting: Waiting,
    pub patient: String,
    pub commune: String,
    pub explanation: String,
}

/// A run, computed and not written.
pub struct Run {
    pub cpts: Cpts,
    pub settings: RegistrySettings,
    pub matching: Matching,
    pub proposals: Vec<ProposalView>,
    pub waiting: Vec<WaitingView>,
    /// Doctors with room taken into account.
    pub doctors_with_room: usize,
    /// Doctors with a declared capacity the run had to leave out, and why.
    pub doctors_left_out: Vec<(String, &'static str)>,
    /// Identifies the run: the requests it read (id, revision) and the proposals it made.
    pub fingerprint: String,
    records: BTreeMap<String, RequestRecord>,
}

/// Computes a run on the registry and the capacities as they are now.
async fn compute(ctx: &Ctx<'_>, cpts: Cpts) -> Result<Run, Failure> {
    let store = &ctx.state.store;
    let settings = current_settings(ctx, &cpts).await?;
    let registry = store.registry(&cpts.id).await?;
    let capacities = store.capacities(&cpts.id).await?;
    let today: NaiveDate = ctx.state.now().date_naive();
    let directory = doctor_directory(ctx, &cpts.id, capacities.iter().map(|c| c.capacity.national_id.clone())).await?;

    let mut available = Vec::with_capacity(capacities.len());
    let mut doctors_left_out = Vec::new();
    for record in &capacities {
        let nid = &record.capacity.national_id;
        let usage = capacity_use(nid, today, registry.iter().map(|r| r.history.as_slice()));
        let remaining = record.capacity.remaining(usage.total, usage.this_month);
        match directory.get(nid) {
            None => doctors_left_out.push((nid.clone(), "n'est plus dans l'annuaire")),
            Some(DoctorInfo { commune: None, name, .. }) => {
                doctors_left_out.push((name.clone(), "aucune commune d'exercice connue dans l'annuaire"))
            }
            Some(DoctorInfo { commune: Some(commune), .. }) => {
                available.push(AvailableDoctor { capacity: &record.capacity, commune: *commune, remaining })
            }
        }
    }
    let requests: Vec<_> = registry.iter().map(|r| (&r.request, &r.state)).collect();
    let (patients, doctors) = matching_input(&requests, &available, &settings.priority, today);
    let matching = match_patients(ctx.state.reference, &patients, &doctors, &settings.params()).map_err(|e| {
        Failure::invalid(
            "matching_refused",
            "L'appariement n'a pas pu être calculé : vérifiez les communes des demandes et des médecins.",
            e.to_string(),
        )
    })?;

    let records: BTreeMap<String, RequestRecord> = registry.into_iter().map(|r| (r.request.id.clone(), r)).collect();
    let commune = |code: &str| crate::pages::commune_name(ctx.state, code);
    let proposals = matching
        .assignments
        .iter()
        .map(|a| {
            let r = &records[&a.patient].request;
            let (doctor, plain) = directory
                .get(&a.doctor)
                .map_or_else(|| (a.doctor.clone(), a.doctor.clone()), |d| (d.name.clone(), d.plain_name.clone()));
            ProposalView {
                patient: r.display_name(),
                commune: commune(r.commune.as_str()),
                explanation: a.explain_fr(&plain),
                doctor,
                assignment: a.clone(),
            }
        })
        .collect();
    let waiting = matching
        .waiting
        .iter()
        .map(|w| {
            let r = &records[&w.patient].request;
            WaitingView {
                patient: r.display_name(),
                commune: commune(r.commune.as_str()),
                explanation: w.explain_fr(matching.max_m),
                waiting: w.clone(),
            }
        })
        .collect();

    let mut hash = Sha256::new();
    for p in &patients {
        hash.update(format!("{}:{};", p.id, records[&p.id].revision));
    }
    for a in &matching.assignments {
        hash.update(format!("{}>{};", a.patient, a.doctor));
    }
    let fingerprint = hash.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    Ok(Run {
        cpts,
        settings,
        doctors_with_room: doctors.len(),
        doctors_left_out,
        matching,
        proposals,
        waiting,
        fingerprint,
        records,
    })
}

/// The run as a preview: nothing is written but the audit of the names shown.
pub async fn preview(ctx: &Ctx<'_>, id: &str) -> Result<Run, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let run = compute(ctx, cpts).await?;
    let detail = format!(
        "aperçu d'appariement : {} proposition(s), {} patient(s) laissé(s) en attente",
        run.proposals.len(),
        run.waiting.len()
    );
    ctx.audit(Some(&run.cpts.id), "read", "patient_registry", run.cpts.id.as_str(), detail).await?;
    Ok(run)
}

/// Sends the proposals of the run previewed as `fingerprint`: 409 if the registry or the
/// capacities changed since (the preview must be looked at again), all or nothing.
pub async fn send(ctx: &Ctx<'_>, id: &str, fingerprint: &str) -> Result<Run, Failure> {
    let cpts = open_registry(ctx, id).await?;
    let run = compute(ctx, cpts).await?;
    if run.fingerprint != fingerprint.trim() {
        return Err(Failure::Conflict {
            fr: "Le registre ou les places des médecins ont changé depuis l'aperçu : rien n'a été envoyé. Vérifiez le \
                 nouvel aperçu avant d'envoyer les propositions."
                .into(),
            en: "the registry or the capacities changed since the preview".into(),
        });
    }
    if run.proposals.is_empty() {
        return Err(Failure::invalid(
            "nothing_to_send",
            "Cet appariement ne fait aucune proposition.",
            "the run makes no proposal",
        ));
    }
    let now = ctx.state.now();
    let by = format!("appariement ({})", ctx.principal.account.display_name);
    let mut changes = Vec::with_capacity(run.proposals.len());
    for p in &run.proposals {
        let record = &run.records[&p.assignment.patient];
        let event = RequestEvent::Propose { doctor: p.assignment.doctor.clone() };
        let (state, change) = record.state.apply(&event, now, &by).map_err(|e| {
            Failure::invalid("refused_transition", format!("{}.", crate::pages::capitalised(&e.fr)), e.en)
        })?;
        changes.push(RequestChange {
            request_id: record.request.id.clone(),
            expected_revision: record.revision,
            state,
            change,
        });
    }
    let detail = format!(
        "appariement envoyé : {} proposition(s) ({}), {:.1} km en tout",
        changes.len(),
        changes.iter().map(|c| c.request_id.as_str()).collect::<Vec<_>>().join(", "),
        run.matching.total_km()
    );
    let audit = ctx.event(Some(&run.cpts.id), "update", "patient_registry", run.cpts.id.as_str(), detail);
    ctx.state.store.apply_changes(&run.cpts.id, &changes, now, &audit).await.map_err(store_failure)?;
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// The GP's view

/// A request proposed to, or accepted by, the GP, with its priority.
pub struct OwnPatient {
    pub row: RequestRow,
    pub class: u8,
    pub because: String,
    pub revision: i64,
}

pub struct OwnPatients {
    pub cpts: Cpts,
    /// (national id, name); `None` when the caller's account is not linked to a GP profile.
    pub doctor: Option<(String, String)>,
    pub proposed: Vec<OwnPatient>,
    pub accepted: Vec<OwnPatient>,
}

/// The most patients a GP's list shows per status.
const OWN_LIST_LIMIT: u32 = 200;

/// The GP's own lists (empty for an account not linked to a GP profile). Each patient shown
/// is audited.
pub async fn own_patients(ctx: &Ctx<'_>, id: &str) -> Result<OwnPatients, Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    let Some(doctor) = own_doctor(ctx, &cpts).await? else {
        return Ok(OwnPatients { cpts, doctor: None, proposed: Vec::new(), accepted: Vec::new() });
    };
    let store = &ctx.state.store;
    let settings = current_settings(ctx, &cpts).await?;
    let today = ctx.state.now().date_naive();
    let mut lists = Vec::with_capacity(2);
    for status in [RequestStatus::Proposed, RequestStatus::Accepted] {
        let query = RequestQuery {
            status: Some(status),
            doctor: Some(doctor.0.clone()),
            limit: OWN_LIST_LIMIT,
            ..Default::default()
        };
        let (rows, _) = store.search_requests(&cpts.id, &query).await?;
        let mut list = Vec::with_capacity(rows.len());
        for row in rows {
            let revision = store.request(&cpts.id, &row.request.id).await?.revision;
            let p = priority(&row.request, &settings.priority, today);
            ctx.audit(
                Some(&cpts.id),
                "read",
                "patient_request",
                &row.request.id,
                format!("{} au médecin {}", status.fr(), doctor.0),
            )
            .await?;
            list.push(OwnPatient { class: p.class, because: p.because_fr(), row, revision });
        }
        lists.push(list);
    }
    let accepted = lists.pop().unwrap_or_default();
    let proposed = lists.pop().unwrap_or_default();
    Ok(OwnPatients { cpts, doctor: Some(doctor), proposed, accepted })
}

/// The GP's answer to a proposal (`accepte`, `refuse` with an optional reason) or the
/// declaration of an accepted patient (`declare`). A request not proposed to or accepted by
/// her is "not found".
pub async fn answer(
    ctx: &Ctx<'_>,
    id: &str,
    request_id: &str,
    answer: &str,
    reason: &str,
    revision_text: &str,
) -> Result<RequestStatus, Failure> {
    let cpts = load_cpts(ctx, id, Need::PersonalData).await?;
    let (nid, _) = own_doctor(ctx, &cpts).await?.ok_or(Failure::Forbidden)?;
    let expected = revision(revision_text)?;
    let event = match answer.trim() {
        "accepte" => RequestEvent::DoctorAccepts,
        "refuse" => RequestEvent::DoctorDeclines { reason: Some(reason.trim().to_owned()).filter(|r| !r.is_empty()) },
        "declare" => RequestEvent::Declare,
        other => {
            return Err(Failure::invalid("unknown_answer", "Réponse inconnue.", format!("unknown answer {other:?}")));
        }
    };
    let record = match ctx.state.store.request(&cpts.id, request_id).await {
        Ok(r) if r.state.doctor.as_deref() == Some(nid.as_str()) => r,
        Ok(_) | Err(maillage_store::StoreError::NotFound) => return Err(Failure::NotFound),
        Err(e) => return Err(e.into()),
    };
    record_event(ctx, &cpts, &record, expected, &event, &format!(" par le médecin {nid}")).await
}

// ---------------------------------------------------------------------------------------------
// Indicators

/// The registry's indicators today, classes by the CPTS's current rule. Aggregates only: no
/// person is shown, so the read is not a patient-data access.
pub async fn indicators(ctx: &Ctx<'_>, id: &str) -> Result<(Cpts, RegistrySettings, RegistryIndicators), Failure> {
    let cpts = open_registry(ctx, id).await?;
    let settings = current_settings(ctx, &cpts).await?;
    let registry = ctx.state.store.registry(&cpts.id).await?;
    let today = ctx.state.now().date_naive();
    let rows: Vec<_> = registry
        .iter()
        .map(|r| (&r.request, r.history.as_slice(), priority(&r.request, &settings.priority, today).class))
        .collect();
    let indicators = RegistryIndicators::compute(&rows, today);
    Ok((cpts, settings, indicators))
}
