//! The national observatory story (registry and task forces), run on SQLite always and on
//! PostgreSQL when `MAILLAGE_TEST_POSTGRES_URL` is set (required under CI).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use maillage_core::access::Agency;
use maillage_core::ids::InseeCode;
use maillage_core::national::coverage::NationalIndex;
use maillage_core::national::registry::{RegisteredCpts, parse_registry};
use maillage_core::national::synth::{SynthParams, generate};
use maillage_core::national::taskforce::{Action, TaskForce, TaskForceStatus};
use maillage_core::refdata::Reference;
use maillage_store::{AuditEvent, AuditStore, NationalStore, Store, StoreError, StoredTaskForce, connect};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// National events belong to no CPTS.
fn event(action: &str, object_type: &str, object_id: &str) -> AuditEvent {
    AuditEvent {
        cpts_id: None,
        id: uuid::Uuid::new_v4().to_string(),
        at: at(20),
        account_id: None,
        account_label: "Observatoire national".into(),
        role: "platform_admin".into(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: object_id.into(),
        request_id: "req".into(),
        detail: String::new(),
    }
}

/// A synthetic registry on the real communes: FINESS, SIREN, histories of every length; more
/// CPTS than one batch of inserts holds.
fn synthetic() -> Vec<RegisteredCpts> {
    let index = NationalIndex::new(Reference::embedded());
    generate(&index, &SynthParams { cpts: 150, ..SynthParams::default() })
}

/// A different, hand-written registry (a name holding `;`, a CPTS without identifiers).
fn hand_written() -> Vec<RegisteredCpts> {
    let text = "id;nom;finess;siren;etat;depuis;communes;debut_projet;lettre_intention;projet_en_construction;projet_valide\n\
        cpts-blois;\"CPTS du Blaisois; Loir\";410008957;812345676;aci_signe;2021-06-15;41018|41295|41047;2019-03-01;;2020-01-10;2021-02-01\n\
        paris-centre;CPTS Paris Centre;;;projet_en_construction;2024-02-01;75101|75102|75103|75104;;2023-06-01;;\n";
    parse_registry(text, Reference::embedded()).unwrap()
}

fn task_force(key: &str, owner: Agency) -> TaskForce {
    TaskForce {
        zone_key: InseeCode::parse(key).unwrap(),
        owner,
        status: TaskForceStatus::AConstituer,
        actions: Vec::new(),
    }
}

fn keys(list: &[StoredTaskForce]) -> Vec<&str> {
    list.iter().map(|t| t.task_force.zone_key.as_str()).collect()
}

async fn national_story(store: &Store) {
    let audited = || async { store.audit_count(None).await.unwrap() };
    assert!(store.national_registry().await.unwrap().is_empty());
    assert_eq!(store.national_registry_revision().await.unwrap(), 0);

    // Replaced, then read back equal: order, identifiers, communes, histories.
    let first = synthetic();
    assert!(first.len() > 100 && first.iter().any(|c| c.finess.is_some()));
    store.replace_national_registry(&first, &event("import", "national_registry", "first")).await.unwrap();
    assert_eq!(store.national_registry().await.unwrap(), first);
    assert_eq!(audited().await, 1);

    // Replaced again by a different registry: the old rows are gone.
    let second = hand_written();
    store.replace_national_registry(&second, &event("import", "national_registry", "second")).await.unwrap();
    assert_eq!(store.national_registry().await.unwrap(), second);
    assert_eq!(audited().await, 2);
    assert_eq!(store.national_registry_revision().await.unwrap(), 2, "bumped by each replacement");

    // An id listed twice: refused after the old rows were deleted, so rolled back: the previous
    // registry stays whole, and the audit event is not written.
    let mut twice = first.clone();
    twice.push(first[3].clone());
    let err = store.replace_national_registry(&twice, &event("import", "national_registry", "twice")).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(store.national_registry().await.unwrap(), second);
    assert_eq!(audited().await, 2);
    assert_eq!(store.national_registry_revision().await.unwrap(), 2, "not bumped by a refused one");

    // Task forces: created at revision 1, once per zone.
    let blois = task_force("41018", Agency::Ars);
    let created = store.put_task_force(&blois, "24", None, at(1), &event("create", "task_force", "41018")).await;
    assert_eq!(created.unwrap(), 1);
    let again = store.put_task_force(&blois, "24", None, at(1), &event("create", "task_force", "41018")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let stored = store.task_force("41018").await.unwrap();
    assert_eq!(
        stored,
        StoredTaskForce { task_force: blois.clone(), region: "24".into(), revision: 1, updated_at: at(1) }
    );
    assert_eq!(audited().await, 3);

    // Replaced whole (owner, status, actions) from the revision read; a second write from the
    // same read is stale and changes nothing.
    let mut working = blois.clone();
    working.owner = Agency::Cpam;
    working.status = TaskForceStatus::EnCours;
    working.actions = vec![
        Action { on: d("2026-09-01"), text: "Réunion ARS, CPAM et URPS".into(), next_step: None, next_on: None },
        Action {
            on: d("2026-10-02"),
            text: "Proposition d'extension à la CPTS du Blaisois".into(),
            next_step: Some("Réponse du bureau".into()),
            next_on: Some(d("2026-12-01")),
        },
    ];
    let revision = store.put_task_force(&working, "24", Some(1), at(2), &event("update", "task_force", "41018")).await;
    assert_eq!(revision.unwrap(), 2);
    let stale = store.put_task_force(&blois, "24", Some(1), at(3), &event("update", "task_force", "41018")).await;
    assert!(matches!(stale, Err(StoreError::Stale { expected: 1, found: 2 })), "{stale:?}");
    let stored = store.task_force("41018").await.unwrap();
    assert_eq!((&stored.task_force, stored.revision, stored.updated_at), (&working, 2, at(2)));
    assert_eq!(audited().await, 4);

    // Fewer actions on the next write: the dropped ones are gone.
    let mut proposed = working.clone();
    proposed.status = TaskForceStatus::PropositionFaite;
    proposed.actions.truncate(1);
    let revision = store.put_task_force(&proposed, "24", Some(2), at(4), &event("update", "task_force", "41018")).await;
    assert_eq!(revision.unwrap(), 3);
    assert_eq!(store.task_force("41018").await.unwrap().task_force, proposed);

    // Missing zones: NotFound on read and on a guarded write.
    assert!(matches!(store.task_force("45001").await, Err(StoreError::NotFound)));
    let ghost = task_force("45001", Agency::Ars);
    let err = store.put_task_force(&ghost, "24", Some(1), at(4), &event("update", "task_force", "45001")).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    assert_eq!(audited().await, 5);

    // Listed by zone key, all or one région's, with their actions.
    let paris = task_force("75101", Agency::Ars);
    store.put_task_force(&paris, "11", None, at(5), &event("create", "task_force", "75101")).await.unwrap();
    let orleans = task_force("45234", Agency::Cpam);
    store.put_task_force(&orleans, "24", None, at(5), &event("create", "task_force", "45234")).await.unwrap();
    let all = store.task_forces(None).await.unwrap();
    assert_eq!(keys(&all), ["41018", "45234", "75101"]);
    assert_eq!(all[0], store.task_force("41018").await.unwrap());
    let centre = store.task_forces(Some("24")).await.unwrap();
    assert_eq!(keys(&centre), ["41018", "45234"]);
    assert_eq!((&centre[0].task_force, &centre[1].task_force), (&proposed, &orleans));
    assert_eq!(keys(&store.task_forces(Some("11")).await.unwrap()), ["75101"]);
    assert!(store.task_forces(Some("84")).await.unwrap().is_empty());
    assert_eq!(audited().await, 7);

    // A new registry leaves the task forces alone; an empty one empties the registry.
    store.replace_national_registry(&first, &event("import", "national_registry", "third")).await.unwrap();
    store.replace_national_registry(&[], &event("import", "national_registry", "empty")).await.unwrap();
    assert!(store.national_registry().await.unwrap().is_empty());
    assert_eq!(store.task_forces(None).await.unwrap(), all);
    assert_eq!(audited().await, 9);
}

#[tokio::test]
async fn sqlite_national() {
    let dir = std::env::temp_dir().join(format!("maillage-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = connect(&format!("sqlite:{}", dir.join("test.sqlite").display())).await.unwrap();
    national_story(&store).await;
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_national() {
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
    national_story(&store).await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await.unwrap();
}
