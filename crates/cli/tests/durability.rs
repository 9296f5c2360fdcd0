//! Acknowledged writes survive `kill -9`.
//!
//! The real `maillage serve` binary runs on a fresh database (SQLite in a fresh data directory;
//! then a fresh PostgreSQL database when `MAILLAGE_TEST_POSTGRES_URL` is set, which CI must do).
//! An administrator and an API token are bootstrapped with `maillage admin`; several writers
//! create distinct CPTS through the JSON API and note every name answered with 201. While they
//! write, the server is killed with SIGKILL, then started again on the same database: every
//! acknowledged CPTS must be there, whole, with its audit event.
//!
//! Everything is bounded: each writer stops at its first transport error, after a fixed number
//! of requests or at the end of the write window; every command, request and wait has a timeout.
//!
//! This is a crash of the process, not of the machine: what the kernel has accepted survives
//! it even without `fsync`, so the test proves that nothing is acknowledged before its commit,
//! not that `synchronous = FULL` holds through a power loss.
//!
//! Unix only: `Child::kill` sends SIGKILL there.
#![cfg(unix)]

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ADMIN_EMAIL: &str = "admin@durability.test.maillage";
const PASSWORD: &str = "durability password, twelve+";
/// Three neighbouring communes around Blois: a CPTS is whole when it has all three.
const COMMUNES: [&str; 3] = ["41018", "41295", "41047"];

const WRITERS: usize = 8;
/// Writers stop at the end of this window at the latest (they stop earlier, at the kill).
const WRITE_WINDOW: Duration = Duration::from_millis(2_800);
/// The kill comes at a random point of this interval after the writers start.
const KILL_BETWEEN: (u64, u64) = (1_000, 1_800);
const MAX_REQUESTS_PER_WRITER: usize = 5_000;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const LIST_TIMEOUT: Duration = Duration::from_secs(60);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

/// Variables of the operator's environment that would change what the server does.
const SERVER_ENV: [&str; 9] = [
    "MAILLAGE_LISTEN",
    "MAILLAGE_DATA_DIR",
    "MAILLAGE_DATABASE_URL",
    "MAILLAGE_CONFIG",
    "MAILLAGE_PUBLIC_URL",
    "MAILLAGE_OIDC_ISSUER",
    "MAILLAGE_OIDC_CLIENT_ID",
    "MAILLAGE_OIDC_CLIENT_SECRET",
    "MAILLAGE_OIDC_DISCOVERY_URL",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn label(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// SQLite always; PostgreSQL when a server is given (required under CI).
fn engines() -> Vec<Engine> {
    match std::env::var("MAILLAGE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => vec![Engine::Sqlite, Engine::Postgres],
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI must set MAILLAGE_TEST_POSTGRES_URL: the durability test runs on both engines")
        }
        _ => {
            println!("durability: MAILLAGE_TEST_POSTGRES_URL is not set, PostgreSQL skipped");
            vec![Engine::Sqlite]
        }
    }
}

/// One fresh database and the directory for its data, logs and command outputs.
struct Database {
    engine: Engine,
    dir: PathBuf,
    /// `None` for SQLite: the server's default, `DIR/maillage.sqlite`.
    url: Option<String>,
    /// PostgreSQL: the maintenance URL and the database's name, to drop it afterwards.
    postgres: Option<(String, String)>,
}

impl Database {
    async fn fresh(engine: Engine) -> Database {
        let dir = std::env::temp_dir().join(format!(
            "maillage-durability-{}-{}-{}",
            engine.label(),
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        match engine {
            Engine::Sqlite => Database { engine, dir, url: None, postgres: None },
            Engine::Postgres => {
                let admin_url = std::env::var("MAILLAGE_TEST_POSTGRES_URL").unwrap();
                let name = format!("maillage_durability_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(&admin_url)
                    .await
                    .unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
                admin.close().await;
                let (base, _) = admin_url.rsplit_once('/').unwrap();
                let url = format!("{base}/{name}");
                Database { engine, dir, url: Some(url), postgres: Some((admin_url, name)) }
            }
        }
    }

    /// `--data-dir DIR [--database-url URL]`
    fn args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".to_owned(), self.dir.join("data").display().to_string()];
        if let Some(url) = &self.url {
            args.extend(["--database-url".to_owned(), url.clone()]);
        }
        args
    }

    async fn remove(self) {
        if let Some((admin_url, name)) = &self.postgres {
            let admin = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect(admin_url)
                .await
                .unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
            admin.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn maillage() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maillage"));
    for name in SERVER_ENV {
        command.env_remove(name);
    }
    command.env("RUST_LOG", "info,sqlx=warn");
    command
}

/// Runs `maillage ARGS` with `stdin`, killed after [`COMMAND_TIMEOUT`]; returns stdout.
async fn run_admin(db: &Database, args: &[&str], stdin: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let (out_path, err_path) = (db.dir.join(format!("command-{n}.out")), db.dir.join(format!("command-{n}.err")));
    let input_path = db.dir.join(format!("command-{n}.in"));
    std::fs::write(&input_path, stdin).unwrap();
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend(db.args());
    let mut child = maillage()
        .args(&all)
        .stdin(File::open(&input_path).unwrap())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("maillage starts");
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("maillage {} took more than {COMMAND_TIMEOUT:?}", args.join(" "));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        status.success(),
        "maillage {} failed ({status}): {}",
        args.join(" "),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    stdout
}

/// A running `maillage serve`, killed when dropped (a failing test leaves no server behind).
struct Server {
    child: Option<Child>,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts the server on a free port and waits until `/healthz` answers 200.
    async fn start(db: &Database, run: &str) -> Server {
        let client = client();
        for attempt in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let log = db.dir.join(format!("server-{run}-{attempt}.log"));
            let listen = format!("127.0.0.1:{port}");
            let mut args = vec!["serve".to_owned(), "--listen".to_owned(), listen.clone()];
            args.extend(db.args());
            let file = File::create(&log).unwrap();
            let child = maillage()
                .args(&args)
                .stdin(Stdio::null())
                .stderr(file.try_clone().unwrap())
                .stdout(file)
                .spawn()
                .expect("maillage serve starts");
            let mut server = Server { child: Some(child), base: format!("http://{listen}"), log };
            let deadline = Instant::now() + STARTUP_TIMEOUT;
            loop {
                if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                    // Most likely the port was taken between our probe and the bind: retry.
                    println!("durability: server exited at start ({status}): {}", server.log_text());
                    server.child = None;
                    break;
                }
                let health =
                    client.get(format!("{}/healthz", server.base)).timeout(Duration::from_secs(2)).send().await;
                if matches!(health, Ok(ref r) if r.status() == 200) {
                    return server;
                }
                assert!(Instant::now() < deadline, "server not ready after {STARTUP_TIMEOUT:?}: {}", server.log_text());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("the server did not start in three attempts");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (`Child::kill` on unix), then reaps the process.
    fn kill9(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server running");
        child.kill().expect("SIGKILL sent");
        child.wait().expect("server reaped")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// What one writer saw.
#[derive(Default)]
struct WriterLog {
    /// Answered 201: these must survive.
    acknowledged: Vec<String>,
    /// Sent, no answer (in flight at the kill, or refused connection after it).
    unacknowledged: Vec<String>,
    /// Answered, but not with 201: (name, status, body).
    refused: Vec<(String, u16, String)>,
    /// Transport errors before the kill (a server problem, not the kill).
    errors_before_kill: Vec<String>,
}

async fn writer(
    base: String,
    token: String,
    label: String,
    w: usize,
    deadline: Instant,
    killed: Arc<AtomicBool>,
) -> WriterLog {
    let client = client();
    let mut log = WriterLog::default();
    for n in 0..MAX_REQUESTS_PER_WRITER {
        if Instant::now() >= deadline {
            break;
        }
        let name = format!("CPTS durabilité {label} w{w} n{n:05}");
        let sent = client
            .post(format!("{base}/api/v1/cpts"))
            .bearer_auth(&token)
            .json(&json!({"name": name, "communes": COMMUNES}))
            .send()
            .await;
        match sent {
            // The status line comes after the handler returned: the write was acknowledged,
            // whether or not the body arrives.
            Ok(response) if response.status() == 201 => log.acknowledged.push(name),
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                log.refused.push((name, status, body));
            }
            Err(e) => {
                if !killed.load(Ordering::SeqCst) {
                    log.errors_before_kill.push(format!("{name}: {e}"));
                }
                log.unacknowledged.push(name);
                break;
            }
        }
    }
    log
}

/// Name → commune count, as `GET /api/v1/cpts` lists them.
async fn listed(server: &Server, token: &str) -> BTreeMap<String, u64> {
    let response = client()
        .get(format!("{}/api/v1/cpts", server.base))
        .bearer_auth(token)
        .timeout(LIST_TIMEOUT)
        .send()
        .await
        .expect("GET /api/v1/cpts answers");
    assert_eq!(response.status(), 200, "GET /api/v1/cpts after restart");
    let rows: Vec<Value> = response.json().await.unwrap();
    let mut out = BTreeMap::new();
    for row in &rows {
        let name = row["name"].as_str().unwrap().to_owned();
        let communes = row["communes"].as_u64().unwrap();
        assert!(out.insert(name.clone(), communes).is_none(), "{name:?} listed twice");
    }
    out
}

/// Names of the CPTS with no `create` audit event, read from the database itself (the server
/// is stopped).
async fn cpts_without_audit(db: &Database) -> BTreeSet<String> {
    const SQL: &str = "SELECT c.name FROM cpts c WHERE NOT EXISTS (SELECT 1 FROM audit_event e \
                       WHERE e.object_type = 'cpts' AND e.action = 'create' AND e.object_id = c.id)";
    match db.engine {
        Engine::Sqlite => {
            let url = format!("sqlite:{}", db.dir.join("data").join("maillage.sqlite").display());
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(&url).await.unwrap();
            let names: Vec<String> = sqlx::query_scalar(SQL).fetch_all(&pool).await.unwrap();
            pool.close().await;
            names.into_iter().collect()
        }
        Engine::Postgres => {
            let url = db.url.as_deref().unwrap();
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
            let names: Vec<String> = sqlx::query_scalar(SQL).fetch_all(&pool).await.unwrap();
            pool.close().await;
            names.into_iter().collect()
        }
    }
}

async fn scenario(engine: Engine) {
    let label = engine.label();
    let db = Database::fresh(engine).await;

    // Bootstrap, as an operator does: the first administrator, then a token for scripts.
    run_admin(
        &db,
        &["admin", "create-account", "--email", ADMIN_EMAIL, "--name", "Admin durabilité", "--role", "platform_admin"],
        &format!("{PASSWORD}\n"),
    )
    .await;
    let out = run_admin(
        &db,
        &["--format", "json", "admin", "create-token", "--email", ADMIN_EMAIL, "--name", "durability"],
        "",
    )
    .await;
    let token = serde_json::from_str::<Value>(&out).expect("JSON from create-token")["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    let mut server = Server::start(&db, "first").await;

    let killed = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = start + WRITE_WINDOW;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(writer(server.base.clone(), token.clone(), label.to_owned(), w, deadline, killed.clone()))
        })
        .collect();
    let kill_at = Duration::from_millis(KILL_BETWEEN.0 + rand::random::<u64>() % (KILL_BETWEEN.1 - KILL_BETWEEN.0));
    tokio::time::sleep_until((start + kill_at).into()).await;
    killed.store(true, Ordering::SeqCst);
    let status = server.kill9();
    let killed_after = start.elapsed();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the server died of SIGKILL ({status})");
    }

    let mut logs = Vec::new();
    for handle in writers {
        let log = tokio::time::timeout(REQUEST_TIMEOUT * 2, handle).await.expect("writer stops").unwrap();
        logs.push(log);
    }
    let acknowledged: BTreeSet<String> = logs.iter().flat_map(|l| l.acknowledged.iter().cloned()).collect();
    let unacknowledged: BTreeSet<String> = logs.iter().flat_map(|l| l.unacknowledged.iter().cloned()).collect();
    let refused: Vec<&(String, u16, String)> = logs.iter().flat_map(|l| l.refused.iter()).collect();
    let errors_before_kill: Vec<&String> = logs.iter().flat_map(|l| l.errors_before_kill.iter()).collect();

    let server = Server::start(&db, "restarted").await;
    let listing = Instant::now();
    let present = listed(&server, &token).await;
    let listing = listing.elapsed();
    drop(server);

    let missing: Vec<&String> = acknowledged.iter().filter(|n| !present.contains_key(*n)).collect();
    let in_flight_present: Vec<&String> = unacknowledged.iter().filter(|n| present.contains_key(*n)).collect();
    let refused_present: Vec<&String> =
        refused.iter().map(|(n, _, _)| n).filter(|n| present.contains_key(n.as_str())).collect();
    let unknown: Vec<&String> = present
        .keys()
        .filter(|n| {
            !acknowledged.contains(*n) && !unacknowledged.contains(*n) && !refused.iter().any(|(r, _, _)| r == *n)
        })
        .collect();
    let partial: Vec<(&String, &u64)> = present.iter().filter(|(_, c)| **c != COMMUNES.len() as u64).collect();
    let without_audit = cpts_without_audit(&db).await;
    let acknowledged_without_audit: Vec<&String> = without_audit.iter().filter(|n| acknowledged.contains(*n)).collect();

    println!(
        "durability [{label}]: {WRITERS} writers, SIGKILL after {:.0} ms (planned {} ms); \
         acknowledged {}, present after restart {} (acknowledged present {}, missing {}), \
         in flight without answer {} of which present {}, refused (non-201) {} of which present {}, \
         transport errors before the kill {}, present without a create audit event {}; \
         GET /api/v1/cpts after restart took {:.0} ms",
        killed_after.as_secs_f64() * 1000.0,
        kill_at.as_millis(),
        acknowledged.len(),
        present.len(),
        acknowledged.len() - missing.len(),
        missing.len(),
        unacknowledged.len(),
        in_flight_present.len(),
        refused.len(),
        refused_present.len(),
        errors_before_kill.len(),
        without_audit.len(),
        listing.as_secs_f64() * 1000.0,
    );
    for (name, status, body) in refused.iter().take(5) {
        println!("durability [{label}]: refused {name:?}: {status} {body}");
    }
    for e in errors_before_kill.iter().take(5) {
        println!("durability [{label}]: error before the kill: {e}");
    }
    for name in &without_audit {
        let what = if acknowledged.contains(name) { "acknowledged" } else { "unacknowledged" };
        println!("durability [{label}]: {what} CPTS {name:?} has no create audit event");
    }

    assert!(acknowledged.len() >= WRITERS, "too few writes before the kill to test anything ({})", acknowledged.len());
    assert!(missing.is_empty(), "[{label}] {} acknowledged CPTS lost: {missing:?}", missing.len());
    assert!(partial.is_empty(), "[{label}] CPTS with a partial territory: {partial:?}");
    assert!(unknown.is_empty(), "[{label}] CPTS nobody wrote: {unknown:?}");
    assert!(
        acknowledged_without_audit.is_empty(),
        "[{label}] acknowledged without audit: {acknowledged_without_audit:?}"
    );
    assert!(errors_before_kill.is_empty(), "[{label}] transport errors before the kill: {errors_before_kill:?}");
    assert!(
        refused.is_empty(),
        "[{label}] {} writes refused before the kill, e.g. {:?}",
        refused.len(),
        refused.first()
    );
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    for engine in engines() {
        tokio::time::timeout(SCENARIO_TIMEOUT, scenario(engine))
            .await
            .unwrap_or_else(|_| panic!("the {} scenario took more than {SCENARIO_TIMEOUT:?}", engine.label()));
    }
}
