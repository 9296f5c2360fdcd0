//! The demo's same-day care (soins non programmés): the Blaisois CPTS's FINESS, what its member
//! professionals with an RPPS publish, six weeks of the orientation desk's requests (booked,
//! sent elsewhere, given up, a few waiting) with what became of the patients, and upcoming
//! bookings for the first GP so that her agenda and feed are not empty. Deterministic for a
//! given `now`: one RNG seeded with a constant, every time relative to `now` in Paris time.
//! Everything goes through the store, which checks each booking against the publication and
//! its capacity as it would for the desk.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, NaiveTime, Timelike, Utc, Weekday};
use maillage_core::access::CptsId;
use maillage_core::directory::model::NationalId;
use maillage_core::directory::synth::SplitMix64;
use maillage_core::ids::{Finess, InseeCode};
use maillage_core::snp::booking::{Outcome, ReasonCategory as R, ReferrerKind};
use maillage_core::snp::requests::{Closure, Destination};
use maillage_core::snp::{
    Audience, AudienceSet, Availability, Closure as DaysOff, OneOffSlot, Place, ProfessionalId, Slot, SlotId,
    WeeklyRange, expand, paris,
};
use maillage_store::{AuditEvent, CptsStore, DirectoryStore, NewBooking, NewRequest, RequestRef, SnpStore, Store};
use std::collections::HashMap;

type DemoResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A fictitious FINESS in Loir-et-Cher (41) with a valid Luhn key.
const FINESS: &str = "410000012";
/// Who recorded the desk's requests: the Blaisois coordinator, as the web names an account.
const DESK: &str = "Claire Coordination <coordination@blaisois.demo.maillage.test>";
/// Days of past activity, for the indicators' weeks.
const HISTORY_DAYS: i64 = 42;

/// A weekly range: weekday, start, end (Paris), slot minutes, patients per slot, place.
type Range = (Weekday, &'static str, &'static str, u16, u8, Place);
use Place::{Cabinet as C, Domicile as D, Teleconsultation as T};
use Weekday::{Fri, Mon, Sat, Thu, Tue, Wed};

/// The first GP (the one linked to `adherent01`): three half-days and a teleconsultation evening.
const GP_FIRST: &[Range] = &[
    (Mon, "08:30", "12:00", 30, 1, C),
    (Wed, "14:00", "17:30", 30, 1, C),
    (Fri, "08:30", "12:00", 30, 1, C),
    (Thu, "18:00", "19:30", 30, 1, T),
];
/// The other GP covers the remaining half-days, so every weekday has a GP.
const GP_OTHER: &[Range] =
    &[(Tue, "14:00", "17:30", 30, 1, C), (Thu, "08:30", "12:00", 30, 1, C), (Fri, "14:00", "17:30", 30, 1, C)];
/// The nurse's home rounds take two patients an hour, Saturday morning too (a Friday evening
/// call still finds something within 24 hours).
const NURSE: &[Range] = &[
    (Mon, "11:00", "13:00", 60, 2, D),
    (Tue, "11:00", "13:00", 60, 2, D),
    (Wed, "11:00", "13:00", 60, 2, D),
    (Thu, "11:00", "13:00", 60, 2, D),
    (Fri, "11:00", "13:00", 60, 2, D),
    (Sat, "08:00", "10:00", 60, 2, D),
];
/// Pharmacists now treat cystitis and sore throats after a rapid test.
const PHARMACIST: &[Range] = &[(Tue, "10:00", "12:00", 20, 1, C), (Thu, "10:00", "12:00", 20, 1, C)];
const PHYSIO: &[Range] = &[(Mon, "17:00", "19:00", 30, 1, C), (Wed, "17:30", "19:00", 30, 1, C)];
const MIDWIFE: &[Range] = &[(Tue, "09:00", "11:00", 30, 1, C)];
const DENTIST: &[Range] = &[(Wed, "08:00", "09:00", 30, 1, C), (Fri, "08:00", "09:00", 30, 1, C)];
const PODIATRIST: &[Range] = &[(Thu, "14:00", "16:00", 30, 1, C)];

/// What a professional publishes, by profession code; the other professions of the demo
/// (speech therapy, psychology…) take no same-day care.
fn plan(profession: &str, first_gp: bool) -> &'static [Range] {
    match profession {
        "10" if first_gp => GP_FIRST,
        "10" => GP_OTHER,
        "60" => NURSE,
        "21" => PHARMACIST,
        "70" => PHYSIO,
        "50" => MIDWIFE,
        "40" => DENTIST,
        "80" => PODIATRIST,
        _ => &[],
    }
}

/// A reason that fits who was booked (GP-like reasons when nobody was).
fn reason(profession: Option<&str>, rng: &mut SplitMix64) -> R {
    match profession {
        Some("60") => R::SoinsInfirmiers,
        Some("21") => *rng.pick(&[R::InfectionUrinaire, R::InfectionRespiratoire]),
        Some("70") => *rng.pick(&[R::DouleurAigue, R::TraumatismeBenin]),
        Some("40") => R::DouleurAigue,
        Some("50") | Some("80") => *rng.pick(&[R::Autre, R::ProblemeCutane]),
        _ => *rng.pick(&[
            R::Fievre,
            R::Fievre,
            R::InfectionRespiratoire,
            R::InfectionRespiratoire,
            R::DouleurAigue,
            R::TraumatismeBenin,
            R::InfectionUrinaire,
            R::ProblemeCutane,
            R::TroublesDigestifs,
            R::RenouvellementTraitement,
            R::Autre,
        ]),
    }
}

fn audit(
    cpts: &CptsId,
    at: DateTime<Utc>,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: &str,
) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: format!("{:032x}", rand::random::<u128>()),
        at,
        account_id: None,
        account_label: "maillage demo".into(),
        role: "system".into(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: object_id.into(),
        request_id: "demo".into(),
        detail: detail.into(),
    }
}

fn utc(local: NaiveDateTime) -> DemoResult<DateTime<Utc>> {
    Ok(paris::to_utc(local)?.earliest().ok_or("demo time in the March gap")?)
}

/// A request as the desk takes it: the patient's commune, a phone, who sent them.
struct Caller {
    commune: InseeCode,
    phone: Option<String>,
    referrer: ReferrerKind,
}

fn caller(communes: &[InseeCode], rng: &mut SplitMix64) -> Caller {
    use ReferrerKind::*;
    Caller {
        commune: *rng.pick(communes),
        phone: Some(format!("06{:08}", rng.below(100_000_000))),
        referrer: *rng.pick(&[
            Patient,
            Patient,
            Patient,
            Patient,
            Patient,
            Regulation,
            Regulation,
            Pharmacie,
            Professionnel,
            Etablissement,
        ]),
    }
}

fn booking(id: &str, slot: &Slot, profession: &str, reason: R, who: Caller, at: DateTime<Utc>) -> NewBooking {
    NewBooking {
        id: format!("b-{id}"),
        request: RequestRef::New(format!("r-{id}")),
        profession: Some(profession.into()),
        slot: slot.id,
        reason,
        commune: who.commune,
        phone: who.phone,
        email: None,
        referrer: who.referrer,
        note: None,
        created_at: at,
        created_by: DESK.into(),
    }
}

/// Seeds `cpts`'s same-day care unless it publishes something already; then makes sure the
/// first GP has bookings ahead (a demo restarted days later still shows her agenda).
/// `member_accounts`: the demo's member accounts, `adherent01` first.
pub async fn seed(store: &Store, cpts: &CptsId, member_accounts: &[String], now: DateTime<Utc>) -> DemoResult<()> {
    let found = store.get_cpts(cpts).await?;
    if found.finess.is_none() {
        let finess = Finess::parse(FINESS)?;
        let event = audit(cpts, now, "update", "cpts", cpts.as_str(), &format!("FINESS {FINESS}"));
        store.set_finess(cpts, Some(&finess), now, &event).await?;
    }
    // Member professionals with an RPPS (only they publish), with their profession.
    let mut publishers = Vec::new();
    for account in member_accounts {
        let Some(nid) = store.professional_of_account(cpts, account).await? else { continue };
        let Ok(NationalId::Rpps(rpps)) = NationalId::parse(&nid) else { continue };
        let profession = store.directory_entry(cpts, &nid).await?.professional.profession_code;
        publishers.push((ProfessionalId(rpps.as_str().parse()?), profession));
    }
    let Some(&(first_gp, _)) = publishers.iter().find(|(_, code)| code == "10") else { return Ok(()) };
    if store.availabilities(cpts).await?.is_empty() {
        let publications = publish(store, cpts, &publishers, first_gp, now).await?;
        history(store, cpts, &found.communes, &publications, now).await?;
    }
    upcoming(store, cpts, first_gp, &found.communes, now).await
}

/// Publications valid from eight weeks ago; the first GP adds next Saturday morning, the other
/// GP takes a week of holiday in a fortnight. Returns them with their profession.
async fn publish(
    store: &Store,
    cpts: &CptsId,
    publishers: &[(ProfessionalId, String)],
    first_gp: ProfessionalId,
    now: DateTime<Utc>,
) -> DemoResult<Vec<(Availability, String)>> {
    let local_now = paris::to_local(now)?;
    let today = local_now.date();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let mut out = Vec::new();
    let mut other_gp_closed = false;
    for (id, profession) in publishers {
        let ranges = plan(profession, *id == first_gp);
        if ranges.is_empty() {
            continue;
        }
        let mut availability = Availability {
            professional: *id,
            weekly: Vec::new(),
            one_off: Vec::new(),
            closures: Vec::new(),
            cancellations: Vec::new(),
        };
        for &(weekday, start, end, slot_minutes, capacity, place) in ranges {
            let audiences = match place {
                T => AudienceSet::of(&[Audience::Public, Audience::Snp, Audience::Cpts]),
                _ => AudienceSet::of(&[Audience::Pro, Audience::Snp, Audience::Cpts]),
            };
            availability.weekly.push(WeeklyRange {
                weekday,
                start: NaiveTime::parse_from_str(start, "%H:%M")?,
                end: NaiveTime::parse_from_str(end, "%H:%M")?,
                slot_minutes,
                capacity,
                place,
                audiences,
                valid_from: today - Duration::days(56),
                valid_until: None,
            });
        }
        if *id == first_gp {
            // The next Saturday whose morning is still ahead.
            let saturday = (0..7)
                .map(|d| today + Duration::days(d))
                .find(|d| d.weekday() == Sat && (*d > today || local_now.hour() < 9))
                .unwrap_or(today + Duration::days(7));
            for minutes in [9 * 60, 9 * 60 + 30, 10 * 60, 10 * 60 + 30] {
                availability.one_off.push(OneOffSlot {
                    start: saturday.and_time(NaiveTime::MIN) + Duration::minutes(minutes),
                    minutes: 30,
                    place: C,
                    audiences: AudienceSet::of(&[Audience::Snp, Audience::Cpts]),
                    capacity: 1,
                });
            }
        } else if profession == "10" && !other_gp_closed {
            let from = monday + Duration::days(14);
            availability.closures.push(DaysOff { from, to: from + Duration::days(6), reason: "Congés".into() });
            other_gp_closed = true;
        }
        availability.validate().map_err(|e| format!("demo availability: {e:?}"))?;
        let detail = format!("{} plage(s) hebdomadaire(s) (démo)", availability.weekly.len());
        let event = audit(cpts, now, "create", "snp_availability", &format!("8{:011}", id.0), &detail);
        store.put_availability(cpts, &availability, None, now, &event).await?;
        out.push((availability, profession.clone()));
    }
    Ok(out)
}

/// Six weeks of the desk's calls, in slots the publications really had and within their
/// capacity: most booked, some sent elsewhere or given up, outcomes recorded for past slots
/// (a few no-shows, one sent on to the emergency department, two cancellations); and three
/// calls of the last two hours still waiting for a call back.
async fn history(
    store: &Store,
    cpts: &CptsId,
    communes: &[InseeCode],
    publications: &[(Availability, String)],
    now: DateTime<Utc>,
) -> DemoResult<()> {
    let mut rng = SplitMix64::new(41_018);
    let today = paris::to_local(now)?.date();
    let mut slots: Vec<(Slot, &str)> = Vec::new();
    for (availability, profession) in publications {
        let period = expand(availability, now - Duration::days(HISTORY_DAYS + 1), now + Duration::days(3))?;
        slots.extend(period.into_iter().map(|s| (s, profession.as_str())));
    }
    slots.sort_by_key(|(s, _)| (s.start, s.id.professional.0));
    let mut taken: HashMap<SlotId, u8> = HashMap::new();
    let (mut n, mut cancelled, mut emergency) = (0, 0, false);
    for day in (today - Duration::days(HISTORY_DAYS)).iter_days().take_while(|d| *d <= today) {
        // The desk answers 8–19 h on weekdays, on Saturday mornings.
        let (calls, open_minutes) = match day.weekday() {
            Sat => (rng.below(3), 4 * 60),
            Weekday::Sun => (0, 0),
            _ => (3 + rng.below(3), 11 * 60),
        };
        for _ in 0..calls {
            let minute = 8 * 60 + rng.below(open_minutes) as i64;
            let received = utc(day.and_time(NaiveTime::MIN) + Duration::minutes(minute))?;
            if received > now - Duration::hours(2) {
                continue;
            }
            n += 1;
            let id = format!("demo{n:05}");
            let who = caller(communes, &mut rng);
            let roll = rng.below(100);
            // Most take one of the first free slots from an hour on; some choose (or only find)
            // one of the next days, which counts against "within 24 hours".
            let (earliest, latest) = if rng.chance(150) { (24, 72) } else { (1, 30) };
            let (earliest, latest) = (received + Duration::hours(earliest), received + Duration::hours(latest));
            let free: Vec<&(Slot, &str)> = slots
                .iter()
                .filter(|(s, _)| s.start >= earliest && s.start <= latest)
                .filter(|(s, _)| taken.get(&s.id).copied().unwrap_or(0) < s.capacity)
                .collect();
            let gps: Vec<&(Slot, &str)> = free.iter().filter(|(_, p)| *p == "10").copied().collect();
            let pool = if rng.chance(650) && !gps.is_empty() { gps } else { free };
            use Destination::*;
            let closure = match roll {
                0..12 => Some(Closure::Reorientee(*rng.pick(&[
                    Urgences,
                    Pharmacie,
                    Pharmacie,
                    Conseil,
                    Conseil,
                    MedecinTraitant,
                    Regulation,
                ]))),
                12..17 => Some(Closure::Abandonnee),
                // Nothing free: the permanence des soins takes the patient.
                _ if pool.is_empty() => Some(Closure::Reorientee(Garde)),
                _ => None,
            };
            if let Some(closure) = closure {
                let new = NewRequest {
                    id: format!("r-{id}"),
                    received_at: received,
                    reason: reason(None, &mut rng),
                    commune: who.commune,
                    phone: who.phone,
                    email: None,
                    referrer: who.referrer,
                    note: None,
                    created_by: DESK.into(),
                    closure: Some(closure),
                };
                store
                    .record_request(cpts, &new, &audit(cpts, received, "create", "snp_request", &new.id, "démo"))
                    .await?;
                continue;
            }
            let &(slot, profession) = pool[rng.below(pool.len().min(3) as u64) as usize];
            let new = booking(&id, &slot, profession, reason(Some(profession), &mut rng), who, received);
            let detail = format!("réservation du créneau {} (démo)", slot.id);
            store.book(cpts, &new, &audit(cpts, received, "create", "snp_booking", &new.id, &detail)).await?;
            *taken.entry(slot.id).or_default() += 1;
            // Outcomes are recorded after the consultation: the last hours' are still to do.
            if slot.end + Duration::hours(1) > now {
                continue;
            }
            if cancelled < 2 && rng.chance(40) {
                cancelled += 1;
                let at = received + Duration::minutes(30);
                store
                    .cancel_booking(cpts, &new.id, at, &audit(cpts, at, "update", "snp_booking", &new.id, "annulée"))
                    .await?;
                *taken.entry(slot.id).or_default() -= 1;
                // Cancelling makes the request wait again; the patient saw her own doctor, or gave up.
                let closure = if cancelled == 1 { Closure::Reorientee(MedecinTraitant) } else { Closure::Abandonnee };
                let request = format!("r-{id}");
                store
                    .close_request(
                        cpts,
                        &request,
                        &closure,
                        at,
                        &audit(cpts, at, "update", "snp_request", &request, "démo"),
                    )
                    .await?;
                continue;
            }
            let outcome = if !emergency && profession == "10" && received > now - Duration::days(21) && rng.chance(60) {
                emergency = true;
                Outcome::ReorienteUrgences
            } else if rng.chance(70) {
                Outcome::Absent
            } else {
                Outcome::Vu
            };
            let at = slot.end + Duration::minutes(20);
            store
                .record_outcome(
                    cpts,
                    &new.id,
                    &outcome,
                    at,
                    &audit(cpts, at, "update", "snp_booking", &new.id, outcome.fr()),
                )
                .await?;
        }
    }
    for (i, minutes) in [25, 55, 100].into_iter().enumerate() {
        let received = now - Duration::minutes(minutes);
        let who = caller(communes, &mut rng);
        let new = NewRequest {
            id: format!("r-demo-attente{i}"),
            received_at: received,
            reason: reason(None, &mut rng),
            commune: who.commune,
            phone: who.phone,
            email: None,
            referrer: who.referrer,
            note: (i == 0).then(|| "Préfère être rappelée sur son portable.".to_owned()),
            created_by: DESK.into(),
            closure: None,
        };
        store.record_request(cpts, &new, &audit(cpts, received, "create", "snp_request", &new.id, "démo")).await?;
    }
    Ok(())
}

/// Books the first GP's next free slots (from 30 minutes on, within three days) until she has
/// two or three bookings ahead. Ids carry `now`, so a restart adds new ones.
async fn upcoming(
    store: &Store,
    cpts: &CptsId,
    gp: ProfessionalId,
    communes: &[InseeCode],
    now: DateTime<Utc>,
) -> DemoResult<()> {
    let horizon = now + Duration::hours(72);
    let ahead = store.bookings_of(cpts, gp, now, horizon).await?.iter().filter(|b| b.cancelled_at.is_none()).count();
    let Some(stored) = store.availability(cpts, gp).await? else { return Ok(()) };
    if ahead >= 2 {
        return Ok(());
    }
    let loads: HashMap<SlotId, u32> = store.slot_loads(cpts, now, horizon).await?.into_iter().collect();
    let free = expand(&stored.availability, now + Duration::minutes(30), horizon)?
        .into_iter()
        .filter(|s| loads.get(&s.id).copied().unwrap_or(0) < u32::from(s.capacity));
    let mut rng = SplitMix64::new(41_000);
    for (i, slot) in free.take(3 - ahead).enumerate() {
        let received = now - Duration::minutes(10 + 25 * i as i64);
        let id = format!("demo-{}-{i}", now.timestamp());
        let new = booking(&id, &slot, "10", reason(Some("10"), &mut rng), caller(communes, &mut rng), received);
        let detail = format!("réservation du créneau {} (démo)", slot.id);
        store.book(cpts, &new, &audit(cpts, received, "create", "snp_booking", &new.id, &detail)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_core::snp::requests::{RequestStatus, indicators, paris_day};
    use maillage_store::AccountStore;

    /// The whole demo seeded on a Friday at 17:45 in Paris (the first GP's next slots are on
    /// Saturday's one-off and on Monday), then seeded again at the same instant.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_demo_shows_same_day_care() {
        let dir = std::env::temp_dir().join(format!("maillage-demo-snp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = maillage_store::connect(&format!("sqlite:{}", dir.join("demo.sqlite").display())).await.unwrap();
        let now = utc(NaiveDateTime::parse_from_str("2026-11-20 17:45", "%Y-%m-%d %H:%M").unwrap()).unwrap();
        super::super::demo::seed(&store, now).await.unwrap();
        let summary = store.list_cpts().await.unwrap().into_iter().find(|c| c.name == "CPTS du Blaisois").unwrap();
        let cpts = store.get_cpts(&summary.id).await.unwrap();
        assert_eq!(cpts.finess.map(|f| f.to_string()).as_deref(), Some(FINESS));
        let publications = store.availabilities(&cpts.id).await.unwrap();
        assert!(publications.len() >= 8, "{} publications", publications.len());

        let requests = store.requests(&cpts.id, now - Duration::days(28), now).await.unwrap();
        assert!(requests.len() > 40, "{} requests in 4 weeks", requests.len());
        for status in RequestStatus::ALL {
            assert!(requests.iter().any(|r| r.status == *status), "no request {status:?}");
        }
        let facts: Vec<_> = requests.iter().map(|r| r.facts()).collect();
        let figures = indicators(paris_day(now - Duration::days(27)), paris_day(now), &facts);
        let share = figures.within_24h_share.unwrap();
        println!(
            "4 weeks: {} received, {} booked, {} sent elsewhere, {} given up, {} waiting; {share:.0} % within 24 h, \
             median {:?} min; outcomes {:?}",
            figures.received,
            figures.booked,
            figures.reoriented,
            figures.abandoned,
            figures.waiting,
            figures.median_delay_minutes,
            figures.outcomes
        );
        assert!((40.0..=95.0).contains(&share), "within 24 h: {share:.1} % of {}", figures.received);
        let outcomes = figures.outcomes;
        assert!(outcomes.seen > 0 && outcomes.no_show > 0 && outcomes.emergency == 1, "{figures:#?}");
        assert!(figures.by_destination.len() >= 3, "{:?}", figures.by_destination);

        // The GP linked to adherent01 has bookings ahead.
        let account = store.account_credentials("adherent01@blaisois.demo.maillage.test").await.unwrap().unwrap();
        let nid = store.professional_of_account(&cpts.id, &account.account.id).await.unwrap().unwrap();
        let gp = ProfessionalId(nid[1..].parse().unwrap());
        let ahead = store.bookings_of(&cpts.id, gp, now, now + Duration::hours(72)).await.unwrap();
        let live = ahead.iter().filter(|b| b.cancelled_at.is_none()).count();
        assert!((2..=3).contains(&live), "{live} bookings ahead");

        // Every hour the desk is open next week, a slot is free within 24 hours.
        let monday = utc(paris_day(now).and_hms_opt(0, 0, 0).unwrap() + Duration::days(3)).unwrap();
        let week: Vec<Slot> = {
            let loads: HashMap<SlotId, u32> =
                store.slot_loads(&cpts.id, monday, monday + Duration::days(6)).await.unwrap().into_iter().collect();
            let mut all = Vec::new();
            for p in &publications {
                let slots = expand(&p.availability, monday, monday + Duration::days(6)).unwrap();
                all.extend(
                    slots.into_iter().filter(|s| loads.get(&s.id).copied().unwrap_or(0) < u32::from(s.capacity)),
                );
            }
            all
        };
        for day in 0..5 {
            for hour in 8..=19 {
                let t = monday + Duration::days(day) + Duration::hours(hour);
                assert!(
                    week.iter().any(|s| s.start >= t && s.start <= t + Duration::hours(24)),
                    "nothing free after {t}"
                );
            }
        }

        // Seeding again adds nothing.
        super::super::demo::seed(&store, now).await.unwrap();
        assert_eq!(store.requests(&cpts.id, now - Duration::days(28), now).await.unwrap().len(), requests.len());
        std::fs::remove_dir_all(&dir).ok();
    }
}
