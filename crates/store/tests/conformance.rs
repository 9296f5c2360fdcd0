//! One story, run on SQLite always and on PostgreSQL when `MAILLAGE_TEST_POSTGRES_URL` is set
//! (`scripts/test` starts a throwaway cluster and sets it; under CI it is required).

use chrono::{DateTime, TimeZone, Utc};
use maillage_core::access::{Agency, Role};
use maillage_core::aci::spending::{Expense, ExpenseCategory, PayeeKind};
use maillage_core::aci::{
    Cents, Contract, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult, MissionId,
    PopulationUpdate,
};
use maillage_core::directory::model::{
    Address, CorrectableField, Correction, ExerciseMode, Membership, MembershipStatus, NationalId, PracticePlace,
    Professional, Specialty, StructureRef,
};
use maillage_core::ids::InseeCode;
use maillage_store::{
    AccountStore, AciStore, AnnuaireImport, ApiToken, AuditEvent, AuditStore, CptsStore, DateRange, DirectoryQuery,
    DirectoryStore, ImportOutcome, MembershipOutcome, NewAccount, NewCpts, Page, PendingOidcLogin, Session, Store,
    StoreError, connect,
};
use std::collections::BTreeMap;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap()
}

fn codes(list: &[&str]) -> Vec<InseeCode> {
    list.iter().map(|c| InseeCode::parse(c).unwrap()).collect()
}

async fn story(store: &Store) {
    assert!(store.list_cpts().await.unwrap().is_empty());

    let blaisois = NewCpts { name: "CPTS du Blaisois".into(), communes: codes(&["41269", "41018"]) };
    let created = store.create_cpts(&blaisois, at(2)).await.unwrap();
    assert_eq!(created.name, "CPTS du Blaisois");
    assert_eq!(created.communes, codes(&["41018", "41269"]), "sorted by code");
    assert_eq!((created.created_at, created.updated_at), (at(2), at(2)));
    assert_eq!(store.get_cpts(&created.id).await.unwrap(), created);

    // Names are unique whatever the case.
    let same = NewCpts { name: "cpts du blaisois".into(), communes: codes(&["41295"]) };
    assert!(matches!(store.create_cpts(&same, at(3)).await, Err(StoreError::Conflict(_))));

    // A failing creation leaves nothing behind.
    let twice = NewCpts { name: "CPTS Sud Loire".into(), communes: codes(&["41295", "41295"]) };
    assert!(matches!(store.create_cpts(&twice, at(3)).await, Err(StoreError::Conflict(_))));
    let listed = store.list_cpts().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].commune_count, 2);

    // A failing territory replacement keeps the old territory whole.
    let bad = codes(&["41295", "41295"]);
    assert!(matches!(store.replace_territory(&created.id, &bad, at(4)).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_cpts(&created.id).await.unwrap(), created);

    let replaced = store.replace_territory(&created.id, &codes(&["41295", "41018"]), at(5)).await.unwrap();
    assert_eq!(replaced.communes, codes(&["41018", "41295"]));
    assert_eq!((replaced.created_at, replaced.updated_at), (at(2), at(5)));

    let other = store
        .create_cpts(&NewCpts { name: "CPTS Vendôme".into(), communes: codes(&["41269", "41018"]) }, at(6))
        .await
        .unwrap();
    let mut both = vec![created.id.clone(), other.id.clone()];
    both.sort();
    assert_eq!(store.cpts_of_commune(&codes(&["41018"])[0]).await.unwrap(), both);
    assert_eq!(store.cpts_of_commune(&codes(&["41295"])[0]).await.unwrap(), vec![created.id.clone()]);
    let names: Vec<String> = store.list_cpts().await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["CPTS du Blaisois", "CPTS Vendôme"]);
    let full = store.list_cpts_full().await.unwrap();
    assert_eq!(full, vec![store.get_cpts(&created.id).await.unwrap(), store.get_cpts(&other.id).await.unwrap()]);

    let unknown = maillage_store::CptsId::from_random_bytes([7; 16]);
    assert!(matches!(store.get_cpts(&unknown).await, Err(StoreError::NotFound)));
    assert!(matches!(store.replace_territory(&unknown, &[], at(7)).await, Err(StoreError::NotFound)));
}

async fn accounts_story(store: &Store) {
    let cpts =
        store.create_cpts(&NewCpts { name: "CPTS Comptes".into(), communes: codes(&["41018"]) }, at(1)).await.unwrap();
    let coordinator = Role::Coordinator { cpts: cpts.id.clone() };
    let new = NewAccount {
        email: "Claire.Dupont@example.test".into(),
        display_name: "Claire Dupont".into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        role: coordinator.clone(),
    };
    let claire = store.create_account(&new, at(1)).await.unwrap();
    assert_eq!(claire.role, coordinator);
    assert_eq!(store.get_account(&claire.id).await.unwrap(), claire);
    // E-mails are unique whatever the case, and looked up whatever the case.
    let again = NewAccount { email: "claire.dupont@EXAMPLE.test".into(), ..new.clone() };
    assert!(matches!(store.create_account(&again, at(1)).await, Err(StoreError::Conflict(_))));
    let creds = store.account_credentials("CLAIRE.dupont@example.test").await.unwrap().unwrap();
    assert_eq!(creds.account.id, claire.id);
    assert_eq!(creds.password_hash, new.password_hash);
    assert!(store.account_credentials("nobody@example.test").await.unwrap().is_none());

    let ars = store
        .create_account(
            &NewAccount {
                email: "ars@example.test".into(),
                display_name: "ARS Centre".into(),
                password_hash: None,
                role: Role::RegionalObserver { agency: Agency::Ars, region: "24".into() },
            },
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(store.list_accounts(None).await.unwrap().len(), 2);
    assert_eq!(store.list_accounts(Some(&cpts.id)).await.unwrap(), vec![claire.clone()]);

    // OpenID identities link once.
    assert!(store.account_by_oidc("https://idp", "sub-1").await.unwrap().is_none());
    store.link_oidc(&ars.id, "https://idp", "sub-1").await.unwrap();
    assert_eq!(store.account_by_oidc("https://idp", "sub-1").await.unwrap().unwrap().id, ars.id);
    assert!(matches!(store.link_oidc(&claire.id, "https://idp", "sub-1").await, Err(StoreError::Conflict(_))));

    // Sessions: live until expiry, gone on logout and when the account is disabled.
    let session = Session {
        token_hash: "h1".into(),
        account_id: claire.id.clone(),
        csrf_token: "csrf".into(),
        created_at: at(2),
        expires_at: at(4),
    };
    store.create_session(&session, at(2)).await.unwrap();
    let (live, who) = store.live_session("h1", at(3)).await.unwrap().unwrap();
    assert_eq!((live, who.id.as_str()), (session.clone(), claire.id.as_str()));
    assert!(store.live_session("h1", at(4)).await.unwrap().is_none(), "expired");
    assert!(store.live_session("nope", at(3)).await.unwrap().is_none());
    store.set_disabled(&claire.id, Some(at(3))).await.unwrap();
    assert!(store.live_session("h1", at(3)).await.unwrap().is_none(), "disabling ends sessions");
    store.set_disabled(&claire.id, None).await.unwrap();
    store.create_session(&Session { token_hash: "h2".into(), ..session.clone() }, at(2)).await.unwrap();
    store.delete_session("h2").await.unwrap();
    assert!(store.live_session("h2", at(3)).await.unwrap().is_none());
    store.create_session(&Session { token_hash: "h3".into(), ..session.clone() }, at(2)).await.unwrap();
    assert_eq!(store.purge_expired(at(5), at(5)).await.unwrap(), 1);

    // Roles and passwords change.
    let board = Role::BoardMember { cpts: cpts.id.clone() };
    store.set_role(&claire.id, &board).await.unwrap();
    store.set_password_hash(&claire.id, "new-hash").await.unwrap();
    let creds = store.account_credentials("claire.dupont@example.test").await.unwrap().unwrap();
    assert_eq!((creds.account.role, creds.password_hash.as_deref()), (board, Some("new-hash")));

    // Login throttling counts failures within a window.
    let window = chrono::Duration::minutes(15);
    assert_eq!(store.record_login_failure("k", at(10), window).await.unwrap(), 1);
    assert_eq!(store.record_login_failure("k", at(10) + chrono::Duration::minutes(1), window).await.unwrap(), 2);
    assert_eq!(store.login_failures("k", at(10) + chrono::Duration::minutes(2), window).await.unwrap(), 2);
    assert_eq!(store.login_failures("k", at(10) + chrono::Duration::minutes(16), window).await.unwrap(), 0);
    assert_eq!(store.record_login_failure("k", at(11), window).await.unwrap(), 1, "a new window starts");
    store.clear_login_failures("k").await.unwrap();
    assert_eq!(store.login_failures("k", at(11), window).await.unwrap(), 0);

    // API tokens.
    let token = ApiToken {
        id: "t1".into(),
        account_id: ars.id.clone(),
        name: "tableau régional".into(),
        created_at: at(12),
        last_used_at: None,
        revoked_at: None,
    };
    store.create_api_token(&token, "th1").await.unwrap();
    assert_eq!(store.account_by_api_token("th1", at(13)).await.unwrap().unwrap().id, ars.id);
    assert_eq!(store.list_api_tokens(&ars.id).await.unwrap()[0].last_used_at, Some(at(13)));
    store.revoke_api_token(&ars.id, "t1", at(14)).await.unwrap();
    assert!(store.account_by_api_token("th1", at(15)).await.unwrap().is_none());
    assert!(matches!(store.revoke_api_token(&claire.id, "t1", at(14)).await, Err(StoreError::NotFound)));

    // A pending OpenID login is usable once.
    let pending = PendingOidcLogin {
        state: "st".into(),
        issuer: "https://idp".into(),
        browser_hash: "bh".into(),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        return_to: "/".into(),
        created_at: at(16),
    };
    store.put_pending_oidc(&pending).await.unwrap();
    assert_eq!(store.take_pending_oidc("st").await.unwrap(), Some(pending));
    assert_eq!(store.take_pending_oidc("st").await.unwrap(), None);

    // The audit log: per CPTS or whole, newest first, append-only.
    for (i, cpts_id) in [Some(cpts.id.clone()), None, Some(cpts.id.clone())].into_iter().enumerate() {
        let event = AuditEvent {
            cpts_id,
            id: format!("e{i}"),
            at: at(17) + chrono::Duration::seconds(i as i64),
            account_id: Some(claire.id.clone()),
            account_label: "Claire Dupont <claire.dupont@example.test>".into(),
            role: "coordinator".into(),
            action: "read".into(),
            object_type: "cpts".into(),
            object_id: cpts.id.to_string(),
            request_id: format!("req-{i}"),
            detail: String::new(),
        };
        store.append_audit(&event).await.unwrap();
    }
    let own = store.audit_page(Some(&cpts.id), Page { offset: 0, limit: 10 }).await.unwrap();
    assert_eq!(own.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e2", "e0"]);
    assert_eq!(store.audit_count(None).await.unwrap(), 3);
    assert_eq!(store.audit_count(Some(&cpts.id)).await.unwrap(), 2);
    let second = store.audit_page(None, Page { offset: 1, limit: 1 }).await.unwrap();
    assert_eq!(second[0].id, "e1");
    assert_eq!(second[0].cpts_id, None);
}

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn audit_event(cpts: &maillage_store::CptsId, action: &str, object_id: &str) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: uuid::Uuid::new_v4().to_string(),
        at: at(20),
        account_id: None,
        account_label: "Claire Dupont <claire.dupont@example.test>".into(),
        role: "coordinator".into(),
        action: action.into(),
        object_type: "aci".into(),
        object_id: object_id.into(),
        request_id: "req".into(),
        detail: String::new(),
    }
}

fn sample_contract(cpts: &str) -> Contract {
    let result = |achieved, evidence: &[&str]| IndicatorResult {
        achieved,
        evidence: evidence.iter().map(|e| (*e).to_owned()).collect(),
    };
    let patients = Indicator {
        name: "Patients sans médecin traitant orientés".into(),
        kind: IndicatorKind::Result,
        baseline: 0,
        targets: BTreeMap::from([(1, 200), (2, 400), (3, 600)]),
        weight: 3,
        results: BTreeMap::from([(1, result(150, &["export-2025.csv", "CR bureau 12/03"]))]),
    };
    let meetings = Indicator {
        name: "Réunions de coordination".into(),
        kind: IndicatorKind::Action,
        baseline: 12,
        targets: BTreeMap::from([(1, 4)]),
        weight: 1,
        results: BTreeMap::new(),
    };
    Contract {
        cpts: cpts.to_owned(),
        signed_on: day(2024, 3, 15),
        rule_set: "avenant-2".into(),
        population_at_signature: 52_000,
        population_updates: vec![PopulationUpdate { known_on: day(2025, 1, 1), population: 81_000 }],
        missions: vec![
            EngagedMission {
                mission: MissionId::Acces,
                started_on: Some(day(2024, 6, 1)),
                deployed_on: None,
                indicators: vec![patients, meetings],
                crises: vec![],
            },
            EngagedMission {
                mission: MissionId::Parcours,
                started_on: None,
                deployed_on: None,
                indicators: vec![],
                crises: vec![],
            },
            EngagedMission {
                mission: MissionId::Crise,
                started_on: Some(day(2024, 9, 1)),
                deployed_on: Some(day(2025, 9, 1)),
                indicators: vec![],
                crises: vec![CrisisDeclaration { declared_on: day(2025, 7, 2), name: "Canicule".into() }],
            },
        ],
    }
}

fn expense(spent_on: chrono::NaiveDate, envelope: MissionId, euros: i64, payee: &str) -> Expense {
    Expense {
        id: String::new(),
        spent_on,
        envelope,
        category: ExpenseCategory::Indemnisation,
        payee_kind: PayeeKind::ProfessionnelMembre,
        payee: payee.into(),
        payee_rpps: Some("10001234567".into()),
        amount: Cents::from_euros(euros),
        receipt: "F-2025-001".into(),
        note: String::new(),
    }
}

async fn aci_story(store: &Store) {
    let cpts =
        store.create_cpts(&NewCpts { name: "CPTS Contrat".into(), communes: codes(&["41269"]) }, at(1)).await.unwrap();
    let other =
        store.create_cpts(&NewCpts { name: "CPTS Voisine".into(), communes: codes(&["41018"]) }, at(1)).await.unwrap();
    let id = cpts.id.clone();
    assert_eq!(store.get_contract(&id).await.unwrap(), None);
    let audited = || async { store.audit_count(Some(&id)).await.unwrap() };
    let before = audited().await;

    // Created whole, with its audit event in the same transaction.
    let contract = sample_contract(id.as_str());
    assert_eq!(
        store.put_contract(&id, &contract, None, at(20), &audit_event(&id, "create", "contract")).await.unwrap(),
        1
    );
    let stored = store.get_contract(&id).await.unwrap().unwrap();
    assert_eq!((stored.contract.clone(), stored.revision, stored.updated_at), (contract.clone(), 1, at(20)));
    assert_eq!(audited().await, before + 1);

    // Created twice: refused, and nothing is logged.
    let err = store.put_contract(&id, &contract, None, at(21), &audit_event(&id, "create", "contract")).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(audited().await, before + 1);

    // Replaced: an indicator goes, a result and its evidence change, a mission goes.
    let mut changed = contract.clone();
    changed.missions.remove(1);
    changed.missions[0].indicators.pop();
    changed.missions[0].indicators[0].results.insert(2, IndicatorResult { achieved: 380, evidence: vec![] });
    changed.population_updates.clear();
    assert_eq!(
        store.put_contract(&id, &changed, Some(1), at(22), &audit_event(&id, "update", "contract")).await.unwrap(),
        2
    );
    assert_eq!(store.get_contract(&id).await.unwrap().unwrap().contract, changed);

    // A writer holding revision 1 is told it is stale; nothing changes.
    let err = store.put_contract(&id, &contract, Some(1), at(23), &audit_event(&id, "update", "contract")).await;
    assert!(matches!(err, Err(StoreError::Stale { expected: 1, found: 2 })), "{err:?}");
    // A failing replacement (a mission twice) leaves the contract and the log whole.
    let mut twice = changed.clone();
    twice.missions.push(twice.missions[0].clone());
    let err = store.put_contract(&id, &twice, Some(2), at(23), &audit_event(&id, "update", "contract")).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    let kept = store.get_contract(&id).await.unwrap().unwrap();
    assert_eq!((kept.contract, kept.revision), (changed.clone(), 2));
    assert_eq!(audited().await, before + 2);
    let err = store.put_contract(&other.id, &contract, Some(1), at(23), &audit_event(&other.id, "update", "c")).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");

    // Expenses: by date, within a range (until exclusive), updated, deleted; tenants apart.
    let march = store
        .add_expense(
            &id,
            &expense(day(2025, 3, 14), MissionId::Acces, 1200, "Dr Élise Martin"),
            at(20),
            &audit_event(&id, "create", ""),
        )
        .await
        .unwrap();
    assert_eq!(march.id.len(), 32);
    let january = store
        .add_expense(
            &id,
            &expense(day(2025, 1, 1), MissionId::Acces, 300, "Dr Élise Martin"),
            at(20),
            &audit_event(&id, "create", ""),
        )
        .await
        .unwrap();
    let mut june = expense(day(2025, 6, 30), MissionId::Fonctionnement, 2500, "Cabinet comptable");
    june.category = ExpenseCategory::Prestation;
    june.payee_kind = PayeeKind::Prestataire;
    june.payee_rpps = None;
    let june = store.add_expense(&id, &june, at(20), &audit_event(&id, "create", "")).await.unwrap();
    let all = store.list_expenses(&id, DateRange::default()).await.unwrap();
    assert_eq!(all, vec![january.clone(), march.clone(), june.clone()]);
    let range = DateRange { from: Some(day(2025, 1, 2)), until: Some(day(2025, 6, 30)) };
    assert_eq!(store.list_expenses(&id, range).await.unwrap(), vec![march.clone()]);
    assert!(store.list_expenses(&other.id, DateRange::default()).await.unwrap().is_empty());
    assert_eq!(audited().await, before + 5);
    let log = store.audit_page(Some(&id), Page { offset: 0, limit: 20 }).await.unwrap();
    assert!(log.iter().any(|e| e.object_id == june.id), "an expense's event names it");

    let mut corrected = march.clone();
    corrected.amount = Cents(120_050);
    corrected.note = "montant corrigé".into();
    store.update_expense(&id, &corrected, at(21), &audit_event(&id, "update", &march.id)).await.unwrap();
    assert_eq!(store.get_expense(&id, &march.id).await.unwrap(), corrected);
    let err = store.update_expense(&other.id, &corrected, at(21), &audit_event(&other.id, "update", "x")).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "another CPTS cannot touch it: {err:?}");
    let err = store.delete_expense(&other.id, &march.id, &audit_event(&other.id, "delete", "x")).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    store.delete_expense(&id, &january.id, &audit_event(&id, "delete", &january.id)).await.unwrap();
    assert!(matches!(store.get_expense(&id, &january.id).await, Err(StoreError::NotFound)));
    assert_eq!(store.list_expenses(&id, DateRange::default()).await.unwrap(), vec![corrected, june]);
    assert_eq!(audited().await, before + 7);
}

fn professional(rpps: &str, family: &str, given: &str, profession: &str, communes: &[(&str, &str)]) -> Professional {
    Professional {
        national_id: NationalId::parse(&format!("8{rpps}")).unwrap(),
        civility: Some("DR".into()),
        family_name: family.into(),
        given_name: given.into(),
        profession_code: profession.into(),
        profession_label: Some(if profession == "10" { "Médecin" } else { "Infirmier" }.into()),
        specialties: vec![Specialty { kind: "S".into(), code: "SM54".into(), label: "Médecine générale".into() }],
        places: communes
            .iter()
            .enumerate()
            .map(|(i, (code, label))| PracticePlace {
                key: format!("ST{i}"),
                structure: StructureRef { technical_id: Some(format!("ST{i}")), siret: None, finess: None, name: None },
                address: Address {
                    line1: Some(format!("{} rue Denis Papin", i + 1)),
                    line2: None,
                    postal_code: Some("41000".into()),
                    commune_code: Some(InseeCode::parse(code).unwrap()),
                    commune_label: Some((*label).into()),
                },
                phone: Some("0254000000".into()),
                email: None,
                exercise_mode: ExerciseMode::Liberal,
                role: None,
                sector: None,
            })
            .collect(),
    }
}

async fn directory_story(store: &Store) {
    let cpts =
        store.create_cpts(&NewCpts { name: "CPTS Annuaire".into(), communes: codes(&["41018"]) }, at(1)).await.unwrap();
    let id = cpts.id.clone();
    let martin = professional("10001234567", "Martin", "Élise", "10", &[("41018", "Blois"), ("41295", "Vineuil")]);
    let caron = professional("10009876543", "Caron", "Inès", "60", &[("41018", "Blois")]);
    let dupuis = professional("10005555555", "Dupuis", "Maël", "60", &[("41047", "La Chaussée-Saint-Victor")]);
    let import = |n: &str, list: &'static [Professional]| AnnuaireImport {
        id: n.into(),
        source: "annuaire",
        file_name: "PS_LibreAcces_Personne_activite.txt".into(),
        lines_read: 2_000_000,
        professionals: list,
        departement_counts: None,
    };
    let first: &'static [Professional] =
        Box::leak(vec![martin.clone(), caron.clone(), dupuis.clone()].into_boxed_slice());
    let outcome =
        store.apply_import(&id, &import("i1", first), at(2), &audit_event(&id, "import", "annuaire")).await.unwrap();
    assert_eq!(outcome, ImportOutcome { inserted: 3, ..Default::default() });

    // The same file again changes nothing; an import id is used once.
    let outcome =
        store.apply_import(&id, &import("i2", first), at(3), &audit_event(&id, "import", "annuaire")).await.unwrap();
    assert_eq!(outcome, ImportOutcome { unchanged: 3, ..Default::default() });
    let err = store.apply_import(&id, &import("i2", first), at(3), &audit_event(&id, "import", "annuaire")).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    let entry = store.directory_entry(&id, "810001234567").await.unwrap();
    assert_eq!((entry.professional.clone(), entry.first_seen_at, entry.left_at), (martin.clone(), at(2), None));

    // Local corrections and membership survive a re-import that changes the imported values.
    let phone = Correction::new(CorrectableField::Phone, Some("ST0"), "02 54 11 22 33").unwrap();
    store.put_correction(&id, "810001234567", &phone, "Claire", at(4), &audit_event(&id, "update", "x")).await.unwrap();
    let membership = Membership {
        joined_on: day(2024, 1, 10),
        left_on: None,
        status: MembershipStatus::Active,
        dues_paid_until: Some(day(2026, 12, 31)),
        profession_referent: true,
        board_role: Some("trésorière".into()),
    };
    store.put_membership(&id, "810001234567", &membership, at(4), &audit_event(&id, "update", "x")).await.unwrap();
    let mut moved = martin.clone();
    moved.places.pop();
    let second: &'static [Professional] = Box::leak(vec![moved.clone(), caron.clone()].into_boxed_slice());
    let outcome =
        store.apply_import(&id, &import("i3", second), at(5), &audit_event(&id, "import", "annuaire")).await.unwrap();
    assert_eq!(outcome, ImportOutcome { updated: 1, unchanged: 1, marked_left: 1, ..Default::default() });
    let entry = store.directory_entry(&id, "810001234567").await.unwrap();
    assert_eq!(entry.professional, moved);
    assert_eq!(entry.corrections, vec![phone.clone()]);
    assert_eq!(entry.membership, Some(membership.clone()));
    let gone = store.directory_entry(&id, "810005555555").await.unwrap();
    assert_eq!(gone.left_at, Some(at(5)), "marked, not deleted");
    // Back in the next extract.
    let outcome =
        store.apply_import(&id, &import("i4", first), at(6), &audit_event(&id, "import", "annuaire")).await.unwrap();
    assert_eq!(outcome, ImportOutcome { updated: 1, unchanged: 1, returned: 1, ..Default::default() });
    assert_eq!(store.list_imports(&id).await.unwrap().len(), 4);

    // A failing import (a professional twice) changes nothing.
    let twice: &'static [Professional] = Box::leak(vec![caron.clone(), caron.clone()].into_boxed_slice());
    assert!(matches!(
        store.apply_import(&id, &import("i5", twice), at(7), &audit_event(&id, "import", "annuaire")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.list_imports(&id).await.unwrap().len(), 4);
    assert_eq!(store.directory_entry(&id, "810005555555").await.unwrap().left_at, None);

    // Search: words in any order, accents ignored; filters; members; paging.
    let all = DirectoryQuery { limit: 50, ..Default::default() };
    let (rows, total) = store.search_directory(&id, &all).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(rows.iter().map(|r| r.family_name.as_str()).collect::<Vec<_>>(), ["Caron", "Dupuis", "Martin"]);
    assert_eq!(rows[2].communes, ["41018", "41295"]);
    assert!(rows[2].member && !rows[0].member);
    let q = |text: &str| DirectoryQuery { text: Some(text.into()), limit: 50, ..Default::default() };
    let (rows, _) = store.search_directory(&id, &q("elise MARTIN")).await.unwrap();
    assert_eq!(rows.len(), 1);
    let (rows, _) = store.search_directory(&id, &q("chaussee")).await.unwrap();
    assert_eq!(rows[0].family_name, "Dupuis");
    let nurses = DirectoryQuery { profession: Some("60".into()), limit: 1, ..Default::default() };
    let (rows, total) = store.search_directory(&id, &nurses).await.unwrap();
    assert_eq!((rows.len(), total), (1, 2), "one page of a total of two");
    let in_vineuil = DirectoryQuery { commune: Some("41295".into()), limit: 50, ..Default::default() };
    assert_eq!(store.search_directory(&id, &in_vineuil).await.unwrap().1, 1);
    let non_members = DirectoryQuery { member: Some(false), limit: 50, ..Default::default() };
    assert_eq!(store.search_directory(&id, &non_members).await.unwrap().1, 2);

    // Corrections are removed one by one; unknown professionals are "not found"; tenants apart.
    store
        .delete_correction(&id, "810001234567", CorrectableField::Phone, Some("ST0"), &audit_event(&id, "delete", "x"))
        .await
        .unwrap();
    assert!(store.directory_entry(&id, "810001234567").await.unwrap().corrections.is_empty());
    let err =
        store.put_correction(&id, "899999999999", &phone, "Claire", at(8), &audit_event(&id, "update", "x")).await;
    assert!(matches!(err, Err(StoreError::NotFound)));
    let other = store.create_cpts(&NewCpts { name: "CPTS Voisine 2".into(), communes: codes(&["41047"]) }, at(1)).await;
    let other = other.unwrap();
    assert!(matches!(store.directory_entry(&other.id, "810001234567").await, Err(StoreError::NotFound)));

    // The professions present, for the search form: those still listed, counted.
    assert_eq!(store.directory_professions(&id).await.unwrap(), [("10".to_owned(), 1), ("60".to_owned(), 2)]);
    assert!(store.directory_professions(&other.id).await.unwrap().is_empty());

    // Accounts linked to professionals: one each way, replaced, refused across tenants.
    let member = |email: &str, cpts: &maillage_store::CptsId| NewAccount {
        email: email.into(),
        display_name: "Élise Martin".into(),
        password_hash: None,
        role: Role::MemberProfessional { cpts: cpts.clone() },
    };
    let elise = store.create_account(&member("elise@example.test", &id), at(8)).await.unwrap();
    let ines = store.create_account(&member("ines@example.test", &id), at(8)).await.unwrap();
    let stranger = store.create_account(&member("autre@example.test", &other.id), at(8)).await.unwrap();
    let before = store.audit_count(Some(&id)).await.unwrap();
    assert_eq!(store.professional_of_account(&id, &elise.id).await.unwrap(), None);
    let link = |who: &str| audit_event(&id, "update", who);
    store.link_account_professional(&id, &elise.id, "810009876543", &link("elise")).await.unwrap();
    store.link_account_professional(&id, &elise.id, "810001234567", &link("elise")).await.unwrap();
    assert_eq!(store.professional_of_account(&id, &elise.id).await.unwrap().as_deref(), Some("810001234567"));
    assert_eq!(store.account_of_professional(&id, "810001234567").await.unwrap(), Some(elise.id.clone()));
    assert_eq!(store.account_of_professional(&id, "810009876543").await.unwrap(), None, "the link moved");
    let err = store.link_account_professional(&id, &ines.id, "810001234567", &link("ines")).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "one account per professional: {err:?}");
    let err = store.link_account_professional(&id, &ines.id, "899999999999", &link("ines")).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "unknown professional: {err:?}");
    let err = store.link_account_professional(&id, &stranger.id, "810009876543", &link("x")).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "another tenant's account: {err:?}");
    assert_eq!(store.professional_of_account(&other.id, &elise.id).await.unwrap(), None, "tenants apart");
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), before + 2, "refusals leave no event");
    store.unlink_account_professional(&id, &elise.id, &link("elise")).await.unwrap();
    assert_eq!(store.professional_of_account(&id, &elise.id).await.unwrap(), None);
    let err = store.unlink_account_professional(&id, &elise.id, &link("elise")).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    store.link_account_professional(&id, &ines.id, "810001234567", &link("ines")).await.unwrap();
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), before + 4);
}

async fn directory_stats_story(store: &Store) {
    let cpts = store
        .create_cpts(&NewCpts { name: "CPTS Statistiques".into(), communes: codes(&["41018"]) }, at(1))
        .await
        .unwrap();
    let id = cpts.id.clone();
    let list: &'static [Professional] = Box::leak(
        vec![
            professional("10001234567", "Martin", "Élise", "10", &[("41018", "Blois"), ("41295", "Vineuil")]),
            professional("10009876543", "Caron", "Inès", "60", &[("41018", "Blois")]),
        ]
        .into_boxed_slice(),
    );
    let mut counts = maillage_core::directory::collect::DepartementCounts::new();
    counts.entry("41".into()).or_default().insert("60".into(), 3_100);
    counts.entry("41".into()).or_default().insert("10".into(), 900);
    let import = AnnuaireImport {
        id: "s1".into(),
        source: "annuaire",
        file_name: "x.txt".into(),
        lines_read: 10,
        professionals: list,
        departement_counts: Some(&counts),
    };
    store.apply_import(&id, &import, at(2), &audit_event(&id, "import", "annuaire")).await.unwrap();
    assert_eq!(store.departement_counts(&id).await.unwrap(), counts);
    let membership = Membership {
        joined_on: day(2024, 1, 10),
        left_on: None,
        status: MembershipStatus::Active,
        dues_paid_until: None,
        profession_referent: false,
        board_role: None,
    };
    store.put_membership(&id, "810009876543", &membership, at(3), &audit_event(&id, "update", "m")).await.unwrap();
    let mut inputs = store.stat_inputs(&id).await.unwrap();
    inputs.sort_by(|a, b| a.profession_code.cmp(&b.profession_code));
    assert_eq!(inputs.len(), 2);
    assert_eq!((inputs[0].profession_code.as_str(), inputs[0].member), ("10", false));
    assert_eq!(inputs[0].specialties, ["SM54"]);
    assert_eq!(inputs[0].communes.len(), 2);
    assert_eq!((inputs[1].profession_code.as_str(), inputs[1].member), ("60", true));
    // An import without counts (a member list) keeps the national counts.
    let again = AnnuaireImport { id: "s2".into(), departement_counts: None, ..import };
    store.apply_import(&id, &again, at(4), &audit_event(&id, "import", "annuaire")).await.unwrap();
    assert_eq!(store.departement_counts(&id).await.unwrap(), counts);
}

/// A member list applied at once: created, updated, unchanged; a list naming a professional
/// the directory does not have writes nothing and names them.
async fn membership_import_story(store: &Store) {
    let cpts = store
        .create_cpts(&NewCpts { name: "CPTS Adhérents".into(), communes: codes(&["41018"]) }, at(1))
        .await
        .unwrap();
    let id = cpts.id.clone();
    let list: &'static [Professional] = Box::leak(
        vec![
            professional("10001234567", "Martin", "Élise", "10", &[("41018", "Blois")]),
            professional("10009876543", "Caron", "Inès", "60", &[("41018", "Blois")]),
        ]
        .into_boxed_slice(),
    );
    let import = AnnuaireImport {
        id: "m1".into(),
        source: "annuaire",
        file_name: "x.txt".into(),
        lines_read: 2,
        professionals: list,
        departement_counts: None,
    };
    store.apply_import(&id, &import, at(2), &audit_event(&id, "import", "annuaire")).await.unwrap();
    let active = Membership {
        joined_on: day(2024, 1, 10),
        left_on: None,
        status: MembershipStatus::Active,
        dues_paid_until: Some(day(2026, 12, 31)),
        profession_referent: true,
        board_role: Some("présidente".into()),
    };
    let left = Membership {
        joined_on: day(2023, 5, 1),
        left_on: Some(day(2025, 6, 30)),
        status: MembershipStatus::Left,
        dues_paid_until: None,
        profession_referent: false,
        board_role: None,
    };
    let audits = store.audit_count(Some(&id)).await.unwrap();
    // An unknown professional: nothing is written, not even the audit event.
    let refused = store
        .apply_memberships(
            &id,
            &[("810001234567".into(), active.clone()), ("812345678901".into(), left.clone())],
            at(3),
            &audit_event(&id, "import", "members"),
        )
        .await
        .unwrap();
    assert_eq!(refused, MembershipOutcome { unknown: vec!["812345678901".into()], ..Default::default() });
    assert!(!refused.applied());
    assert_eq!(store.directory_entry(&id, "810001234567").await.unwrap().membership, None);
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), audits);
    // Twice the same professional: a conflict.
    let twice = [("810001234567".to_owned(), active.clone()), ("810001234567".to_owned(), left.clone())];
    assert!(matches!(
        store.apply_memberships(&id, &twice, at(3), &audit_event(&id, "import", "members")).await,
        Err(StoreError::Conflict(_))
    ));
    let list = [("810001234567".to_owned(), active.clone()), ("810009876543".to_owned(), left.clone())];
    let first = store.apply_memberships(&id, &list, at(3), &audit_event(&id, "import", "members")).await.unwrap();
    assert_eq!((first.created, first.updated, first.unchanged, first.applied()), (2, 0, 0, true));
    assert_eq!(store.directory_entry(&id, "810001234567").await.unwrap().membership, Some(active.clone()));
    assert_eq!(store.directory_entry(&id, "810009876543").await.unwrap().membership, Some(left.clone()));
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), audits + 1);
    let suspended = Membership { status: MembershipStatus::Suspended, ..active.clone() };
    let list = [("810001234567".to_owned(), suspended.clone()), ("810009876543".to_owned(), left.clone())];
    let second = store.apply_memberships(&id, &list, at(4), &audit_event(&id, "import", "members")).await.unwrap();
    assert_eq!((second.created, second.updated, second.unchanged), (0, 1, 1));
    assert_eq!(store.directory_entry(&id, "810001234567").await.unwrap().membership, Some(suspended));
    // Another CPTS's directory does not count.
    let mut other = None;
    for c in store.list_cpts().await.unwrap() {
        if c.id != id && store.directory_entry(&c.id, "810001234567").await.is_err() {
            other = Some(c.id);
        }
    }
    let other = other.unwrap();
    let elsewhere =
        store.apply_memberships(&other, &list[..1], at(4), &audit_event(&other, "import", "members")).await.unwrap();
    assert_eq!(elsewhere.unknown, ["810001234567"]);
}

/// Import jobs started from the browser: created with their audit event, progress while
/// running, finished once; tenants see only their own.
async fn import_jobs_story(store: &Store) {
    use maillage_store::{ImportJob, ImportJobState, ImportJobStore, ImportProgress};
    let cpts = store
        .create_cpts(&NewCpts { name: "CPTS Imports en ligne".into(), communes: codes(&["41018"]) }, at(1))
        .await
        .unwrap();
    let id = cpts.id.clone();
    let job = ImportJob {
        cpts_id: id.clone(),
        id: "j1".into(),
        file_name: "PS_LibreAcces_Personne_activite_202611.txt".into(),
        state: ImportJobState::Running,
        bytes_total: 1_000_000_000,
        progress: ImportProgress::default(),
        message: String::new(),
        report: String::new(),
        started_at: at(2),
        finished_at: None,
        started_by: "Coordination <c@test>".into(),
    };
    let audits = store.audit_count(Some(&id)).await.unwrap();
    store.create_job(&job, &audit_event(&id, "import_start", "j1")).await.unwrap();
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), audits + 1, "the start is audited with the job");
    assert!(matches!(
        store.create_job(&job, &audit_event(&id, "import_start", "j1")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.audit_count(Some(&id)).await.unwrap(), audits + 1, "a refused job leaves no audit line");
    assert_eq!(store.get_job(&id, "j1").await.unwrap(), job);
    let halfway = ImportProgress { bytes_read: 500_000_000, lines_read: 1_000_000, kept: 1_200, rejected: 0 };
    store.update_progress(&id, "j1", &halfway).await.unwrap();
    assert_eq!(store.get_job(&id, "j1").await.unwrap().progress, halfway);
    let end = ImportProgress { bytes_read: 1_000_000_000, lines_read: 2_000_000, kept: 2_400, rejected: 0 };
    store
        .finish_job(&id, "j1", ImportJobState::Done, &end, "Import terminé.", "{\"inserted\":2}", at(3))
        .await
        .unwrap();
    let done = store.get_job(&id, "j1").await.unwrap();
    assert_eq!((done.state, done.progress, done.finished_at), (ImportJobState::Done, end, Some(at(3))));
    assert_eq!((done.message.as_str(), done.report.as_str()), ("Import terminé.", "{\"inserted\":2}"));
    // A finished job stays as it ended.
    assert!(matches!(store.update_progress(&id, "j1", &halfway).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.finish_job(&id, "j1", ImportJobState::Failed, &end, "x", "", at(4)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_job(&id, "j1").await.unwrap().state, ImportJobState::Done);
    // Unknown jobs, and other tenants' jobs, are not found.
    assert!(matches!(store.get_job(&id, "nope").await, Err(StoreError::NotFound)));
    let other = store.list_cpts().await.unwrap().into_iter().find(|c| c.id != id).unwrap().id;
    assert!(matches!(store.get_job(&other, "j1").await, Err(StoreError::NotFound)));
    assert!(matches!(store.update_progress(&other, "j1", &halfway).await, Err(StoreError::NotFound)));
}

/// The story, then a second connection to the same database: migrations are idempotent and
/// the data is still there.
async fn story_and_reconnect(url: &str) {
    let store = connect(url).await.unwrap();
    story(&store).await;
    accounts_story(&store).await;
    aci_story(&store).await;
    directory_story(&store).await;
    directory_stats_story(&store).await;
    membership_import_story(&store).await;
    import_jobs_story(&store).await;
    store.close().await;
    let again = connect(url).await.unwrap();
    assert_eq!(again.list_cpts().await.unwrap().len(), 10);
    again.close().await;
    assert_append_only(url).await;
}

/// The audit log refuses updates and deletes at the database level, on both engines.
async fn assert_append_only(url: &str) {
    let statements = ["UPDATE audit_event SET detail = 'x'", "DELETE FROM audit_event"];
    for sql in statements {
        let refused = if url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.is_err()
        } else {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.is_err()
        };
        assert!(refused, "audit_event must be append-only: {sql}");
    }
}

#[tokio::test]
async fn sqlite_story() {
    let dir = std::env::temp_dir().join(format!("maillage-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    story_and_reconnect(&format!("sqlite:{}", dir.join("test.sqlite").display())).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_story() {
    let Some(admin_url) = postgres_admin_url() else { return };
    let db = format!("maillage_test_{}", uuid::Uuid::new_v4().simple());
    let admin = connect_admin(&admin_url).await;
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&admin).await.unwrap();
    story_and_reconnect(&with_database(&admin_url, &db)).await;
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await.unwrap();
}

#[tokio::test]
async fn unsupported_url_is_named() {
    let err = connect("mysql://localhost/x").await.unwrap_err();
    assert_eq!(err.to_string(), "unsupported database URL \"mysql\": use sqlite:PATH or postgres://…");
}

/// The PostgreSQL test server, or `None` to skip outside CI. Under CI a missing server fails.
fn postgres_admin_url() -> Option<String> {
    match std::env::var("MAILLAGE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!("CI must set MAILLAGE_TEST_POSTGRES_URL (scripts/test does)"),
        _ => {
            eprintln!("MAILLAGE_TEST_POSTGRES_URL not set: PostgreSQL story skipped (run scripts/test)");
            None
        }
    }
}

async fn connect_admin(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.unwrap()
}

fn with_database(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => format!("{url}/{db}"),
    }
}

/// The bulk read of exports gives every professional exactly as the per-entry read does, in
/// the search's order: imported values (specialties, places), corrections in chronological
/// order (an orphaned one included), membership; those marked as left only when asked.
async fn directory_export_story(store: &Store) {
    let cpts = store
        .create_cpts(&NewCpts { name: "CPTS Export".into(), communes: codes(&["41018", "41295"]) }, at(1))
        .await
        .unwrap();
    let id = cpts.id.clone();
    let mut martin = professional("10001234567", "Martin", "Élise", "10", &[("41018", "Blois"), ("41295", "Vineuil")]);
    martin.specialties.push(Specialty { kind: "CAPA".into(), code: "CAPA12".into(), label: "Gériatrie".into() });
    let caron = professional("10009876543", "Caron", "Inès", "60", &[("41018", "Blois")]);
    let mut bare = professional("10003333333", "Abadie", "Jean", "60", &[]);
    bare.specialties.clear();
    bare.civility = None;
    bare.profession_label = None;
    let dupuis = professional("10005555555", "Dupuis", "Maël", "60", &[("41295", "Vineuil")]);
    // Same names, national ids decide the order.
    let twin = professional("10006666666", "Martin", "Élise", "60", &[("41018", "Blois")]);
    let import = |n: &str, list: Vec<Professional>| AnnuaireImport {
        id: n.into(),
        source: "annuaire",
        file_name: "x.txt".into(),
        lines_read: 10,
        professionals: Box::leak(list.into_boxed_slice()),
        departement_counts: None,
    };
    let all = vec![martin.clone(), caron.clone(), bare.clone(), dupuis.clone(), twin.clone()];
    store.apply_import(&id, &import("e1", all), at(2), &audit_event(&id, "import", "annuaire")).await.unwrap();
    let event = || audit_event(&id, "update", "x");
    let correct = |field, place: Option<&str>, value: &str| Correction::new(field, place, value).unwrap();
    for (nid, c, when) in [
        ("810001234567", correct(CorrectableField::Phone, Some("ST0"), "02 54 11 22 33"), at(5)),
        ("810001234567", correct(CorrectableField::Mssante, None, "elise.martin@medecin.mssante.fr"), at(4)),
        ("810001234567", correct(CorrectableField::Email, Some("ST1"), "cabinet@example.fr"), at(4)),
        ("810001234567", correct(CorrectableField::SnpParticipant, None, "oui"), at(6)),
        ("810009876543", correct(CorrectableField::AddressLine2, Some("ST0"), "Bâtiment B"), at(3)),
        ("810005555555", correct(CorrectableField::AcceptsNewPatients, None, "non"), at(3)),
    ] {
        store.put_correction(&id, nid, &c, "Claire", when, &event()).await.unwrap();
    }
    let membership = |status, left_on| Membership {
        joined_on: day(2024, 1, 10),
        left_on,
        status,
        dues_paid_until: Some(day(2026, 12, 31)),
        profession_referent: status == MembershipStatus::Active,
        board_role: Some("trésorière".into()),
    };
    for (nid, m) in [
        ("810001234567", membership(MembershipStatus::Active, None)),
        ("810009876543", membership(MembershipStatus::Left, Some(day(2025, 6, 30)))),
        ("810005555555", membership(MembershipStatus::Active, None)),
        ("810006666666", membership(MembershipStatus::Suspended, None)),
    ] {
        store.put_membership(&id, nid, &m, at(4), &event()).await.unwrap();
    }
    // Dupuis leaves the extract; Martin loses a place (its correction is kept, orphaned).
    let mut moved = martin.clone();
    moved.places.pop();
    let second = vec![moved, caron, bare, twin];
    store.apply_import(&id, &import("e2", second), at(7), &audit_event(&id, "import", "annuaire")).await.unwrap();

    for include_left in [false, true] {
        let exported = store.directory_export(&id, include_left).await.unwrap();
        let q = DirectoryQuery { include_left, limit: 500, ..Default::default() };
        let (rows, total) = store.search_directory(&id, &q).await.unwrap();
        assert_eq!(exported.len() as u64, total, "include_left {include_left}");
        for (entry, row) in exported.iter().zip(&rows) {
            assert_eq!(entry.professional.national_id.to_string(), row.national_id, "the search's order");
            assert_eq!(*entry, store.directory_entry(&id, &row.national_id).await.unwrap());
            assert_eq!(entry.is_member(), row.member, "{}", row.national_id);
        }
    }
    let listed = store.directory_export(&id, false).await.unwrap();
    let names: Vec<String> = listed.iter().map(|e| e.professional.national_id.to_string()).collect();
    assert_eq!(names, ["810003333333", "810009876543", "810001234567", "810006666666"]);
    let martin = &listed[2];
    assert_eq!(martin.corrections.len(), 4);
    assert_eq!(martin.corrections[0].field, CorrectableField::Email, "chronological, then by field code");
    assert_eq!(martin.corrections[1].field, CorrectableField::Mssante);
    assert_eq!(martin.corrections[3].field, CorrectableField::SnpParticipant);
    assert!(martin.professional.places.len() == 1 && martin.professional.specialties.len() == 2);
    assert!(listed[0].professional.places.is_empty() && listed[0].corrections.is_empty());
    let with_left = store.directory_export(&id, true).await.unwrap();
    let dupuis = with_left.iter().find(|e| e.left_at.is_some()).unwrap();
    assert_eq!(dupuis.professional.family_name, "Dupuis");
    assert!(dupuis.is_member() && dupuis.corrections.len() == 1);
    // Another CPTS's directory is its own.
    let other = NewCpts { name: "CPTS Export 2".into(), communes: codes(&["41047"]) };
    let other = store.create_cpts(&other, at(1)).await.unwrap();
    assert!(store.directory_export(&other.id, true).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_directory_export() {
    let dir = std::env::temp_dir().join(format!("maillage-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = connect(&format!("sqlite:{}", dir.join("test.sqlite").display())).await.unwrap();
    directory_export_story(&store).await;
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_directory_export() {
    let Some(admin_url) = postgres_admin_url() else { return };
    let db = format!("maillage_test_{}", uuid::Uuid::new_v4().simple());
    let admin = connect_admin(&admin_url).await;
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&admin).await.unwrap();
    let store = connect(&with_database(&admin_url, &db)).await.unwrap();
    directory_export_story(&store).await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await.unwrap();
}
