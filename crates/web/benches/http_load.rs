//! HTTP load on loopback: the Maillage server against a bare axum handler (the peer baseline).
//!
//! ```sh
//! cargo bench -p maillage-web --bench http_load
//! ```
//!
//! Servers run in this process, on 127.0.0.1: (a) a bare axum "hello" handler, (b) Maillage on
//! SQLite, (c) Maillage on PostgreSQL when `MAILLAGE_TEST_POSTGRES_URL` is set (skipped
//! otherwise). Maillage is seeded with a CPTS of 30 communes around Blois and its accounts; the
//! coordinator logs in once through the login form (session cookie) and creates an API token
//! through the API. The load generator opens `HTTP_LOAD_CONCURRENCY` keep-alive connections
//! (one client each) that issue `HTTP_LOAD_REQUESTS` requests per target in total, stopping at
//! `HTTP_LOAD_MAX_SECONDS` per target in any case; every latency is the time from sending the
//! request to the end of the body. Any non-2xx answer or transport error counts as an error.
//! `GET /healthz` (no authentication, one `SELECT 1`) is measured too, as a diagnostic: what
//! the Maillage stack costs before authentication and the page's own queries. The national
//! plan's map pages come last (issue 8: p99 under 50 ms): the national registry is the
//! synthetic one of the demo (about 800 CPTS on the real communes), a national observer loads
//! `GET /national` (registry read, coverage recomputed, map of the départements drawn) and a
//! regional observer `GET /region/24` (the same, and the map of the région's communes).
//!
//! Load generator and servers share the machine (and one Tokio runtime): on a 2-core machine
//! the figures are those of the whole loop, and the ratios to the bare handler are what matters.

use chrono::{DateTime, Utc};
use maillage_core::access::{Agency, Role};
use maillage_core::ids::InseeCode;
use maillage_core::national::{NationalIndex, SynthParams, generate};
use maillage_core::refdata::{CommuneKind, Reference};
use maillage_store::{AccountStore, AuditEvent, CptsStore, NationalStore, NewAccount, NewCpts, Store};
use maillage_web::clock::{Clock, SystemClock};
use maillage_web::{AppState, Settings};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const PASSWORD: &str = "http load password, long enough";
const COORDINATOR: &str = "coordination@blaisois.bench.maillage";
const NATIONAL: &str = "observatoire@bench.maillage";
const REGIONAL: &str = "ars-centre@bench.maillage";
const TERRITORY_SIZE: usize = 30;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|v| *v > 0).unwrap_or(default)
}

#[derive(Clone, Copy)]
struct Load {
    concurrency: usize,
    requests: usize,
    cap: Duration,
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let load = Load {
        concurrency: usize::try_from(env_or("HTTP_LOAD_CONCURRENCY", 16)).unwrap(),
        requests: usize::try_from(env_or("HTTP_LOAD_REQUESTS", 5_000)).unwrap(),
        cap: Duration::from_secs(env_or("HTTP_LOAD_MAX_SECONDS", 20)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(load));
}

async fn run(load: Load) {
    println!(
        "http_load: {} connections, {} requests per target, at most {} s per target, {} worker threads",
        load.concurrency,
        load.requests,
        load.cap.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results = Vec::new();

    let bare = BareServer::start().await;
    results.push(measure("GET /hello", "bare axum", &bare.url("/hello"), None, load).await);
    bare.stop().await;

    let mut engines = vec![("sqlite", sqlite_url())];
    match std::env::var("MAILLAGE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => engines.push(("postgres", postgres_url(&url).await)),
        _ => println!("http_load: MAILLAGE_TEST_POSTGRES_URL is not set, PostgreSQL skipped"),
    }
    for (engine, url) in engines {
        let app = MaillageServer::start(&url).await;
        let (cookie, token) = app.log_in_and_create_token().await;
        let home = format!("/cpts/{}", app.cpts_id);
        check_home(&app.url(&home), &cookie).await;
        check_list(&app.url("/api/v1/cpts"), &token).await;
        results.push(measure(&format!("GET {}", "/cpts/{id}"), engine, &app.url(&home), Some(&cookie), load).await);
        let bearer = format!("Bearer {token}");
        results.push(measure("GET /api/v1/cpts", engine, &app.url("/api/v1/cpts"), Some(&bearer), load).await);
        // Diagnostic: the same stack and one database round trip, without authentication.
        results.push(measure("GET /healthz", engine, &app.url("/healthz"), None, load).await);
        // The national plan's map pages: the registry read, coverage recomputed, map drawn.
        let national = app.log_in(NATIONAL).await;
        check_page(&app.url("/national"), &national, "carte-nationale").await;
        results.push(measure("GET /national", engine, &app.url("/national"), Some(&national), load).await);
        let regional = app.log_in(REGIONAL).await;
        check_page(&app.url("/region/24"), &regional, "carte-region").await;
        results.push(measure("GET /region/24", engine, &app.url("/region/24"), Some(&regional), load).await);
        app.stop().await;
        remove_database(&url).await;
    }
    print_table(&results);
}

/// Removes what [`sqlite_url`] or [`postgres_url`] created.
async fn remove_database(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite:") {
        if let Some(dir) = std::path::Path::new(path).parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    } else if let (Ok(admin_url), Some((_, name))) = (std::env::var("MAILLAGE_TEST_POSTGRES_URL"), url.rsplit_once('/'))
    {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&admin_url)
            .await
            .unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
        admin.close().await;
    }
}

/// A fresh SQLite file in a temporary directory.
fn sqlite_url() -> String {
    let dir = std::env::temp_dir().join(format!("maillage-http-load-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite:{}", dir.join("maillage.sqlite").display())
}

/// A fresh database on the given PostgreSQL server.
async fn postgres_url(admin_url: &str) -> String {
    let name = format!("maillage_http_load_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect(admin_url)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A server task and the means to stop it.
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        // Keep-alive connections are gone with their clients; do not wait forever anyway.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

struct BareServer(Running);

impl BareServer {
    async fn start() -> BareServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        BareServer(Running { addr, stop, task })
    }

    fn url(&self, path: &str) -> String {
        self.0.url(path)
    }

    async fn stop(self) {
        self.0.stop().await;
    }
}

struct MaillageServer {
    running: Running,
    store: Store,
    cpts_id: String,
}

/// `TERRITORY_SIZE` communes of Loir-et-Cher around Blois, nearest first (breadth-first over
/// shared borders).
fn blois_territory(reference: &Reference) -> Vec<InseeCode> {
    let communes = reference.communes();
    let start = reference.index_of("41018").unwrap();
    let mut seen = vec![start];
    let mut queue = VecDeque::from([start]);
    let mut out = Vec::new();
    while let Some(i) = queue.pop_front() {
        let c = &communes[i as usize];
        out.push(c.code);
        if out.len() == TERRITORY_SIZE {
            break;
        }
        for &n in &c.neighbours {
            let m = &communes[n as usize];
            if !seen.contains(&n) && m.departement == "41" && m.kind == CommuneKind::Commune {
                seen.push(n);
                queue.push_back(n);
            }
        }
    }
    assert_eq!(out.len(), TERRITORY_SIZE);
    out
}

/// The synthetic national registry (about 800 CPTS on the real communes), as the demo has it.
async fn seed_national_registry(store: &Store, now: DateTime<Utc>) {
    let index = NationalIndex::new(Reference::embedded());
    let registry = generate(&index, &SynthParams { until: now.date_naive(), ..SynthParams::default() });
    let audit = AuditEvent {
        cpts_id: None,
        id: uuid::Uuid::new_v4().to_string(),
        at: now,
        account_id: None,
        account_label: "http_load".into(),
        role: "system".into(),
        action: "update".into(),
        object_type: "national_registry".into(),
        object_id: String::new(),
        request_id: "http_load".into(),
        detail: format!("{} CPTS", registry.len()),
    };
    store.replace_national_registry(&registry, &audit).await.unwrap();
    println!("http_load: national registry of {} CPTS", registry.len());
}

impl MaillageServer {
    async fn start(database_url: &str) -> MaillageServer {
        let store = maillage_store::connect(database_url).await.unwrap();
        let now: DateTime<Utc> = SystemClock.now();
        let communes = blois_territory(Reference::embedded());
        let cpts = store.create_cpts(&NewCpts { name: "CPTS du Blaisois".into(), communes }, now).await.unwrap().id;
        let hash = maillage_web::auth::secrets::hash_password(PASSWORD.into()).await.unwrap();
        let mut people = vec![
            ("admin@bench.maillage".to_owned(), Role::PlatformAdmin),
            (NATIONAL.to_owned(), Role::NationalObserver),
            (REGIONAL.to_owned(), Role::RegionalObserver { agency: Agency::Ars, region: "24".into() }),
            (COORDINATOR.to_owned(), Role::Coordinator { cpts: cpts.clone() }),
            ("bureau@blaisois.bench.maillage".to_owned(), Role::BoardMember { cpts: cpts.clone() }),
        ];
        for n in 0..12 {
            people.push((
                format!("membre{n:02}@blaisois.bench.maillage"),
                Role::MemberProfessional { cpts: cpts.clone() },
            ));
        }
        for (email, role) in people {
            let new = NewAccount {
                display_name: format!("Personne {email}"),
                email,
                password_hash: Some(hash.clone()),
                role,
            };
            store.create_account(&new, now).await.unwrap();
        }
        seed_national_registry(&store, now).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let settings = Settings { public_url: format!("http://{addr}"), ..Settings::default() };
        let state = AppState::new(store.clone(), settings, Arc::new(SystemClock));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            maillage_web::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        MaillageServer { running: Running { addr, stop, task }, store, cpts_id: cpts.to_string() }
    }

    fn url(&self, path: &str) -> String {
        self.running.url(path)
    }

    /// Logs `email` in through the form; the `Cookie` header value of the session.
    async fn log_in(&self, email: &str) -> String {
        let client = plain_client();
        let page = client.get(self.url("/connexion")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let pre_login = cookie_value(page.headers(), "maillage_csrf").expect("pre-login CSRF cookie");
        let csrf = csrf_in(&page.text().await.unwrap()).expect("CSRF field on /connexion");
        let response = client
            .post(self.url("/connexion"))
            .header("cookie", format!("maillage_csrf={pre_login}"))
            .form(&[("csrf", csrf.as_str()), ("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "login");
        let session = cookie_value(response.headers(), "maillage_session").expect("session cookie");
        format!("maillage_session={session}")
    }

    /// Logs the coordinator in through the form, then creates an API token with the session.
    /// Returns the `Cookie` header value of the session and the token.
    async fn log_in_and_create_token(&self) -> (String, String) {
        let client = plain_client();
        let cookie = self.log_in(COORDINATOR).await;
        // The session's CSRF token, from any logged-in page's forms.
        let home =
            client.get(self.url(&format!("/cpts/{}", self.cpts_id))).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(home.status(), 200);
        let csrf = csrf_in(&home.text().await.unwrap()).expect("CSRF field on the CPTS page");
        let response = client
            .post(self.url("/api/v1/tokens"))
            .header("cookie", &cookie)
            .header("x-csrf-token", csrf)
            .json(&serde_json::json!({"name": "http_load"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "token creation");
        let body: serde_json::Value = response.json().await.unwrap();
        (cookie, body["token"].as_str().unwrap().to_owned())
    }

    async fn stop(self) {
        self.running.stop().await;
        self.store.close().await;
    }
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap()
}

fn cookie_value(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers.get_all(reqwest::header::SET_COOKIE).iter().find_map(|v| {
        let first = v.to_str().ok()?.split(';').next()?;
        let (k, value) = first.split_once('=')?;
        (k.trim() == name).then(|| value.trim().to_owned())
    })
}

fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker)? + marker.len();
    Some(html[at..].split('"').next()?.to_owned())
}

/// The page is the real one: HTML with the SVG map of the territory.
async fn check_home(url: &str, cookie: &str) {
    let response = plain_client().get(url).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<svg"), "the CPTS page has its map");
    println!("http_load: /cpts/{{id}} is {} bytes of HTML", html.len());
}

/// A map page: 200, with its map.
async fn check_page(url: &str, cookie: &str, map_id: &str) {
    let response = plain_client().get(url).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let html = response.text().await.unwrap();
    assert!(html.contains(map_id), "{url} has its map");
    println!("http_load: {url} is {} bytes of HTML", html.len());
}

async fn check_list(url: &str, token: &str) {
    let response = plain_client().get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let rows: Vec<serde_json::Value> = response.json().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["communes"], TERRITORY_SIZE);
}

struct Outcome {
    target: String,
    server: String,
    latencies: Vec<Duration>,
    errors: usize,
    /// Status (0: transport error) → count, with one example.
    error_kinds: BTreeMap<u16, (usize, String)>,
    elapsed: Duration,
    capped: bool,
}

impl Outcome {
    fn requests(&self) -> usize {
        self.latencies.len()
    }

    fn throughput(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile of the sorted latencies.
    fn percentile(&self, p: f64) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.latencies[rank.clamp(1, n) - 1]
    }

    fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

#[derive(Default)]
struct Worker {
    latencies: Vec<Duration>,
    errors: BTreeMap<u16, (usize, String)>,
}

/// `load.requests` GETs of `url` over `load.concurrency` connections, stopped at `load.cap`.
/// `auth` is the value of the `Cookie` header, or of `Authorization` when it starts with
/// "Bearer ".
async fn measure(target: &str, server: &str, url: &str, auth: Option<&str>, load: Load) -> Outcome {
    let header = auth.map(|a| {
        if a.starts_with("Bearer ") {
            (reqwest::header::AUTHORIZATION, a.to_owned())
        } else {
            (reqwest::header::COOKIE, a.to_owned())
        }
    });
    // One client per connection: each keeps exactly one keep-alive connection.
    let clients: Vec<reqwest::Client> = (0..load.concurrency)
        .map(|_| {
            reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(REQUEST_TIMEOUT)
                .pool_max_idle_per_host(1)
                .build()
                .unwrap()
        })
        .collect();
    // Warm-up, unmeasured: one request per connection opens it.
    for client in &clients {
        let mut request = client.get(url);
        if let Some((name, value)) = &header {
            request = request.header(name, value);
        }
        if let Ok(response) = request.send().await {
            let _ = response.bytes().await;
        }
    }
    let tickets = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + load.cap;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let (url, header, tickets) = (url.to_owned(), header.clone(), tickets.clone());
            let total = load.requests;
            tokio::spawn(async move {
                let mut worker = Worker { latencies: Vec::with_capacity(total / 8 + 1), ..Worker::default() };
                while tickets.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                    let mut request = client.get(&url);
                    if let Some((name, value)) = &header {
                        request = request.header(name, value);
                    }
                    let sent = Instant::now();
                    let answer = match request.send().await {
                        Ok(response) => {
                            let status = response.status();
                            match response.bytes().await {
                                Ok(_) if status.is_success() => Ok(()),
                                Ok(body) => {
                                    Err((status.as_u16(), String::from_utf8_lossy(&body).chars().take(200).collect()))
                                }
                                Err(e) => Err((0, e.to_string())),
                            }
                        }
                        Err(e) => Err((0, e.to_string())),
                    };
                    worker.latencies.push(sent.elapsed());
                    if let Err((status, example)) = answer {
                        worker.errors.entry(status).or_insert((0, example)).0 += 1;
                    }
                }
                worker
            })
        })
        .collect();
    let mut outcome = Outcome {
        target: target.to_owned(),
        server: server.to_owned(),
        latencies: Vec::with_capacity(load.requests),
        errors: 0,
        error_kinds: BTreeMap::new(),
        elapsed: Duration::ZERO,
        capped: false,
    };
    for task in tasks {
        // Every request has its own timeout: a worker ends by the cap plus one timeout.
        let worker = tokio::time::timeout(load.cap + REQUEST_TIMEOUT * 2, task).await.expect("worker ends").unwrap();
        outcome.latencies.extend(worker.latencies);
        for (status, (count, example)) in worker.errors {
            outcome.errors += count;
            outcome.error_kinds.entry(status).or_insert((0, example)).0 += count;
        }
    }
    outcome.elapsed = start.elapsed();
    outcome.capped = outcome.latencies.len() < load.requests;
    outcome.latencies.sort_unstable();
    println!(
        "http_load: {:<18} {:<9} {} requests in {:.2} s{}",
        outcome.target,
        outcome.server,
        outcome.requests(),
        outcome.elapsed.as_secs_f64(),
        if outcome.capped { " (stopped by the time cap)" } else { "" }
    );
    for (status, (count, example)) in &outcome.error_kinds {
        let what = if *status == 0 { "transport error".to_owned() } else { format!("HTTP {status}") };
        println!("http_load:   {count} × {what}, e.g. {example}");
    }
    outcome
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn print_table(results: &[Outcome]) {
    let bare = &results[0];
    println!();
    println!(
        "| target | server | requests | errors | throughput (req/s) | p50 | p99 | max | p50 ÷ bare | throughput ÷ bare |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let p50_ratio = r.percentile(50.0).as_secs_f64() / bare.percentile(50.0).as_secs_f64();
        let tp_ratio = r.throughput() / bare.throughput();
        println!(
            "| {} | {} | {}{} | {} | {:.0} | {} | {} | {} | {:.1}× | {:.3} |",
            r.target,
            r.server,
            r.requests(),
            if r.capped { " (time cap)" } else { "" },
            r.errors,
            r.throughput(),
            ms(r.percentile(50.0)),
            ms(r.percentile(99.0)),
            ms(r.max()),
            p50_ratio,
            tp_ratio,
        );
    }
    let errors: usize = results.iter().map(|r| r.errors).sum();
    if errors > 0 {
        println!("\nhttp_load: {errors} requests failed (see above): every request must succeed");
        std::process::exit(1);
    }
}
