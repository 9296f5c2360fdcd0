//! `spawn_app`: a real server on a free port over a fresh database, seeded with one CPTS per
//! tenant fixture and one account per role; and a cookie-keeping HTTP client per person.

use chrono::{TimeZone, Utc};
use maillage_core::access::{Agency, CptsId, Role};
use maillage_core::ids::InseeCode;
use maillage_store::{AccountStore, CptsStore, NewAccount, NewCpts, Store};
use maillage_web::clock::ManualClock;
use maillage_web::{AppState, Settings};
use std::net::SocketAddr;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The engines this run can test: SQLite always; PostgreSQL when a server is given (required
/// under CI).
pub fn engines() -> Vec<Engine> {
    match std::env::var("MAILLAGE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => vec![Engine::Sqlite, Engine::Postgres],
        _ if std::env::var_os("CI").is_some() => panic!("CI must set MAILLAGE_TEST_POSTGRES_URL (scripts/test does)"),
        _ => vec![Engine::Sqlite],
    }
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database(engine: Engine) -> String {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(format!("maillage-web-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite:{}", dir.join("test.sqlite").display())
        }
        Engine::Postgres => {
            let admin_url = std::env::var("MAILLAGE_TEST_POSTGRES_URL").unwrap();
            let db = format!("maillage_web_{}", uuid::Uuid::new_v4().simple());
            let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {db}")).execute(&admin).await.unwrap();
            admin.close().await;
            let (base, _) = admin_url.rsplit_once('/').unwrap();
            format!("{base}/{db}")
        }
    }
}

/// The fixture: two CPTS in Centre-Val de Loire (région 24) and one in Bretagne (53).
pub struct Fixture {
    pub blaisois: CptsId,
    pub vendomois: CptsId,
    pub rennes: CptsId,
}

/// One account per role, by short name.
pub const PEOPLE: [(&str, &str); 8] = [
    ("admin", "admin@test.maillage"),
    ("national", "national@test.maillage"),
    ("ars-centre", "ars.centre@test.maillage"),
    ("coordinator", "coordination@blaisois.test.maillage"),
    ("board", "bureau@blaisois.test.maillage"),
    ("member", "membre@blaisois.test.maillage"),
    ("coordinator-vendome", "coordination@vendomois.test.maillage"),
    ("coordinator-rennes", "coordination@rennes.test.maillage"),
];

pub fn email(who: &str) -> &'static str {
    PEOPLE.iter().find(|(w, _)| *w == who).map(|(_, e)| *e).unwrap_or_else(|| panic!("no test person {who}"))
}

pub async fn seed(store: &Store) -> Fixture {
    let now = Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap();
    let codes = |l: &[&str]| l.iter().map(|c| InseeCode::parse(c).unwrap()).collect::<Vec<_>>();
    let mk = |name: &str, communes: Vec<InseeCode>| NewCpts { name: name.into(), communes };
    let blaisois =
        store.create_cpts(&mk("CPTS du Blaisois", codes(&["41018", "41295", "41047"])), now).await.unwrap().id;
    let vendomois = store.create_cpts(&mk("CPTS du Vendômois", codes(&["41269"])), now).await.unwrap().id;
    let rennes = store.create_cpts(&mk("CPTS Rennes Nord", codes(&["35238"])), now).await.unwrap().id;
    // One hash for everybody: argon2 is deliberately slow.
    let hash = maillage_web::auth::secrets::hash_password(PASSWORD.into()).await.unwrap();
    let roles = [
        Role::PlatformAdmin,
        Role::NationalObserver,
        Role::RegionalObserver { agency: Agency::Ars, region: "24".into() },
        Role::Coordinator { cpts: blaisois.clone() },
        Role::BoardMember { cpts: blaisois.clone() },
        Role::MemberProfessional { cpts: blaisois.clone() },
        Role::Coordinator { cpts: vendomois.clone() },
        Role::Coordinator { cpts: rennes.clone() },
    ];
    for ((who, email), role) in PEOPLE.iter().zip(roles) {
        let new = NewAccount {
            email: (*email).into(),
            display_name: format!("Personne {who}"),
            password_hash: Some(hash.clone()),
            role,
        };
        store.create_account(&new, now).await.unwrap();
    }
    Fixture { blaisois, vendomois, rennes }
}

pub struct TestApp {
    pub addr: SocketAddr,

    pub clock: Arc<ManualClock>,
    pub fixture: Fixture,
    pub database_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// The CSRF token of a page's first form.
    pub async fn csrf_of(&self, client: &reqwest::Client, path: &str) -> String {
        let html = client.get(self.url(path)).send().await.unwrap().text().await.unwrap();
        csrf_in(&html).unwrap_or_else(|| panic!("no CSRF token on {path}"))
    }

    /// Logs `who` in by the login form; returns the client and where login redirected.
    pub async fn login(&self, who: &str) -> (reqwest::Client, String) {
        let client = self.client();
        let csrf = self.csrf_of(&client, "/connexion").await;
        let response = client
            .post(self.url("/connexion"))
            .form(&[("csrf", csrf.as_str()), ("email", email(who)), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "login of {who}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        (client, location)
    }

    /// Logs `who` in and creates an API token on the session, as the "Mon compte" page does.
    pub async fn api_token(&self, who: &str) -> String {
        let (browser, _) = self.login(who).await;
        let csrf = self.csrf_of(&browser, "/compte").await;
        let created: serde_json::Value = browser
            .post(self.url("/api/v1/tokens"))
            .header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"name": "script"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["token"].as_str().unwrap_or_else(|| panic!("no token for {who}: {created}")).to_owned()
    }

    pub fn cpts(&self, name: &str) -> &CptsId {
        match name {
            "blaisois" => &self.fixture.blaisois,
            "vendomois" => &self.fixture.vendomois,
            "rennes" => &self.fixture.rennes,
            _ => panic!("no CPTS {name}"),
        }
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, Settings::default(), None).await
}

/// A server on `database_url` (a fresh one when `None`), seeded when fresh.
pub async fn spawn_app_with(engine: Engine, settings: Settings, database_url: Option<String>) -> TestApp {
    spawn_full(engine, settings, database_url, None).await
}

/// With an OpenID Connect client. The provider stamps its tokens with the real clock, so the
/// app's clock starts at the real time here.
pub async fn spawn_app_with_oidc(engine: Engine, client: maillage_oidc::OidcClient) -> TestApp {
    spawn_full(engine, Settings::default(), None, Some(client)).await
}

async fn spawn_full(
    engine: Engine,
    mut settings: Settings,
    database_url: Option<String>,
    oidc: Option<maillage_oidc::OidcClient>,
) -> TestApp {
    let fresh = database_url.is_none();
    let database_url = match database_url {
        Some(url) => url,
        None => fresh_database(engine).await,
    };
    let store = maillage_store::connect(&database_url).await.unwrap();
    let fixture = if fresh { seed(&store).await } else { existing_fixture(&store).await };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    if settings.public_url == Settings::default().public_url {
        settings.public_url = format!("http://{addr}");
    }
    #[allow(clippy::disallowed_methods)] // see spawn_app_with_oidc
    let start = if oidc.is_some() { Utc::now() } else { Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap() };
    let clock = Arc::new(ManualClock::new(start));
    let mut state = AppState::new(store, settings, clock.clone());
    if let Some(client) = oidc {
        state = state.with_oidc(client);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    tokio::spawn(async move {
        maillage_web::serve(listener, served, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    TestApp { addr, clock, fixture, database_url, stop: Some(stop) }
}

async fn existing_fixture(store: &Store) -> Fixture {
    let list = store.list_cpts().await.unwrap();
    let id = |name: &str| list.iter().find(|c| c.name == name).unwrap().id.clone();
    Fixture { blaisois: id("CPTS du Blaisois"), vendomois: id("CPTS du Vendômois"), rennes: id("CPTS Rennes Nord") }
}
