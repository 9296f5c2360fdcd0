//! One story, run on SQLite always and on PostgreSQL when `MAILLAGE_TEST_POSTGRES_URL` is set
//! (`scripts/test` starts a throwaway cluster and sets it; under CI it is required).

use chrono::{DateTime, TimeZone, Utc};
use maillage_core::access::{Agency, Role};
use maillage_core::ids::InseeCode;
use maillage_store::{
    AccountStore, ApiToken, AuditEvent, AuditStore, CptsStore, NewAccount, NewCpts, Page, PendingOidcLogin, Session,
    Store, StoreError, connect,
};

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

/// The story, then a second connection to the same database: migrations are idempotent and
/// the data is still there.
async fn story_and_reconnect(url: &str) {
    let store = connect(url).await.unwrap();
    story(&store).await;
    accounts_story(&store).await;
    store.close().await;
    let again = connect(url).await.unwrap();
    assert_eq!(again.list_cpts().await.unwrap().len(), 3);
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
