//! The demo's national plan: the synthetic national registry (about 800 CPTS on the real
//! communes, `maillage_core::national::synth`, deterministic), and in Centre-Val de Loire the
//! task force of its most populous zone blanche, opened by the ARS with a first action, so that
//! the regional account has something to follow.

use chrono::{DateTime, Duration, Utc};
use maillage_core::access::Agency;
use maillage_core::national::{Action, NationalIndex, SynthParams, TaskForce, TaskForceStatus, generate};
use maillage_core::refdata::Reference;
use maillage_store::{AuditEvent, NationalStore, Store};

/// The région of the demo's regional accounts.
pub const REGION: &str = "24";

fn audit(now: DateTime<Utc>, object_type: &str, detail: &str) -> AuditEvent {
    AuditEvent {
        cpts_id: None,
        id: format!("{:032x}", rand::random::<u128>()),
        at: now,
        account_id: None,
        account_label: "maillage demo".into(),
        role: "system".into(),
        action: "update".into(),
        object_type: object_type.into(),
        object_id: String::new(),
        request_id: "demo".into(),
        detail: detail.into(),
    }
}

/// Seeds the national registry unless one was imported already.
pub async fn seed(store: &Store, now: DateTime<Utc>) -> Result<(), Box<dyn std::error::Error>> {
    if !store.national_registry().await?.is_empty() {
        return Ok(());
    }
    let reference = Reference::embedded();
    let index = NationalIndex::new(reference);
    let registry = generate(&index, &SynthParams { until: now.date_naive(), ..SynthParams::default() });
    let detail = format!("registre national synthétique : {} CPTS", registry.len());
    store.replace_national_registry(&registry, &audit(now, "national_registry", &detail)).await?;

    let rules = maillage_core::aci::rules::in_force_on(now.date_naive())?.ok_or("no ACI rule set in force")?;
    let coverage = index.coverage(&registry, now.date_naive(), &rules.size_thresholds);
    let in_region = |d: &String| reference.departement(d).is_some_and(|d| d.region == REGION);
    if let Some(zone) = coverage.zones.iter().find(|z| z.departements.iter().any(in_region)) {
        let mut tf = TaskForce::open(zone, Agency::Ars);
        tf.status = TaskForceStatus::EnCours;
        tf.actions.push(Action {
            on: now.date_naive() - Duration::days(21),
            text: "Réunion avec les professionnels de la zone et les deux CPTS voisines.".into(),
            next_step: Some("Proposer l'extension de la CPTS voisine la plus proche".into()),
            next_on: Some(now.date_naive() + Duration::days(30)),
        });
        let detail = format!("groupe de travail {} (démo)", tf.zone_key);
        store.put_task_force(&tf, REGION, None, now, &audit(now, "task_force", &detail)).await?;
    }
    Ok(())
}
