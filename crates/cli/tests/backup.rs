//! `maillage backup` and `maillage restore`, run as an operator runs them, against databases
//! written through the store while the backup is taken.

use chrono::{DateTime, TimeZone, Utc};
use maillage_core::access::Role;
use maillage_core::ids::InseeCode;
use maillage_store::{AccountStore, CptsStore, NewAccount, NewCpts, Store, connect};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

fn maillage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(args)
        .env_remove("MAILLAGE_DATA_DIR")
        .env_remove("MAILLAGE_DATABASE_URL")
        .output()
        .expect("maillage runs")
}

/// Runs the binary off the async runtime, so the store's tasks keep going meanwhile.
async fn maillage_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || maillage(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "stderr: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "maillage-cli-backup-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn at(n: u64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(i64::try_from(n).unwrap())
}

fn codes() -> Vec<InseeCode> {
    ["41018", "41269", "41295"].iter().map(|c| InseeCode::parse(c).unwrap()).collect()
}

async fn open(dir: &Path) -> Store {
    std::fs::create_dir_all(dir).unwrap();
    connect(&format!("sqlite:{}", dir.join("maillage.sqlite").display())).await.unwrap()
}

/// CPTS n, then the account of its coordinator: each its own transaction.
async fn write_pair(store: &Store, n: u64) {
    let new = NewCpts { name: format!("CPTS {n:05}"), communes: codes() };
    let cpts = store.create_cpts(&new, at(n)).await.unwrap();
    let account = NewAccount {
        email: format!("coord{n:05}@example.test"),
        display_name: format!("Coordination {n}"),
        password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${n}")),
        role: Role::Coordinator { cpts: cpts.id },
    };
    store.create_account(&account, at(n)).await.unwrap();
}

fn table_rows(report: &Value, table: &str) -> u64 {
    report["tables"].as_array().unwrap().iter().find(|t| t["table"] == table).unwrap()["rows"].as_u64().unwrap()
}

/// Every row of the restored database is the row of the live one, and the set is a prefix of
/// what the writer wrote: no transaction is half there.
async fn assert_prefix_of(restored: &Store, live: &Store) -> u64 {
    let cpts = restored.list_cpts().await.unwrap();
    let names: Vec<String> = cpts.iter().map(|c| c.name.clone()).collect();
    let expected: Vec<String> = (0..cpts.len()).map(|n| format!("CPTS {n:05}")).collect();
    assert_eq!(names, expected, "the CPTS are a prefix of those written");
    for summary in &cpts {
        let c = restored.get_cpts(&summary.id).await.unwrap();
        assert_eq!(c.communes, codes(), "a territory is whole or absent");
        assert_eq!(c, live.get_cpts(&summary.id).await.unwrap());
    }
    let accounts = restored.list_accounts(None).await.unwrap();
    let k = cpts.len();
    assert!(accounts.len() == k || accounts.len() + 1 == k, "{} accounts for {k} CPTS", accounts.len());
    for (n, account) in accounts.iter().enumerate() {
        assert_eq!(account.email, format!("coord{n:05}@example.test"));
        assert_eq!(account.role.cpts(), Some(&cpts[n].id));
        assert_eq!(account, &live.get_account(&account.id).await.unwrap());
        let creds = restored.account_credentials(&account.email).await.unwrap().unwrap();
        assert_eq!(creds.password_hash, live.account_credentials(&account.email).await.unwrap().unwrap().password_hash);
    }
    k as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_backup_then_restore_into_a_fresh_data_dir() {
    let root = temp_dir("online");
    let live_dir = root.join("live");
    let live = open(&live_dir).await;
    for n in 0..10 {
        write_pair(&live, n).await;
    }

    // A writer keeps going during the backup, as a server would.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(10));
    let writer = tokio::spawn({
        let (live, stop, written) = (live.clone(), stop.clone(), written.clone());
        async move {
            let mut n = 10;
            while !stop.load(Ordering::Relaxed) {
                write_pair(&live, n).await;
                n += 1;
                written.store(n, Ordering::Relaxed);
            }
        }
    });
    while written.load(Ordering::Relaxed) < 30 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let backup = root.join("backup.sqlite");
    let out = maillage_async(vec![
        "backup".into(),
        "--data-dir".into(),
        s(&live_dir),
        "--output".into(),
        s(&backup),
        "--format".into(),
        "json".into(),
    ])
    .await;
    // Let the writer go on a little after the backup, then stop it.
    let after_backup = written.load(Ordering::Relaxed);
    while written.load(Ordering::Relaxed) < after_backup + 5 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let report = json(&out);
    assert_eq!(report["integrity_check"], "ok");
    assert_eq!(report["path"], s(&backup));
    assert!(report["schema_version"].as_i64().unwrap() >= 2);
    assert_eq!(report["bytes"].as_u64().unwrap(), std::fs::metadata(&backup).unwrap().len());
    let in_backup = table_rows(&report, "cpts");
    assert!(in_backup >= 30, "the backup has what was written before it ({in_backup})");
    assert!(in_backup < written.load(Ordering::Relaxed), "and not what was written after");
    assert_eq!(table_rows(&report, "cpts_commune"), 3 * in_backup);

    // Restore into a data directory that does not exist yet.
    let fresh = root.join("fresh");
    let out = maillage(&["restore", &s(&backup), "--data-dir", &s(&fresh), "--format", "json"]);
    let restored_report = json(&out);
    assert_eq!(restored_report["database"], s(&fresh.join("maillage.sqlite")));
    assert!(restored_report["previous"].is_null());
    assert_eq!(table_rows(&restored_report, "cpts"), in_backup);

    let restored = open(&fresh).await;
    assert_eq!(assert_prefix_of(&restored, &live).await, in_backup);
    // The restored database takes writes again.
    write_pair(&restored, in_backup).await;
    restored.close().await;

    // The table output, for a person.
    let backup2 = root.join("backup2.sqlite");
    let out = maillage(&["backup", "--data-dir", &s(&live_dir), "--output", &s(&backup2)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("integrity_check   ok") && text.contains("schema_migrations"), "{text}");
    live.close().await;
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn restore_replaces_only_when_forced_and_never_a_database_in_use() {
    let root = temp_dir("force");
    let (a, b) = (root.join("a"), root.join("b"));
    let store_a = open(&a).await;
    write_pair(&store_a, 0).await;
    store_a.close().await;
    let store_b = open(&b).await;
    for n in 0..3 {
        write_pair(&store_b, n).await;
    }
    let backup_a = root.join("a.sqlite");
    assert!(maillage(&["backup", "--data-dir", &s(&a), "--output", &s(&backup_a)]).status.success());
    let target = b.join("maillage.sqlite");

    // Without --force: refused, nothing changes. (The file is only stat'ed here: opening and
    // closing it in this process would drop the POSIX locks of the store's connections.)
    let stat = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.len(), m.modified().unwrap())
    };
    let before = stat(&target);
    let out = maillage(&["restore", &s(&backup_a), "--data-dir", &s(&b)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists") && stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(stat(&target), before);

    // Forced, while a server (here: this store) has it open: refused.
    let out = maillage(&["restore", &s(&backup_a), "--data-dir", &s(&b), "--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("in use") && stderr(&out).contains("stop the server"), "{}", stderr(&out));
    assert_eq!(store_b.list_cpts().await.unwrap().len(), 3, "the open database is untouched");
    assert_eq!(stat(&target), before);
    store_b.close().await;

    // Forced, stopped: replaced, and the old database kept whole beside it.
    let out =
        maillage(&["restore", &s(&backup_a), "--database-url", &format!("sqlite:{}", target.display()), "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("kept as"), "{text}");
    let kept: Vec<PathBuf> = std::fs::read_dir(&b)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("maillage.sqlite.before-restore-") && !name.ends_with("-shm") && !name.ends_with("-wal")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let names: Vec<String> =
        std::fs::read_dir(&b).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| !n.ends_with("-wal") || n.contains("before-restore")), "no stale -wal: {names:?}");
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "no temporary file left: {names:?}");

    let restored = open(&b).await;
    assert_eq!(restored.list_cpts().await.unwrap().len(), 1);
    restored.close().await;
    let old = connect(&format!("sqlite:{}", kept[0].display())).await.unwrap();
    assert_eq!(old.list_cpts().await.unwrap().len(), 3, "the replaced database is whole");
    old.close().await;
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn damaged_or_foreign_files_are_refused_and_change_nothing() {
    let root = temp_dir("damaged");
    let live_dir = root.join("live");
    let live = open(&live_dir).await;
    for n in 0..40 {
        write_pair(&live, n).await;
    }
    live.close().await;
    let good = root.join("good.sqlite");
    assert!(maillage(&["backup", "--data-dir", &s(&live_dir), "--output", &s(&good)]).status.success());

    let garbage = root.join("garbage.sqlite");
    std::fs::write(&garbage, "this is a spreadsheet, not a database\n".repeat(200)).unwrap();
    let empty = root.join("empty.sqlite");
    std::fs::write(&empty, "").unwrap();
    // A real backup with pages overwritten in its middle.
    let mut bytes = std::fs::read(&good).unwrap();
    let page = 4096;
    assert!(bytes.len() > 4 * page, "{} bytes", bytes.len());
    let middle = bytes.len() / 2 / page * page;
    bytes[middle..middle + 2 * page].fill(0x5a);
    let corrupt = root.join("corrupt.sqlite");
    std::fs::write(&corrupt, &bytes).unwrap();
    let missing = root.join("missing.sqlite");

    // SQLite's own -wal/-shm files may come and go as the store's connections finish closing:
    // what counts is that the restore leaves nothing of its own and the data stays.
    let listing = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
            .collect();
        names.sort();
        names
    };
    let cases: [(&Path, &[&str]); 4] = [
        (&garbage, &["is not an SQLite database"]),
        (&empty, &["is not an SQLite database"]),
        (&corrupt, &["corrupt"]),
        (&missing, &["no backup file at"]),
    ];
    for (file, reasons) in cases {
        // Into a fresh data directory: not even the directory appears.
        let fresh = root.join("fresh");
        let out = maillage(&["restore", &s(file), "--data-dir", &s(&fresh)]);
        assert_eq!(out.status.code(), Some(1), "{file:?}");
        let err = stderr(&out);
        assert!(reasons.iter().all(|r| err.contains(r)), "{file:?}: {err}");
        assert!(err.contains(&s(file)), "the file is named: {err}");
        assert!(!fresh.exists(), "{file:?}");
        // Over an existing database, even forced: it stays as it was.
        let out = maillage(&["restore", &s(file), "--data-dir", &s(&live_dir), "--force", "--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "{file:?}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(listing(&live_dir), ["maillage.sqlite"], "nothing beside the database");
    }
    let live = open(&live_dir).await;
    assert_eq!(live.list_cpts().await.unwrap().len(), 40, "the database is as it was");
    live.close().await;

    // The whole backup still restores.
    let out = maillage(&["restore", &s(&good), "--data-dir", &s(&root.join("fresh"))]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn backup_refusals() {
    let root = temp_dir("refusals");
    let live_dir = root.join("live");
    open(&live_dir).await.close().await;
    let dest = root.join("taken.sqlite");
    std::fs::write(&dest, "something precious").unwrap();
    let out = maillage(&["backup", "--data-dir", &s(&live_dir), "--output", &s(&dest)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "something precious");

    // No database: nothing is created.
    let nowhere = root.join("nowhere");
    let out = maillage(&["backup", "--data-dir", &s(&nowhere), "--output", &s(&root.join("x.sqlite"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no database at"), "{}", stderr(&out));
    assert!(!nowhere.exists() && !root.join("x.sqlite").exists());

    // The data directory also comes from the environment, as for `maillage serve`.
    let from_env = root.join("env.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["backup", "--output", &s(&from_env)])
        .env("MAILLAGE_DATA_DIR", &live_dir)
        .env_remove("MAILLAGE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(from_env.exists());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn postgres_is_refused_with_the_documented_procedure() {
    let url = "postgres://maillage@127.0.0.1:9/maillage";
    let out = maillage(&["backup", "--database-url", url, "--output", "/nonexistent/pg.backup"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("use pg_dump: see docs/operations.md"), "{}", stderr(&out));
    let out = maillage(&["restore", "/nonexistent/pg.backup", "--database-url", url, "--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("use pg_dump: see docs/operations.md"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(maillage(&["restore"]).status.code(), Some(2));
    assert_eq!(maillage(&["backup"]).status.code(), Some(2));
    let out = maillage(&["backup", "--database-url", "mysql://h/db", "--output", "/nonexistent/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("mysql"), "{}", stderr(&out));
    let out = maillage(&["backup", "--database-url", "sqlite::memory:", "--output", "/nonexistent/x"]);
    assert_eq!(out.status.code(), Some(2));
}
