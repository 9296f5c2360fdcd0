//! HTTP load on loopback: the Maillage server against a bare axum handler (the peer baseline).
//!
//! ```sh
//! cargo bench -p maillage-web --bench http_load
//! MAILLAGE_TEST_POSTGRES_URL=postgres://… HTTP_LOAD_ONLY=booking HTTP_LOAD_BOOKINGS=500 \
//!     cargo bench -p maillage-web --bench http_load
//! ```
//!
//! Servers run in this process, on 127.0.0.1: (a) a bare axum "hello" handler, (b) Maillage on
//! SQLite, (c) Maillage on PostgreSQL when `MAILLAGE_TEST_POSTGRES_URL` is set (skipped
//! otherwise). Maillage is seeded with a CPTS of 30 communes around Blois and its accounts; the
//! coordinator logs in once through the login form (session cookie) and creates an API token
//! through the API. The load generator opens `HTTP_LOAD_CONCURRENCY` keep-alive connections
//! (one client each) that issue `HTTP_LOAD_REQUESTS` requests per target in total, stopping at
//! `HTTP_LOAD_MAX_SECONDS` per target in any case; every latency is the time from sending the
//! request to the end of the body. Any non-2xx answer (but the 409 of the booking contention
//! round below) or transport error counts as an error.
//! `GET /healthz` (no authentication, one `SELECT 1`) is measured too, as a diagnostic: what
//! the Maillage stack costs before authentication and the page's own queries. The national
//! plan's map pages follow (issue 8: p99 under 50 ms): the national registry is the
//! synthetic one of the demo (about 800 CPTS on the real communes), a national observer loads
//! `GET /national` (registry read, coverage recomputed, map of the départements drawn) and a
//! regional observer `GET /region/24` (the same, and the map of the région's communes).
//!
//! Same-day care bookings come after the pages, on each engine (issue: booking throughput and
//! p99 under a bounded load). 300 fictitious professionals (RPPS `1003000nnnn`, GPs at their
//! practice and nurses on home visits, in the territory's communes) are imported into the
//! CPTS's directory and publish through the store (`SnpStore::put_availability`) Monday to
//! Saturday 08:00–12:00 and 14:00–19:00, 20- or 30-minute slots of capacity 1–3: about 40,000
//! slots in the next 7 days. Only slots starting at least an hour from now (real time: the
//! server runs on `SystemClock`) are booked. Then, as the coordinator (the API token):
//! - `POST /api/v1/cpts/{id}/snp/bookings` with the intake of the API tests, each request a
//!   distinct free slot (round robin over the professionals, soonest first),
//!   `HTTP_LOAD_BOOKINGS` requests (default 2,000), at most `HTTP_LOAD_MAX_SECONDS`; each must
//!   answer 201;
//! - contention: every connection books the same 8 slots of capacity 1 at once (ticket `t`
//!   books slot `t / HTTP_LOAD_CONCURRENCY`): exactly one 201 per slot, the others 409 (full),
//!   which is the expected answer there, not an error;
//! - a check read through the store: one stored booking per 201, no slot holding more bookings
//!   than its published capacity, the store's slot loads equal to the bookings counted, each
//!   contended slot booked exactly once (a failed check aborts the bench).
//!
//! `HTTP_LOAD_ONLY=booking` runs the bare handler (the reference of the ratios) and the booking
//! scenario only, without seeding the national registry; `HTTP_LOAD_ONLY=pages` the pages only.
//!
//! Load generator and servers share the machine (and one Tokio runtime): on a 2-core machine
//! the figures are those of the whole loop, and the ratios to the bare handler are what matters.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use maillage_core::access::{Agency, Role};
use maillage_core::directory::model::{
    Address, ExerciseMode, NationalId, PracticePlace, Professional, Specialty, StructureRef,
};
use maillage_core::ids::InseeCode;
use maillage_core::national::{NationalIndex, SynthParams, generate};
use maillage_core::refdata::{Commune, CommuneKind, Reference};
use maillage_core::snp::{
    Audience, AudienceSet, Availability, Place, ProfessionalId, Slot, SlotId, WeeklyRange, expand, paris,
};
use maillage_store::{
    AccountStore, AnnuaireImport, AuditEvent, CptsId, CptsStore, DirectoryStore, NationalStore, NewAccount, NewCpts,
    SnpStore, Store,
};
use maillage_web::clock::{Clock, SystemClock};
use maillage_web::{AppState, Settings};
use std::collections::{BTreeMap, HashMap, VecDeque};
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
    let bookings = usize::try_from(env_or("HTTP_LOAD_BOOKINGS", 2_000)).unwrap();
    let only = match std::env::var("HTTP_LOAD_ONLY").unwrap_or_default().as_str() {
        "" => Only { pages: true, booking: true },
        "pages" => Only { pages: true, booking: false },
        "booking" => Only { pages: false, booking: true },
        other => panic!("HTTP_LOAD_ONLY={other:?}: expected `pages` or `booking`"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(load, bookings, only));
}

/// Which Maillage targets run (the bare handler always does: it is the reference).
#[derive(Clone, Copy)]
struct Only {
    pages: bool,
    booking: bool,
}

async fn run(load: Load, bookings: usize, only: Only) {
    println!(
        "http_load: {} connections, {} requests per target, {} bookings, at most {} s per target, {} worker threads",
        load.concurrency,
        load.requests,
        bookings,
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
        let app = MaillageServer::start(&url, only.pages).await;
        let (cookie, token) = app.log_in_and_create_token().await;
        if only.pages {
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
        }
        if only.booking {
            results.extend(booking_scenario(&app, engine, &token, load, bookings).await);
        }
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
    cpts: CptsId,
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
    /// `national`: seed the synthetic national registry (for the map pages).
    async fn start(database_url: &str, national: bool) -> MaillageServer {
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
        if national {
            seed_national_registry(&store, now).await;
        }
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
        MaillageServer { running: Running { addr, stop, task }, store, cpts_id: cpts.to_string(), cpts }
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

// ---------------------------------------------------------------------------------------------
// Same-day care bookings

/// Fictitious professionals of the directory who publish same-day care slots.
const BOOKING_PROFESSIONALS: usize = 300;
/// Slots that every connection books at once in the contention round (capacity 1 each).
const CONTENDED_SLOTS: usize = 8;
/// Bookings are made from this many minutes after the slots are listed: none starts during the
/// run (the server's clock is the real one).
const SLOT_MARGIN_MINUTES: i64 = 60;
/// How far ahead the slots booked are.
const BOOKING_DAYS: i64 = 7;

/// The `n`-th fictitious professional: a GP (practice) or a nurse (home visits), practising in
/// one of the territory's communes. RPPS `1003000nnnn`.
fn bench_professional(n: usize, commune: &Commune) -> Professional {
    let gp = n.is_multiple_of(2);
    Professional {
        national_id: NationalId::parse(&format!("81003000{n:04}")).unwrap(),
        civility: Some(if gp { "DR" } else { "MME" }.into()),
        family_name: format!("Charge{n:03}"),
        given_name: if gp { "Camille" } else { "Dominique" }.into(),
        profession_code: if gp { "10" } else { "60" }.into(),
        profession_label: Some(if gp { "Médecin" } else { "Infirmier" }.into()),
        specialties: if gp {
            vec![Specialty { kind: "S".into(), code: "SM54".into(), label: "Médecine générale".into() }]
        } else {
            Vec::new()
        },
        places: vec![PracticePlace {
            key: "ST0".into(),
            structure: StructureRef {
                technical_id: Some(format!("STB{n:04}")),
                siret: None,
                finess: None,
                name: Some(format!("Cabinet Charge{n:03}")),
            },
            address: Address {
                line1: Some(format!("{} rue des Essais", n + 1)),
                line2: None,
                postal_code: commune.postal_codes.first().cloned(),
                commune_code: Some(commune.code),
                commune_label: Some(commune.name.clone()),
            },
            phone: Some("0254000000".into()),
            email: None,
            exercise_mode: ExerciseMode::Liberal,
            role: None,
            sector: None,
        }],
    }
}

/// Monday to Saturday, 08:00–12:00 and 14:00–19:00 (Paris time): 20-minute slots at the
/// practice for a GP, 30-minute home visits for a nurse; 1 to 3 patients a slot.
fn bench_availability(n: usize, professional: &Professional, valid_from: NaiveDate) -> Availability {
    let gp = n.is_multiple_of(2);
    // The core names a professional by her RPPS: the national id without its leading `8`.
    let id = ProfessionalId(professional.national_id.national()[1..].parse().unwrap());
    let time = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let mut weekly = Vec::new();
    for weekday in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat] {
        for (start, end) in [(8, 12), (14, 19)] {
            weekly.push(WeeklyRange {
                weekday,
                start: time(start),
                end: time(end),
                slot_minutes: if gp { 20 } else { 30 },
                capacity: u8::try_from(1 + n % 3).unwrap(),
                place: if gp { Place::Cabinet } else { Place::Domicile },
                audiences: AudienceSet::of(&[Audience::Snp, Audience::Cpts]),
                valid_from,
                valid_until: None,
            });
        }
    }
    Availability { professional: id, weekly, one_off: Vec::new(), closures: Vec::new(), cancellations: Vec::new() }
}

fn system_event(
    cpts: Option<&CptsId>,
    now: DateTime<Utc>,
    action: &str,
    object_type: &str,
    detail: String,
) -> AuditEvent {
    AuditEvent {
        cpts_id: cpts.cloned(),
        id: uuid::Uuid::new_v4().to_string(),
        at: now,
        account_id: None,
        account_label: "http_load".into(),
        role: "system".into(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: String::new(),
        request_id: "http_load".into(),
        detail,
    }
}

/// Imports [`BOOKING_PROFESSIONALS`] professionals into the CPTS's directory and publishes
/// their weeks through the store. Returns each one's slots starting in
/// `[now + SLOT_MARGIN_MINUTES, now + BOOKING_DAYS)`, soonest first.
async fn seed_bookable(app: &MaillageServer, now: DateTime<Utc>) -> Vec<Vec<Slot>> {
    let reference = Reference::embedded();
    let communes: Vec<&Commune> =
        blois_territory(reference).iter().map(|c| reference.commune(c.as_str()).unwrap()).collect();
    let professionals: Vec<Professional> =
        (0..BOOKING_PROFESSIONALS).map(|n| bench_professional(n, communes[n % communes.len()])).collect();
    let import = AnnuaireImport {
        id: "http-load".into(),
        source: "annuaire",
        file_name: "PS_LibreAcces_Personne_activite.txt".into(),
        lines_read: professionals.len() as u64,
        professionals: &professionals,
        departement_counts: None,
    };
    let event = system_event(Some(&app.cpts), now, "import", "directory", String::new());
    app.store.apply_import(&app.cpts, &import, now, &event).await.unwrap();
    let valid_from = paris::to_local(now).unwrap().date() - chrono::Duration::days(1);
    let (from, to) = (now + chrono::Duration::minutes(SLOT_MARGIN_MINUTES), now + chrono::Duration::days(BOOKING_DAYS));
    let mut slots = Vec::new();
    for (n, professional) in professionals.iter().enumerate() {
        let availability = bench_availability(n, professional, valid_from);
        let event =
            system_event(Some(&app.cpts), now, "create", "snp_availability", professional.national_id.national());
        app.store.put_availability(&app.cpts, &availability, None, now, &event).await.unwrap();
        slots.push(expand(&availability, from, to).unwrap());
    }
    let count: usize = slots.iter().map(Vec::len).sum();
    let places: usize = slots.iter().flatten().map(|s| usize::from(s.capacity)).sum();
    println!(
        "http_load: {} professionals publish {count} slots ({places} places) starting in the next {BOOKING_DAYS} days",
        professionals.len()
    );
    slots
}

/// `POST /api/v1/cpts/{id}/snp/bookings` as the coordinator (API token): ticket `t` books
/// `slots[t / per_slot]`, with the intake of the API tests.
fn booking_target(
    app: &MaillageServer,
    name: String,
    engine: &str,
    token: &str,
    slots: &[SlotId],
    per_slot: usize,
    expected: &'static [u16],
) -> Target {
    let bodies: Arc<Vec<String>> = Arc::new(
        slots
            .iter()
            .map(|slot| {
                serde_json::json!({
                    "slot": slot.to_string(), "reason": "fievre", "commune": "41018", "phone": "06 12 34 56 78",
                    "referrer": "regulation", "note": "Fièvre depuis hier ; pas de médecin traitant"
                })
                .to_string()
            })
            .collect(),
    );
    let url = app.url(&format!("/api/v1/cpts/{}/snp/bookings", app.cpts_id));
    let healthz = app.url("/healthz");
    let bearer = format!("Bearer {token}");
    Target {
        name,
        server: engine.to_owned(),
        warm_up: Arc::new(move |client| client.get(&healthz)),
        request: Arc::new(move |client, ticket| {
            client
                .post(&url)
                .header(reqwest::header::AUTHORIZATION, &bearer)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bodies[ticket / per_slot].clone())
        }),
        expected,
    }
}

/// The booking scenario on one engine: distinct free slots booked at full speed, then every
/// connection booking the same few capacity-1 slots at once; then the check, read through the
/// store, that no slot is over capacity.
async fn booking_scenario(
    app: &MaillageServer,
    engine: &str,
    token: &str,
    load: Load,
    bookings: usize,
) -> Vec<Outcome> {
    let now = SystemClock.now();
    let mut per_professional = seed_bookable(app, now).await;
    // The contention round's slots: the last slot of the first capacity-1 professionals, kept
    // out of the first round.
    let mut contended = Vec::new();
    for slots in &mut per_professional {
        if contended.len() < CONTENDED_SLOTS && slots.last().is_some_and(|s| s.capacity == 1) {
            contended.push(slots.pop().unwrap().id);
        }
    }
    assert_eq!(contended.len(), CONTENDED_SLOTS);
    // Round robin over the professionals, soonest first: consecutive tickets book different
    // professionals, as an orientation desk's operators would.
    let mut pool = Vec::new();
    let longest = per_professional.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        pool.extend(per_professional.iter().filter_map(|slots| slots.get(k)).map(|s| s.id));
    }
    if pool.len() < bookings {
        println!("http_load: only {} free slots: {} bookings asked", pool.len(), bookings);
    }
    pool.truncate(bookings);

    let mut results = Vec::new();
    let target = booking_target(app, "POST …/snp/bookings".into(), engine, token, &pool, 1, &[]);
    let round = measure_target(&target, Load { requests: pool.len(), ..load }).await;
    println!(
        "http_load: bookings ({engine}): {} made in {:.2} s: {:.0} bookings/s",
        round.successes.len(),
        round.elapsed.as_secs_f64(),
        round.successes.len() as f64 / round.elapsed.as_secs_f64()
    );
    let mut made = round.successes.len();
    results.push(round);

    // Contention: ticket t books contended[t / concurrency], so every connection asks for the
    // same slot at about the same time. Exactly one 201 per slot, the others 409 (full).
    let name = format!("POST …/snp/bookings, {CONTENDED_SLOTS} slots × {}", load.concurrency);
    let target = booking_target(app, name, engine, token, &contended, load.concurrency, &[409]);
    let requests = load.concurrency * CONTENDED_SLOTS;
    let round = measure_target(&target, Load { requests, ..load }).await;
    let mut won = vec![0_usize; CONTENDED_SLOTS];
    for &ticket in &round.successes {
        won[ticket / load.concurrency] += 1;
    }
    let refused = round.expected.get(&409).copied().unwrap_or(0);
    println!(
        "http_load: contention ({engine}): {CONTENDED_SLOTS} slots of capacity 1 × {} connections: {} × 201, {refused} × 409, \
         {} errors; successes per slot {won:?}",
        load.concurrency,
        round.successes.len(),
        round.errors
    );
    assert!(won.iter().all(|&w| w <= 1), "{engine}: a capacity-1 slot was booked twice: {won:?}");
    if !round.capped && round.errors == 0 {
        assert!(won.iter().all(|&w| w == 1), "{engine}: every contended slot is booked once: {won:?}");
        assert_eq!(refused, requests - CONTENDED_SLOTS, "{engine}: the others are told the slot is full");
    }
    made += round.successes.len();
    results.push(round);

    check_capacity(app, engine, now, made, &contended).await;
    results
}

/// Read through the store: the bookings stored are those answered 201; no slot holds more
/// bookings than its published capacity; the slot loads the store keeps agree with the
/// bookings; each contended slot has exactly one booking.
async fn check_capacity(app: &MaillageServer, engine: &str, now: DateTime<Utc>, made: usize, contended: &[SlotId]) {
    let (from, to) = (now - chrono::Duration::hours(1), now + chrono::Duration::days(BOOKING_DAYS + 1));
    let stored = app.store.bookings(&app.cpts, from, to).await.unwrap();
    let mut booked: HashMap<SlotId, u32> = HashMap::new();
    for b in stored.iter().filter(|b| b.cancelled_at.is_none()) {
        *booked.entry(b.slot).or_default() += 1;
    }
    let mut capacity: HashMap<SlotId, u8> = HashMap::new();
    for published in app.store.availabilities(&app.cpts).await.unwrap() {
        capacity.extend(expand(&published.availability, from, to).unwrap().into_iter().map(|s| (s.id, s.capacity)));
    }
    let loads: HashMap<SlotId, u32> = app.store.slot_loads(&app.cpts, from, to).await.unwrap().into_iter().collect();
    let over: Vec<_> = booked.iter().filter(|(id, n)| capacity.get(*id).is_none_or(|c| **n > u32::from(*c))).collect();
    let full = booked.iter().filter(|(id, n)| capacity.get(*id).is_some_and(|c| **n == u32::from(*c))).count();
    assert_eq!(stored.len(), made, "{engine}: one stored booking per 201");
    assert!(over.is_empty(), "{engine}: slots over capacity (or not published): {over:?}");
    assert_eq!(loads, booked, "{engine}: the store's slot loads agree with its bookings");
    for slot in contended {
        assert_eq!(booked.get(slot), Some(&1), "{engine}: contended slot {slot}");
    }
    println!(
        "http_load: check ({engine}, read through the store): {} bookings in {} slots, {full} of them full; \
         none over its capacity; slot loads agree; each of the {} contended slots holds exactly 1 booking: OK",
        stored.len(),
        booked.len(),
        contended.len()
    );
}

struct Outcome {
    target: String,
    server: String,
    latencies: Vec<Duration>,
    errors: usize,
    /// Status (0: transport error) → count, with one example.
    error_kinds: BTreeMap<u16, (usize, String)>,
    /// Non-2xx statuses that are the expected answer of the target (409 on a full slot).
    expected: BTreeMap<u16, usize>,
    /// The tickets answered 2xx.
    successes: Vec<usize>,
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
    expected: BTreeMap<u16, usize>,
    successes: Vec<usize>,
}

/// Builds a request on a connection's client: for ticket `n` (`0..requests`) of the load.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// What a load sends.
struct Target {
    name: String,
    server: String,
    /// Sent once per connection before the clock starts, to open it (unmeasured).
    warm_up: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
    request: MakeRequest,
    /// Non-2xx statuses that are a right answer here (counted apart, not as errors).
    expected: &'static [u16],
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
    let get = {
        let url = url.to_owned();
        move |client: &reqwest::Client| {
            let mut request = client.get(&url);
            if let Some((name, value)) = &header {
                request = request.header(name, value);
            }
            request
        }
    };
    let warm_up = Arc::new(get.clone());
    let target = Target {
        name: target.to_owned(),
        server: server.to_owned(),
        warm_up,
        request: Arc::new(move |client, _| get(client)),
        expected: &[],
    };
    measure_target(&target, load).await
}

/// `load.requests` requests of `target` (tickets `0..load.requests`, handed out in order) over
/// `load.concurrency` keep-alive connections, stopped at `load.cap`.
async fn measure_target(target: &Target, load: Load) -> Outcome {
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
        if let Ok(response) = (target.warm_up)(client).send().await {
            let _ = response.bytes().await;
        }
    }
    let tickets = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + load.cap;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let (make, expected, tickets) = (target.request.clone(), target.expected, tickets.clone());
            let total = load.requests;
            tokio::spawn(async move {
                let mut worker = Worker { latencies: Vec::with_capacity(total / 8 + 1), ..Worker::default() };
                loop {
                    let ticket = tickets.fetch_add(1, Ordering::Relaxed);
                    if ticket >= total || Instant::now() >= deadline {
                        break;
                    }
                    let request = make(&client, ticket);
                    let sent = Instant::now();
                    let answer = match request.send().await {
                        Ok(response) => {
                            let status = response.status();
                            match response.bytes().await {
                                Ok(_) if status.is_success() => Ok(None),
                                Ok(_) if expected.contains(&status.as_u16()) => Ok(Some(status.as_u16())),
                                Ok(body) => {
                                    Err((status.as_u16(), String::from_utf8_lossy(&body).chars().take(200).collect()))
                                }
                                Err(e) => Err((0, e.to_string())),
                            }
                        }
                        Err(e) => Err((0, e.to_string())),
                    };
                    worker.latencies.push(sent.elapsed());
                    match answer {
                        Ok(None) => worker.successes.push(ticket),
                        Ok(Some(status)) => *worker.expected.entry(status).or_default() += 1,
                        Err((status, example)) => worker.errors.entry(status).or_insert((0, example)).0 += 1,
                    }
                }
                worker
            })
        })
        .collect();
    let mut outcome = Outcome {
        target: target.name.clone(),
        server: target.server.clone(),
        latencies: Vec::with_capacity(load.requests),
        errors: 0,
        error_kinds: BTreeMap::new(),
        expected: BTreeMap::new(),
        successes: Vec::new(),
        elapsed: Duration::ZERO,
        capped: false,
    };
    for task in tasks {
        // Every request has its own timeout: a worker ends by the cap plus one timeout.
        let worker = tokio::time::timeout(load.cap + REQUEST_TIMEOUT * 2, task).await.expect("worker ends").unwrap();
        outcome.latencies.extend(worker.latencies);
        outcome.successes.extend(worker.successes);
        for (status, count) in worker.expected {
            *outcome.expected.entry(status).or_default() += count;
        }
        for (status, (count, example)) in worker.errors {
            outcome.errors += count;
            outcome.error_kinds.entry(status).or_insert((0, example)).0 += count;
        }
    }
    outcome.elapsed = start.elapsed();
    outcome.capped = outcome.latencies.len() < load.requests;
    outcome.latencies.sort_unstable();
    outcome.successes.sort_unstable();
    println!(
        "http_load: {:<18} {:<9} {} requests in {:.2} s{}",
        outcome.target,
        outcome.server,
        outcome.requests(),
        outcome.elapsed.as_secs_f64(),
        if outcome.capped { " (stopped by the time cap)" } else { "" }
    );
    for (status, count) in &outcome.expected {
        println!("http_load:   {count} × HTTP {status} (expected here)");
    }
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
