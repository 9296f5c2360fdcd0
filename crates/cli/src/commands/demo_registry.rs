//! The demo's registry of patients without a médecin traitant: fictitious people on the
//! Blaisois communes, registered over the past year from every source, some already through
//! the whole path (proposed, accepted, declared), a few closed, most waiting; the two demo GPs
//! with declared capacities; and a run already sent, so that the first GP has proposals to
//! answer in her own view. Deterministic: the same people at every start.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use maillage_core::access::CptsId;
use maillage_core::ids::InseeCode;
use maillage_core::patients::{
    CapacityKind, DoctorCapacity, PatientRequest, RequestEvent, RequestSource, RequestState,
};
use maillage_store::{AuditEvent, PatientStore, RequestChange, Store};

const FAMILY: [&str; 16] = [
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "Gauthier",
];
const GIVEN: [&str; 12] = [
    "Monique", "Gérard", "Yvette", "Bernard", "Sophie", "Karim", "Lucie", "Jacques", "Aïcha", "René", "Manon", "Louis",
];
/// How many people the demo registry holds.
const PEOPLE: usize = 36;

fn audit(cpts: &CptsId, now: DateTime<Utc>, object_id: &str, detail: &str) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: format!("{:032x}", rand::random::<u128>()),
        at: now,
        account_id: None,
        account_label: "maillage demo".into(),
        role: "system".into(),
        action: "update".into(),
        object_type: "patient_request".into(),
        object_id: object_id.into(),
        request_id: "demo".into(),
        detail: detail.into(),
    }
}

/// Person `i` of the demo registry, registered `days_ago` days before `now`.
fn person(i: usize, communes: &[&str], now: DateTime<Utc>) -> Result<PatientRequest, Box<dyn std::error::Error>> {
    let days_ago = 360 - (i as i64 * 359 / PEOPLE as i64);
    let registered_at = now - Duration::days(days_ago) - Duration::hours((i % 7) as i64);
    let birth_year = [1938, 1946, 1952, 1961, 1970, 1979, 1985, 1992, 2001][i % 9];
    let sources = RequestSource::ALL;
    Ok(PatientRequest {
        id: format!("p-demo{i:010}"),
        family_name: FAMILY[i % FAMILY.len()].into(),
        given_name: GIVEN[(i * 5) % GIVEN.len()].into(),
        birth_date: NaiveDate::from_ymd_opt(birth_year, (i % 12) as u32 + 1, (i % 27) as u32 + 1)
            .ok_or("demo birth date")?,
        commune: InseeCode::parse(communes[(i * 7) % communes.len()])?,
        phone: Some(format!("06{:08}", 10_000_000 + i * 1_234_567 % 89_999_999)),
        email: i.is_multiple_of(3).then(|| format!("patient{i}@exemple.fr")),
        ald: i % 4 == 1,
        precarity_c2s: i % 6 == 2,
        other_fragility: (i % 11 == 5).then(|| "vit seul·e, mobilité réduite".to_owned()),
        note: (i % 9 == 4).then(|| "Préfère être appelé·e le matin.".to_owned()),
        consent_at: registered_at,
        source: sources[i % sources.len()],
        registered_at,
        referred_by: (i % 5 == 3).then(|| "Pharmacie du Château".to_owned()),
    })
}

/// Seeds the registry of `cpts` unless it has requests already. `gps`: the national ids of the
/// demo's GPs (the first gets the pending proposals).
pub async fn seed(
    store: &Store,
    cpts: &CptsId,
    communes: &[&str],
    gps: &[String],
    now: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    if !store.registry(cpts).await?.is_empty() || gps.is_empty() {
        return Ok(());
    }
    for (n, nid) in gps.iter().enumerate() {
        let capacity = DoctorCapacity {
            national_id: nid.clone(),
            kind: if n == 0 { CapacityKind::PerMonth(4) } else { CapacityKind::Total(12) },
            max_km: (n == 1).then_some(15.0),
            accepted_communes: None,
            note: (n == 0).then(|| "Consultations sans rendez-vous le samedi matin.".to_owned()),
        };
        store.put_capacity(cpts, &capacity, now, &audit(cpts, now, nid, "capacité (démo)")).await?;
    }
    for i in 0..PEOPLE {
        let request = person(i, communes, now)?;
        let id = request.id.clone();
        store.register_request(cpts, &request, &audit(cpts, now, &id, "inscription (démo)")).await?;
        // The oldest third went through the path; a few are closed; three recent ones are
        // proposed to the first GP and wait for her answer.
        let doctor = &gps[i % gps.len()];
        let day = |d: i64| request.registered_at + Duration::days(d);
        let events: Vec<(RequestEvent, DateTime<Utc>)> = match i {
            _ if i < PEOPLE / 3 && i % 5 != 4 => vec![
                (RequestEvent::Propose { doctor: doctor.clone() }, day(20 + i as i64)),
                (RequestEvent::DoctorAccepts, day(23 + i as i64)),
                (RequestEvent::Declare, day(40 + i as i64)),
            ],
            _ if i < PEOPLE / 3 => {
                vec![(RequestEvent::Withdraw { reason: Some("a trouvé un médecin".into()) }, day(30))]
            }
            _ if i % 10 == 7 => vec![(RequestEvent::Unreachable { reason: None }, day(15))],
            _ if (PEOPLE - 6..PEOPLE - 3).contains(&i) => {
                vec![(RequestEvent::Propose { doctor: gps[0].clone() }, now - Duration::days(2))]
            }
            _ => Vec::new(),
        };
        let mut state = RequestState::new(request.registered_at);
        for (revision, (event, at)) in (1..).zip(events) {
            let at = at.min(now);
            let (next, change) = state.apply(&event, at, "appariement (démo)").map_err(|e| e.en.clone())?;
            let changes =
                [RequestChange { request_id: id.clone(), expected_revision: revision, state: next.clone(), change }];
            store.apply_changes(cpts, &changes, at, &audit(cpts, at, &id, event.code())).await?;
            state = next;
        }
    }
    Ok(())
}
