//! The registry story, run on SQLite always and on PostgreSQL when `MAILLAGE_TEST_POSTGRES_URL`
//! is set (required under CI).

use chrono::{DateTime, TimeZone, Utc};
use maillage_core::directory::model::{NationalId, Professional};
use maillage_core::ids::InseeCode;
use maillage_core::patients::{
    CapacityForm, RegistrySettings, RequestEvent, RequestForm, RequestSource, RequestState, RequestStatus, SettingsForm,
};
use maillage_store::{
    AnnuaireImport, AuditEvent, AuditStore, CptsId, CptsStore, DirectoryStore, NewCpts, PatientStore, RequestChange,
    RequestQuery, Store, StoreError, connect,
};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap()
}

fn event(cpts: &CptsId, action: &str, object_id: &str) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: uuid::Uuid::new_v4().to_string(),
        at: at(20),
        account_id: None,
        account_label: "Claire Dupont".into(),
        role: "coordinator".into(),
        action: action.into(),
        object_type: "patient_request".into(),
        object_id: object_id.into(),
        request_id: "req".into(),
        detail: String::new(),
    }
}

fn request(id: &str, family: &str, birth: &str, ald: bool, day: u32) -> maillage_core::patients::PatientRequest {
    RequestForm {
        family_name: family.into(),
        given_name: "Jeanne".into(),
        birth_date: birth.into(),
        commune: "41018".into(),
        phone: "06 12 34 56 78".into(),
        ald: if ald { "on".into() } else { String::new() },
        consent: "on".into(),
        ..Default::default()
    }
    .parse(id, at(day), RequestSource::Pharmacy)
    .unwrap()
}

const GP: &str = "810001234567";

fn gp() -> Professional {
    Professional {
        national_id: NationalId::parse(GP).unwrap(),
        civility: Some("DR".into()),
        family_name: "Martin".into(),
        given_name: "Élise".into(),
        profession_code: "10".into(),
        profession_label: Some("Médecin".into()),
        specialties: vec![],
        places: vec![],
    }
}

async fn registry_story(store: &Store) {
    let codes = vec![InseeCode::parse("41018").unwrap()];
    let cpts =
        store.create_cpts(&NewCpts { name: "CPTS Registre".into(), communes: codes.clone() }, at(1)).await.unwrap();
    let other = store.create_cpts(&NewCpts { name: "CPTS Autre".into(), communes: codes }, at(1)).await.unwrap();
    let id = cpts.id.clone();
    let audited = || async { store.audit_count(Some(&id)).await.unwrap() };
    let list: &'static [Professional] = Box::leak(vec![gp()].into_boxed_slice());
    let import = AnnuaireImport {
        id: "i1".into(),
        source: "annuaire",
        file_name: "x.txt".into(),
        lines_read: 1,
        professionals: list,
        departement_counts: None,
    };
    store.apply_import(&id, &import, at(1), &event(&id, "import", "annuaire")).await.unwrap();
    let before = audited().await;

    // Registered, read back whole, waiting at revision 1; ids are unique; tenants apart.
    let jeanne = request("r1", "Durand", "1950-03-04", true, 2);
    let paul = request("r2", "Petit", "1990-07-01", false, 3);
    store.register_request(&id, &jeanne, &event(&id, "create", "r1")).await.unwrap();
    store.register_request(&id, &paul, &event(&id, "create", "r2")).await.unwrap();
    assert!(matches!(
        store.register_request(&id, &jeanne, &event(&id, "create", "r1")).await,
        Err(StoreError::Conflict(_))
    ));
    let record = store.request(&id, "r1").await.unwrap();
    assert_eq!(record.request, jeanne);
    assert_eq!(record.state, RequestState::new(jeanne.registered_at));
    assert_eq!(record.revision, 1);
    assert!(record.history.is_empty());
    assert!(matches!(store.request(&other.id, "r1").await, Err(StoreError::NotFound)));
    assert_eq!(audited().await, before + 2);

    // Search: oldest first, by name without accents, by status.
    let (rows, total) = store.search_requests(&id, &RequestQuery { limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!((rows.iter().map(|r| r.request.id.as_str()).collect::<Vec<_>>(), total), (vec!["r1", "r2"], 2));
    let q = RequestQuery { text: Some("DURÁND jean".into()), limit: 50, ..Default::default() };
    assert_eq!(store.search_requests(&id, &q).await.unwrap().1, 1);

    // Proposed to the GP, accepted: history kept, revision guarded.
    let (state, change) = record.state.apply(&RequestEvent::Propose { doctor: GP.into() }, at(4), "matching").unwrap();
    let propose = RequestChange { request_id: "r1".into(), expected_revision: 1, state, change };
    store.apply_changes(&id, std::slice::from_ref(&propose), at(4), &event(&id, "update", "r1")).await.unwrap();
    let err = store.apply_changes(&id, &[propose], at(4), &event(&id, "update", "r1")).await;
    assert!(matches!(err, Err(StoreError::Stale { expected: 1, found: 2 })), "{err:?}");
    let record = store.request(&id, "r1").await.unwrap();
    assert_eq!(
        (record.state.status, record.state.doctor.as_deref(), record.revision),
        (RequestStatus::Proposed, Some(GP), 2)
    );
    let q = RequestQuery { doctor: Some(GP.into()), limit: 50, ..Default::default() };
    assert_eq!(store.search_requests(&id, &q).await.unwrap().0[0].status, RequestStatus::Proposed);

    // Two changes at once: all or none (the second one is stale, so the first is not kept).
    let (declines, change) =
        record.state.apply(&RequestEvent::DoctorDeclines { reason: Some("complet".into()) }, at(5), "gp").unwrap();
    let decline = RequestChange { request_id: "r1".into(), expected_revision: 2, state: declines, change };
    let paul_state = RequestState::new(paul.registered_at);
    let (state, change) = paul_state.apply(&RequestEvent::Withdraw { reason: None }, at(5), "claire").unwrap();
    let stale_paul = RequestChange { request_id: "r2".into(), expected_revision: 7, state, change };
    let before_batch = audited().await;
    assert!(store.apply_changes(&id, &[decline.clone(), stale_paul], at(5), &event(&id, "update", "b")).await.is_err());
    assert_eq!(store.request(&id, "r1").await.unwrap(), record, "nothing written");
    assert_eq!(audited().await, before_batch);
    store.apply_changes(&id, &[decline], at(5), &event(&id, "update", "r1")).await.unwrap();
    let record = store.request(&id, "r1").await.unwrap();
    assert_eq!(record.state.status, RequestStatus::Waiting);
    assert!(record.state.excluded_doctors.contains(GP), "rebuilt from the history");
    assert_eq!(record.history.len(), 2);
    assert_eq!(record.history[1].reason.as_deref(), Some("complet"));

    // Editing what the person gave keeps the state; guarded by the revision too.
    let mut moved = jeanne.clone();
    moved.phone = Some("0254000000".into());
    store.update_request(&id, &moved, 3, at(6), &event(&id, "update", "r1")).await.unwrap();
    assert!(matches!(
        store.update_request(&id, &moved, 3, at(6), &event(&id, "update", "r1")).await,
        Err(StoreError::Stale { .. })
    ));
    let record = store.request(&id, "r1").await.unwrap();
    assert_eq!((record.request.phone.as_deref(), record.state.status), (Some("0254000000"), RequestStatus::Waiting));
    assert_eq!(store.registry(&id).await.unwrap().len(), 2);

    // Capacities: only for professionals of the directory; replaced; deleted.
    let form = CapacityForm {
        national_id: GP.into(),
        kind: "per_month".into(),
        count: "4".into(),
        max_km: "12,5".into(),
        communes: "41018 41295".into(),
        ..Default::default()
    };
    let capacity = form.parse().unwrap();
    store.put_capacity(&id, &capacity, at(7), &event(&id, "update", GP)).await.unwrap();
    store.put_capacity(&id, &capacity, at(8), &event(&id, "update", GP)).await.unwrap();
    let listed = store.capacities(&id).await.unwrap();
    assert_eq!((listed.len(), &listed[0].capacity, listed[0].updated_at), (1, &capacity, at(8)));
    let stranger = CapacityForm { national_id: "810009999999".into(), ..form.clone() }.parse();
    if let Ok(stranger) = stranger {
        assert!(matches!(
            store.put_capacity(&id, &stranger, at(8), &event(&id, "update", "x")).await,
            Err(StoreError::NotFound)
        ));
    }
    assert!(store.capacities(&other.id).await.unwrap().is_empty());
    store.delete_capacity(&id, GP, &event(&id, "delete", GP)).await.unwrap();
    assert!(store.capacities(&id).await.unwrap().is_empty());

    // Counts by status, in one query.
    let counts = store.status_counts(&id).await.unwrap();
    assert_eq!(counts.values().sum::<u64>(), 2);
    assert!(store.status_counts(&other.id).await.unwrap().is_empty());

    // Settings: none until the CPTS changes the defaults; replaced as a whole; audited.
    assert!(store.registry_settings(&id).await.unwrap().is_none());
    let mut form = SettingsForm::of(&RegistrySettings::default());
    form.max_km = "12,5".into();
    form.hospital_discharge_class = "2".into();
    form.default_class = "3".into();
    let settings = form.parse().unwrap();
    let audits = store.audit_count(Some(&id)).await.unwrap();
    store.put_registry_settings(&id, &settings, at(9), &event(&id, "update", "settings")).await.unwrap();
    store.put_registry_settings(&id, &settings, at(9), &event(&id, "update", "settings")).await.unwrap();
    assert_eq!(store.registry_settings(&id).await.unwrap(), Some(settings));
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), audits + 2);
    assert!(store.registry_settings(&other.id).await.unwrap().is_none(), "per CPTS");

    // Erasure takes the history with it.
    store.erase_request(&id, "r1", &event(&id, "delete", "r1")).await.unwrap();
    assert!(matches!(store.request(&id, "r1").await, Err(StoreError::NotFound)));
    assert!(matches!(store.erase_request(&id, "r1", &event(&id, "delete", "r1")).await, Err(StoreError::NotFound)));
    assert_eq!(store.registry(&id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_registry() {
    let dir = std::env::temp_dir().join(format!("maillage-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = connect(&format!("sqlite:{}", dir.join("test.sqlite").display())).await.unwrap();
    registry_story(&store).await;
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_registry() {
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
    registry_story(&store).await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await.unwrap();
}
