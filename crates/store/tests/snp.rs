//! The same-day care story, and concurrent bookings of one slot, run on SQLite always and on
//! PostgreSQL when `MAILLAGE_TEST_POSTGRES_URL` is set (required under CI).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use maillage_core::ids::InseeCode;
use maillage_core::snp::booking::{Outcome, ReasonCategory, ReferrerKind};
use maillage_core::snp::requests::{Closure, Destination, RequestStatus};
use maillage_core::snp::{
    Audience, AudienceSet, Availability, OneOffSlot, Place, ProfessionalId, SlotId, WeeklyRange, expand,
};
use maillage_store::{
    AuditEvent, AuditStore, CptsId, CptsStore, NewBooking, NewCpts, NewRequest, RequestRef, SnpStore, Store,
    StoreError, connect,
};

/// Monday 16 November 2026, Paris winter time (UTC+1).
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, h, m, 0).unwrap()
}

fn event(cpts: &CptsId, action: &str, object_id: &str) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: uuid::Uuid::new_v4().to_string(),
        at: at(7, 0),
        account_id: None,
        account_label: "Claire Dupont".into(),
        role: "coordinator".into(),
        action: action.into(),
        object_type: "snp_booking".into(),
        object_id: object_id.into(),
        request_id: "req".into(),
        detail: String::new(),
    }
}

const PRO: ProfessionalId = ProfessionalId(42);

fn snp() -> AudienceSet {
    AudienceSet::of(&[Audience::Snp])
}

/// Mondays 09:00–12:00 in 30-minute slots for one patient; on the 16th a home visit at 14:00
/// for three patients.
fn publication(professional: ProfessionalId) -> Availability {
    Availability {
        professional,
        weekly: vec![WeeklyRange {
            weekday: Weekday::Mon,
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            slot_minutes: 30,
            capacity: 1,
            place: Place::Cabinet,
            audiences: snp(),
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: None,
        }],
        one_off: vec![OneOffSlot {
            start: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap().and_hms_opt(14, 0, 0).unwrap(),
            minutes: 20,
            place: Place::Domicile,
            audiences: snp(),
            capacity: 3,
        }],
        closures: vec![],
        cancellations: vec![],
    }
}

fn slot(local: &str, place: char) -> SlotId {
    format!("p{}-20261116T{local}-{place}", PRO.0).parse().unwrap()
}

fn booking(id: &str, slot: SlotId) -> NewBooking {
    NewBooking {
        id: id.into(),
        request: RequestRef::New(format!("r-{id}")),
        profession: Some("10".into()),
        slot,
        reason: ReasonCategory::Fievre,
        commune: InseeCode::parse("41018").unwrap(),
        phone: Some("0612345678".into()),
        email: None,
        referrer: ReferrerKind::Regulation,
        note: Some("Fièvre depuis hier".into()),
        created_at: at(7, 30),
        created_by: "Claire Dupont".into(),
    }
}

async fn two_cpts(store: &Store, name: &str) -> (CptsId, CptsId) {
    let codes = vec![InseeCode::parse("41018").unwrap()];
    let new = |n: String| NewCpts { name: n, communes: codes.clone() };
    let a = store.create_cpts(&new(format!("CPTS {name}")), at(6, 0)).await.unwrap();
    let b = store.create_cpts(&new(format!("CPTS {name} autre")), at(6, 0)).await.unwrap();
    (a.id, b.id)
}

async fn snp_story(store: &Store) {
    let (id, other) = two_cpts(store, "SNP").await;
    let audited = || async { store.audit_count(Some(&id)).await.unwrap() };
    let before = audited().await;

    // Publication: created once, read back whole, replaced at its revision only.
    let mut published = publication(PRO);
    assert!(store.availability(&id, PRO).await.unwrap().is_none());
    assert_eq!(store.put_availability(&id, &published, None, at(6, 0), &event(&id, "create", "p42")).await.unwrap(), 1);
    assert!(matches!(
        store.put_availability(&id, &published, None, at(6, 0), &event(&id, "create", "p42")).await,
        Err(StoreError::Conflict(_))
    ));
    published.closures.push(maillage_core::snp::Closure {
        from: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        reason: "Congés « fin d'année »".into(),
    });
    assert_eq!(
        store.put_availability(&id, &published, Some(1), at(6, 5), &event(&id, "update", "p42")).await.unwrap(),
        2
    );
    let err = store.put_availability(&id, &published, Some(1), at(6, 6), &event(&id, "update", "p42")).await;
    assert!(matches!(err, Err(StoreError::Stale { expected: 1, found: 2 })), "{err:?}");
    assert!(matches!(
        store
            .put_availability(&id, &publication(ProfessionalId(7)), Some(1), at(6, 6), &event(&id, "update", "p7"))
            .await,
        Err(StoreError::NotFound)
    ));
    let stored = store.availability(&id, PRO).await.unwrap().unwrap();
    assert_eq!((&stored.availability, stored.revision, stored.updated_at), (&published, 2, at(6, 5)));
    assert_eq!(store.availabilities(&id).await.unwrap(), vec![stored]);
    assert!(store.availability(&other, PRO).await.unwrap().is_none(), "per CPTS");
    assert!(store.availabilities(&other).await.unwrap().is_empty());
    assert_eq!(audited().await, before + 2, "only successful writes are audited");

    // Booking: instants and place from the publication; the place is taken.
    let nine = slot("0900", 'C');
    let b1 = store.book(&id, &booking("b1", nine), &event(&id, "create", "b1")).await.unwrap();
    assert_eq!((b1.start, b1.end, b1.place), (at(8, 0), at(8, 30), Place::Cabinet));
    assert_eq!(store.booking(&id, "b1").await.unwrap(), b1);
    let full = store.book(&id, &booking("b2", nine), &event(&id, "create", "b2")).await;
    assert!(matches!(&full, Err(StoreError::Conflict(m)) if m == "slot full"), "{full:?}");
    assert!(matches!(
        store.book(&id, &booking("b1", slot("0930", 'C')), &event(&id, "create", "b1")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.slot_loads(&id, at(0, 0), at(23, 0)).await.unwrap(), vec![(nine, 1)], "refused: nothing kept");
    // Slots that the publication does not have: wrong place, wrong time, another CPTS.
    for unknown in [slot("0900", 'D'), slot("0915", 'C'), slot("1200", 'C')] {
        assert!(matches!(
            store.book(&id, &booking("x", unknown), &event(&id, "create", "x")).await,
            Err(StoreError::NotFound)
        ));
    }
    assert!(matches!(
        store.book(&other, &booking("x", slot("1000", 'C')), &event(&other, "create", "x")).await,
        Err(StoreError::NotFound)
    ));
    let b3 = store.book(&id, &booking("b3", slot("1400", 'D')), &event(&id, "create", "b3")).await.unwrap();
    let b4 = store.book(&id, &booking("b4", slot("1000", 'C')), &event(&id, "create", "b4")).await.unwrap();
    assert_eq!(audited().await, before + 5);

    // Listings by start; a window is [from, to).
    let ids = |v: Vec<maillage_store::Booking>| v.into_iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(ids(store.bookings(&id, at(0, 0), at(23, 0)).await.unwrap()), ["b1", "b4", "b3"]);
    assert_eq!(ids(store.bookings(&id, at(8, 0), at(9, 0)).await.unwrap()), ["b1"]);
    assert_eq!(ids(store.bookings_of(&id, PRO, at(8, 30), at(23, 0)).await.unwrap()), ["b4", "b3"]);
    assert!(store.bookings_of(&id, ProfessionalId(7), at(0, 0), at(23, 0)).await.unwrap().is_empty());
    assert_eq!(store.slot_loads(&id, at(0, 0), at(23, 0)).await.unwrap(), vec![(nine, 1), (b4.slot, 1), (b3.slot, 1)]);

    // Tenants apart: the other CPTS neither sees nor changes these bookings.
    assert!(matches!(store.booking(&other, "b1").await, Err(StoreError::NotFound)));
    assert!(store.bookings(&other, at(0, 0), at(23, 0)).await.unwrap().is_empty());
    assert!(store.slot_loads(&other, at(0, 0), at(23, 0)).await.unwrap().is_empty());
    assert!(matches!(
        store.cancel_booking(&other, "b1", at(7, 40), &event(&other, "cancel", "b1")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.record_outcome(&other, "b1", &Outcome::Vu, at(9, 0), &event(&other, "update", "b1")).await,
        Err(StoreError::NotFound)
    ));

    // Cancelling frees the place, once; the slot is bookable again.
    store.cancel_booking(&id, "b1", at(7, 40), &event(&id, "cancel", "b1")).await.unwrap();
    assert!(matches!(
        store.cancel_booking(&id, "b1", at(7, 41), &event(&id, "cancel", "b1")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.booking(&id, "b1").await.unwrap().cancelled_at, Some(at(7, 40)));
    assert_eq!(store.slot_loads(&id, at(0, 0), at(23, 0)).await.unwrap(), vec![(b4.slot, 1), (b3.slot, 1)]);
    let b5 = store.book(&id, &booking("b5", nine), &event(&id, "create", "b5")).await.unwrap();
    assert_eq!(b5.slot, nine);
    assert!(matches!(
        store.record_outcome(&id, "b1", &Outcome::Vu, at(9, 0), &event(&id, "update", "b1")).await,
        Err(StoreError::Conflict(_))
    ));

    // Outcomes: recorded, corrected; a booking with one is no longer cancellable.
    store.record_outcome(&id, "b5", &Outcome::Absent, at(9, 0), &event(&id, "update", "b5")).await.unwrap();
    let autre = Outcome::Autre { note: "Adressé au cabinet voisin".into() };
    store.record_outcome(&id, "b5", &autre, at(9, 5), &event(&id, "update", "b5")).await.unwrap();
    assert_eq!(store.booking(&id, "b5").await.unwrap().outcome, Some((autre, at(9, 5))));
    assert!(matches!(
        store.cancel_booking(&id, "b5", at(9, 10), &event(&id, "cancel", "b5")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.booking(&id, "b3").await.unwrap(), b3, "others untouched");
    assert_eq!(audited().await, before + 9);
    assert_eq!(store.audit_count(Some(&other)).await.unwrap(), 0);
}

/// `n` operators book the same slot at once on clones of the store (several pooled
/// connections): exactly `capacity` succeed, the others are told it is full.
async fn book_at_once(store: &Store, cpts: &CptsId, slot: SlotId, n: usize) -> (usize, usize) {
    let round = uuid::Uuid::new_v4().simple();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (store, cpts) = (store.clone(), cpts.clone());
            tokio::spawn(async move {
                let id = format!("{round}-{i}");
                store.book(&cpts, &booking(&id, slot), &event(&cpts, "create", &id)).await
            })
        })
        .collect();
    let (mut ok, mut full) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict(m)) if m == "slot full" => full += 1,
            Err(e) => panic!("only \"slot full\" may refuse a booking, got {e:?}"),
        }
    }
    (ok, full)
}

async fn no_double_booking(store: &Store) {
    let (id, _) = two_cpts(store, "Concurrence").await;
    store.put_availability(&id, &publication(PRO), None, at(6, 0), &event(&id, "create", "p42")).await.unwrap();
    let before = store.audit_count(Some(&id)).await.unwrap();
    let slots = expand(&publication(PRO), at(0, 0), at(23, 0)).unwrap();
    let single = slots.iter().find(|s| s.capacity == 1).unwrap().id;
    let triple = slots.iter().find(|s| s.capacity == 3).unwrap().id;

    assert_eq!(book_at_once(store, &id, single, 100).await, (1, 99));
    assert_eq!(book_at_once(store, &id, triple, 100).await, (3, 97));
    let loads = store.slot_loads(&id, at(0, 0), at(23, 0)).await.unwrap();
    assert_eq!(loads, vec![(single, 1), (triple, 3)]);
    assert_eq!(store.bookings(&id, at(0, 0), at(23, 0)).await.unwrap().len(), 4);
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), before + 4, "refused bookings leave no audit line");

    // Cancellations and bookings racing on a full slot: never beyond the capacity.
    let booked = store.bookings_of(&id, PRO, triple.start().unwrap(), triple.start().unwrap() + Duration::minutes(1));
    let first = booked.await.unwrap().remove(0);
    store.cancel_booking(&id, &first.id, at(7, 50), &event(&id, "cancel", &first.id)).await.unwrap();
    assert_eq!(book_at_once(store, &id, triple, 20).await, (1, 19));
    assert!(store.slot_loads(&id, at(0, 0), at(23, 0)).await.unwrap().contains(&(triple, 3)));
}

fn request(id: &str, closure: Option<Closure>) -> NewRequest {
    NewRequest {
        id: id.into(),
        received_at: at(7, 10),
        reason: ReasonCategory::DouleurAigue,
        commune: InseeCode::parse("41018").unwrap(),
        phone: Some("0600000000".into()),
        email: None,
        referrer: ReferrerKind::Pharmacie,
        note: None,
        created_by: "Claire Dupont".into(),
        closure,
    }
}

/// Requests: recorded with a booking or alone, oriented later, closed, reopened by a
/// cancellation; the FINESS and the feed tokens.
async fn requests_story(store: &Store) {
    let (id, other) = two_cpts(store, "Demandes").await;
    store.put_availability(&id, &publication(PRO), None, at(6, 0), &event(&id, "create", "p42")).await.unwrap();
    let before = store.audit_count(Some(&id)).await.unwrap();

    // Booked at once: the request is recorded with the booking, oriented.
    let b1 = store.book(&id, &booking("b1", slot("0900", 'C')), &event(&id, "create", "b1")).await.unwrap();
    assert_eq!(b1.request.as_deref(), Some("r-b1"));
    let r1 = store.request(&id, "r-b1").await.unwrap();
    assert_eq!(r1.status, RequestStatus::Orientee);
    assert_eq!(
        (r1.booking.as_deref(), r1.appointment, r1.profession.as_deref()),
        (Some("b1"), Some(at(8, 0)), Some("10"))
    );
    assert_eq!(r1.received_at, at(7, 30));
    assert!(matches!(store.request(&other, "r-b1").await, Err(StoreError::NotFound)), "tenant");

    // Waiting, then booked; a second booking of the same request is refused.
    let waiting = store.record_request(&id, &request("r2", None), &event(&id, "create", "r2")).await.unwrap();
    assert_eq!(waiting.status, RequestStatus::EnAttente);
    assert_eq!(
        store.waiting_requests(&id, 10).await.unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r2"]
    );
    let mut b2 = booking("b2", slot("0930", 'C'));
    b2.request = RequestRef::Waiting("r2".into());
    store.book(&id, &b2, &event(&id, "create", "b2")).await.unwrap();
    let mut again = booking("b2bis", slot("1000", 'C'));
    again.request = RequestRef::Waiting("r2".into());
    assert!(matches!(store.book(&id, &again, &event(&id, "create", "b2bis")).await, Err(StoreError::Conflict(_))));
    assert!(
        store.slot_loads(&id, at(0, 0), at(23, 0)).await.unwrap().iter().all(|(s, _)| *s != slot("1000", 'C')),
        "the refused booking took no place"
    );
    again.request = RequestRef::Waiting("nope".into());
    assert!(matches!(store.book(&id, &again, &event(&id, "create", "b2bis")).await, Err(StoreError::NotFound)));
    assert!(store.waiting_requests(&id, 10).await.unwrap().is_empty());

    // Cancelling the booking puts the request back in the queue; closing it ends it.
    store.cancel_booking(&id, "b2", at(7, 40), &event(&id, "cancel", "b2")).await.unwrap();
    let r2 = store.request(&id, "r2").await.unwrap();
    assert_eq!((r2.status, r2.booking, r2.appointment), (RequestStatus::EnAttente, None, None));
    let closed = store
        .close_request(&id, "r2", &Closure::Reorientee(Destination::Urgences), at(7, 45), &event(&id, "update", "r2"))
        .await
        .unwrap();
    assert_eq!(
        (closed.status, closed.destination, closed.closed_at),
        (RequestStatus::Reorientee, Some(Destination::Urgences), Some(at(7, 45)))
    );
    assert!(matches!(
        store.close_request(&id, "r2", &Closure::Abandonnee, at(7, 50), &event(&id, "update", "r2")).await,
        Err(StoreError::Conflict(_))
    ));
    // Recorded closed at once.
    let r3 = store
        .record_request(&id, &request("r3", Some(Closure::Abandonnee)), &event(&id, "create", "r3"))
        .await
        .unwrap();
    assert_eq!((r3.status, r3.closed_at), (RequestStatus::Abandonnee, Some(at(7, 10))));
    assert!(matches!(
        store.record_request(&id, &request("r3", None), &event(&id, "create", "r3")).await,
        Err(StoreError::Conflict(_))
    ));

    // The outcome of the booking comes with its request.
    store.record_outcome(&id, "b1", &Outcome::Vu, at(9, 0), &event(&id, "update", "b1")).await.unwrap();
    let all = store.requests(&id, at(0, 0), at(23, 0)).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r2", "r3", "r-b1"]);
    assert_eq!(all[2].outcome, Some(Outcome::Vu));
    assert!(all[2].facts().within_24h());
    assert!(store.requests(&other, at(0, 0), at(23, 0)).await.unwrap().is_empty());
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), before + 7, "every write audited, refusals not");

    // FINESS.
    let finess = maillage_core::ids::Finess::parse("410000012").unwrap();
    let cpts = store.set_finess(&id, Some(&finess), at(8, 0), &event(&id, "update", "finess")).await.unwrap();
    assert_eq!(cpts.finess, Some(finess));
    assert_eq!(store.get_cpts(&id).await.unwrap().finess, Some(finess));
    assert_eq!(store.get_cpts(&other).await.unwrap().finess, None);
    let cleared = store.set_finess(&id, None, at(8, 1), &event(&id, "update", "finess")).await.unwrap();
    assert_eq!(cleared.finess, None);

    // Feed tokens: one per professional, a new one replaces the old.
    assert_eq!(store.feed_token_created(&id, PRO).await.unwrap(), None);
    store.put_feed_token(&id, PRO, "aa", at(8, 0), &event(&id, "create", "feed")).await.unwrap();
    assert_eq!(store.feed_token_owner("aa").await.unwrap(), Some((id.clone(), PRO)));
    store.put_feed_token(&id, PRO, "bb", at(8, 5), &event(&id, "create", "feed")).await.unwrap();
    assert_eq!(store.feed_token_owner("aa").await.unwrap(), None);
    assert_eq!(store.feed_token_created(&id, PRO).await.unwrap(), Some(at(8, 5)));
    assert!(matches!(
        store.put_feed_token(&other, PRO, "bb", at(8, 6), &event(&other, "create", "feed")).await,
        Err(StoreError::Conflict(_))
    ));
    store.revoke_feed_token(&id, PRO, &event(&id, "delete", "feed")).await.unwrap();
    assert_eq!(store.feed_token_owner("bb").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_snp() {
    let dir = std::env::temp_dir().join(format!("maillage-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = connect(&format!("sqlite:{}", dir.join("test.sqlite").display())).await.unwrap();
    snp_story(&store).await;
    requests_story(&store).await;
    no_double_booking(&store).await;
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_snp() {
    let admin_url = match std::env::var("MAILLAGE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => panic!("CI must set MAILLAGE_TEST_POSTGRES_URL (scripts/test does)"),
        _ => return eprintln!("MAILLAGE_TEST_POSTGRES_URL not set: PostgreSQL story skipped"),
    };
    let db = format!("maillage_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&admin).await.unwrap();
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
    let store = connect(&format!("{base}/{db}")).await.unwrap();
    snp_story(&store).await;
    requests_story(&store).await;
    no_double_booking(&store).await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await.unwrap();
}
