//! The structures story, run on SQLite always and on PostgreSQL when
//! `MAILLAGE_TEST_POSTGRES_URL` is set (required under CI).

use chrono::{DateTime, TimeZone, Utc};
use maillage_core::directory::model::{
    Address, ExerciseMode, Membership, MembershipStatus, NationalId, PracticePlace, Professional, StructureKind,
    StructureRef,
};
use maillage_core::directory::structures::{ProfessionalLink, RelationKind, StructureForm, StructureRelation};
use maillage_core::ids::InseeCode;
use maillage_store::{
    AnnuaireImport, AuditEvent, AuditStore, CptsId, CptsStore, DirectoryStore, MemberRef, NewCpts, Store, StoreError,
    StructureStore, connect,
};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
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
        object_type: "structure".into(),
        object_id: object_id.into(),
        request_id: "req".into(),
        detail: String::new(),
    }
}

/// A professional practising at the structures with these technical ids.
fn professional(rpps: &str, family: &str, structures: &[&str]) -> Professional {
    Professional {
        national_id: NationalId::parse(&format!("8{rpps}")).unwrap(),
        civility: None,
        family_name: family.into(),
        given_name: "Anne".into(),
        profession_code: "60".into(),
        profession_label: Some("Infirmier".into()),
        specialties: vec![],
        places: structures
            .iter()
            .map(|tid| PracticePlace {
                key: (*tid).into(),
                structure: StructureRef {
                    technical_id: Some((*tid).into()),
                    siret: None,
                    finess: None,
                    name: Some(format!("Structure {tid}")),
                },
                address: Address {
                    commune_code: Some(InseeCode::parse("41018").unwrap()),
                    commune_label: Some("Blois".into()),
                    ..Default::default()
                },
                phone: None,
                email: None,
                exercise_mode: ExerciseMode::Liberal,
                role: None,
                sector: Some("SA08".into()),
            })
            .collect(),
    }
}

fn structure(
    id: &str,
    kind: &str,
    name: &str,
    technical_id: &str,
    finess: &str,
) -> maillage_core::directory::structures::Structure {
    StructureForm {
        kind: kind.into(),
        name: name.into(),
        technical_id: technical_id.into(),
        finess: finess.into(),
        commune_code: "41018".into(),
        ..Default::default()
    }
    .parse(id)
    .unwrap()
}

fn membership(joined: chrono::NaiveDate, dues: Option<chrono::NaiveDate>) -> Membership {
    Membership {
        joined_on: joined,
        left_on: None,
        status: MembershipStatus::Active,
        dues_paid_until: dues,
        profession_referent: false,
        board_role: None,
    }
}

async fn structures_story(store: &Store) {
    let cpts = store
        .create_cpts(
            &NewCpts { name: "CPTS Structures".into(), communes: vec![InseeCode::parse("41018").unwrap()] },
            at(1),
        )
        .await
        .unwrap();
    let other = store
        .create_cpts(
            &NewCpts { name: "CPTS Voisine".into(), communes: vec![InseeCode::parse("41018").unwrap()] },
            at(1),
        )
        .await
        .unwrap();
    let id = cpts.id.clone();
    let audited = || async { store.audit_count(Some(&id)).await.unwrap() };
    let list: &'static [Professional] = Box::leak(
        vec![
            professional("10001234567", "Martin", &["T1"]),
            professional("10009876543", "Caron", &["T1", "T2"]),
            professional("10005555555", "Dupuis", &[]),
        ]
        .into_boxed_slice(),
    );
    let import = AnnuaireImport {
        id: "i1".into(),
        source: "annuaire",
        file_name: "extract.txt".into(),
        lines_read: 3,
        professionals: list,
        departement_counts: None,
    };
    store.apply_import(&id, &import, at(2), &event(&id, "import", "annuaire")).await.unwrap();
    let before = audited().await;

    // Created, listed, with its professionals found through the extract.
    let msp = structure("s-msp", "msp", "MSP de Blois", "T1", "");
    let ehpad = structure("s-ehpad", "ehpad", "EHPAD Les Tilleuls", "", "410000087");
    store.create_structure(&id, &msp, at(3), &event(&id, "create", "s-msp")).await.unwrap();
    store.create_structure(&id, &ehpad, at(3), &event(&id, "create", "s-ehpad")).await.unwrap();
    let rows = store.list_structures(&id).await.unwrap();
    let summary: Vec<(&str, u32)> = rows.iter().map(|r| (r.structure.id.as_str(), r.professionals)).collect();
    assert_eq!(summary, [("s-ehpad", 0), ("s-msp", 2)], "by name, professionals per the extract");
    assert!(store.list_structures(&other.id).await.unwrap().is_empty(), "tenants are apart");
    assert!(matches!(store.structure_entry(&other.id, "s-msp").await, Err(StoreError::NotFound)));

    // One structure per identifier in a CPTS; nothing written by a refused write.
    let twin = structure("s-twin", "esp", "Autre", "T1", "");
    let err = store.create_structure(&id, &twin, at(3), &event(&id, "create", "s-twin")).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    store.create_structure(&other.id, &twin, at(3), &event(&other.id, "create", "s-twin")).await.unwrap();
    assert_eq!(audited().await, before + 2);

    // Links by hand, with a role, and an update.
    let link = ProfessionalLink {
        structure_id: "s-ehpad".into(),
        national_id: "810001234567".into(),
        role: Some("Médecin coordonnateur".into()),
    };
    store.link_professional(&id, &link, at(4), &event(&id, "link", "s-ehpad")).await.unwrap();
    let unknown = ProfessionalLink { national_id: "810000000000".into(), ..link.clone() };
    assert!(matches!(
        store.link_professional(&id, &unknown, at(4), &event(&id, "link", "s-ehpad")).await,
        Err(StoreError::NotFound)
    ));
    let manual_on_msp =
        ProfessionalLink { structure_id: "s-msp".into(), national_id: "810005555555".into(), role: None };
    store.link_professional(&id, &manual_on_msp, at(4), &event(&id, "link", "s-msp")).await.unwrap();
    let entry = store.structure_entry(&id, "s-msp").await.unwrap();
    let people: Vec<(&str, bool, bool)> =
        entry.professionals.iter().map(|p| (p.family_name.as_str(), p.practises_there, p.manual.is_some())).collect();
    assert_eq!(people, [("Caron", true, false), ("Dupuis", false, true), ("Martin", true, false)]);
    assert_eq!((entry.created_at, entry.updated_at), (at(3), at(3)));

    // Relations, seen from both ends; a structure cannot be linked to itself.
    let rel = StructureRelation {
        from: "s-ehpad".into(),
        to: "s-msp".into(),
        kind: RelationKind::Convention,
        note: Some("Visites du samedi".into()),
    };
    store.add_relation(&id, &rel, &event(&id, "link", "s-ehpad")).await.unwrap();
    assert!(matches!(
        store.add_relation(&id, &rel, &event(&id, "link", "s-ehpad")).await,
        Err(StoreError::Conflict(_))
    ));
    let itself = StructureRelation { to: "s-ehpad".into(), ..rel.clone() };
    assert!(store.add_relation(&id, &itself, &event(&id, "link", "s-ehpad")).await.is_err());
    let seen = store.structure_entry(&id, "s-msp").await.unwrap().relations;
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].outgoing);
    assert_eq!((seen[0].other_name.as_str(), &seen[0].relation), ("EHPAD Les Tilleuls", &rel));
    assert!(store.structure_entry(&id, "s-ehpad").await.unwrap().relations[0].outgoing);

    // Update: the new technical id changes who practises there.
    let moved = structure("s-msp", "msp", "MSP de Blois (site Nord)", "T2", "");
    store.update_structure(&id, &moved, at(5), &event(&id, "update", "s-msp")).await.unwrap();
    let entry = store.structure_entry(&id, "s-msp").await.unwrap();
    assert_eq!(entry.structure, moved);
    assert_eq!(entry.updated_at, at(5));
    let people: Vec<&str> = entry.professionals.iter().map(|p| p.family_name.as_str()).collect();
    assert_eq!(people, ["Caron", "Dupuis"]);
    let ghost = structure("s-ghost", "msp", "Ghost", "", "");
    assert!(matches!(
        store.update_structure(&id, &ghost, at(5), &event(&id, "update", "s-ghost")).await,
        Err(StoreError::NotFound)
    ));

    // Membership of structures and professionals; the roll lists both by name.
    store
        .put_structure_membership(
            &id,
            "s-ehpad",
            &membership(day(2025, 1, 1), Some(day(2025, 12, 31))),
            at(6),
            &event(&id, "update", "s-ehpad"),
        )
        .await
        .unwrap();
    store
        .put_membership(&id, "810009876543", &membership(day(2024, 3, 1), None), at(6), &event(&id, "update", "p"))
        .await
        .unwrap();
    let roll = store.member_roll(&id).await.unwrap();
    let names: Vec<(&str, &MemberRef)> = roll.iter().map(|r| (r.name.as_str(), &r.member)).collect();
    assert_eq!(
        names,
        [
            ("Caron Anne", &MemberRef::Professional("810009876543".into())),
            ("EHPAD Les Tilleuls", &MemberRef::Structure("s-ehpad".into())),
        ]
    );
    assert_eq!(roll[1].detail, StructureKind::Ehpad.code());

    // Dues for several members at once; one unknown member and nothing is written.
    let all = [MemberRef::Professional("810009876543".into()), MemberRef::Structure("s-ehpad".into())];
    let with_stranger = [all[0].clone(), MemberRef::Professional("810001234567".into())];
    let before_dues = audited().await;
    assert!(matches!(
        store.record_dues(&id, &with_stranger, day(2026, 12, 31), at(7), &event(&id, "update", "dues")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.member_roll(&id).await.unwrap(), roll, "nothing written");
    assert_eq!(audited().await, before_dues);
    assert_eq!(store.record_dues(&id, &all, day(2026, 12, 31), at(7), &event(&id, "update", "dues")).await.unwrap(), 2);
    assert!(
        store.member_roll(&id).await.unwrap().iter().all(|r| r.membership.dues_paid_until == Some(day(2026, 12, 31)))
    );

    // Places still listed, for the structures of the extract.
    let places = store.listed_places(&id).await.unwrap();
    assert_eq!(places.len(), 3);

    // Deleting takes its links, relations and membership with it.
    store.delete_structure(&id, "s-ehpad", &event(&id, "delete", "s-ehpad")).await.unwrap();
    assert!(store.structure_entry(&id, "s-msp").await.unwrap().relations.is_empty());
    assert_eq!(store.member_roll(&id).await.unwrap().len(), 1);
    assert!(matches!(
        store.delete_structure(&id, "s-ehpad", &event(&id, "delete", "s-ehpad")).await,
        Err(StoreError::NotFound)
    ));
    store.unlink_professional(&id, "s-msp", "810005555555", &event(&id, "unlink", "s-msp")).await.unwrap();
    assert!(matches!(
        store.unlink_professional(&id, "s-msp", "810005555555", &event(&id, "unlink", "s-msp")).await,
        Err(StoreError::NotFound)
    ));
    let kinds = [RelationKind::Partner];
    assert!(matches!(
        store.delete_relation(&id, "s-msp", "s-twin", kinds[0], &event(&id, "unlink", "s-msp")).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn sqlite_structures() {
    let dir = std::env::temp_dir().join(format!("maillage-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = connect(&format!("sqlite:{}", dir.join("test.sqlite").display())).await.unwrap();
    structures_story(&store).await;
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_structures() {
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
    structures_story(&store).await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await.unwrap();
}
