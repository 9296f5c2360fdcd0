//! Real-browser tests: headless Chromium driven over WebDriver (chromedriver on a free loopback
//! port, `fantoccini` as the client). A person's paths: typing the login form and clicking, each
//! role's home, navigation and refusals, logging out; the map, the key figures and keyboard
//! access; htmx under the Content-Security-Policy. A full-page PNG of every landing goes to
//! `target/browser-screenshots/<test>-<role>.png`.
//!
//! Chromium and chromedriver are Debian's (`apt-get install chromium chromium-driver`, which
//! `ensure_browser` in scripts/lib/browser.sh runs). When they are missing these tests fail
//! saying so, unless `MAILLAGE_SKIP_BROWSER=1` (never under `CI`). Every wait is bounded, and a
//! whole test too, so a hung browser fails the test instead of blocking the run.

use crate::helpers::*;
use base64::Engine as _;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::key::Key;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for one step: a page load, an element, a redirect, chromedriver's start.
const STEP: Duration = Duration::from_secs(20);
/// Longest run of one whole test.
const WHOLE_TEST: Duration = Duration::from_secs(240);
/// The desktop viewport of the screenshots; the mobile one is 390×844.
const DESKTOP: (u32, u32) = (1280, 900);

/// No sandbox (root in containers), no GPU, and nothing that reaches out to the network: the
/// machine has none, and Chromium's background services would log refused connections.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

const INSTALL_HINT: &str = "install them with `apt-get install chromium chromium-driver` as root \
                            (`ensure_browser` in scripts/lib/browser.sh does it)";

/// A nonexistent CPTS (a well-formed id).
const UNKNOWN_CPTS: &str = "00000000-0000-4000-8000-000000000000";

fn screenshot_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/browser-screenshots")).to_path_buf()
}

// ---------------------------------------------------------------------------------------------
// Tools and processes

struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]).collect();
    names.iter().flat_map(|name| dirs.iter().map(move |dir| dir.join(name))).find(|p| p.is_file())
}

/// The browser and its driver, or `None` when this run may skip the browser tests without them;
/// otherwise a missing tool fails the test with how to install it.
fn tools_or_skip(test: &str) -> Option<Tools> {
    let chromium = find_program(&["chromium", "chromium-browser"]);
    let chromedriver = find_program(&["chromedriver"]);
    if let (Some(chromium), Some(chromedriver)) = (&chromium, &chromedriver) {
        return Some(Tools { chromium: chromium.clone(), chromedriver: chromedriver.clone() });
    }
    let missing: Vec<&str> = [("chromium", chromium.is_none()), ("chromedriver", chromedriver.is_none())]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
    let message = format!("browser test `{test}` needs {} (not found): {INSTALL_HINT}", missing.join(" and "));
    let ci = std::env::var_os("CI").is_some();
    if std::env::var("MAILLAGE_SKIP_BROWSER").as_deref() == Ok("1") {
        if !ci {
            eprintln!("SKIPPED (MAILLAGE_SKIP_BROWSER=1): {message}");
            return None;
        }
        panic!("{message}. MAILLAGE_SKIP_BROWSER=1 is ignored under CI: the browser tests always run there.");
    }
    panic!("{message}; or set MAILLAGE_SKIP_BROWSER=1 to skip the browser tests (outside CI only).");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The chromedriver process and what it started; everything is ended and removed on drop,
/// whether the test passed, panicked or timed out.
struct Driver {
    child: Child,
    port: u16,
    session: Option<String>,
    browser_pid: Option<u64>,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The async WebDriver client cannot run here: end the session by a blocking request,
        // which quits Chromium; kill Chromium by its id only if chromedriver did not answer.
        let ended = match &self.session {
            Some(session) => delete_session_blocking(self.port, session),
            None => true,
        };
        if !ended && let Some(pid) = self.browser_pid {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `DELETE /session/{id}`, with plain blocking I/O and short timeouts. True when chromedriver
/// answered (a session already closed answers 404, which is fine too).
fn delete_session_blocking(port: u16, session: &str) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.")
}

/// `Result<_, CmdError>` with the step named in the panic.
trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T> Must<T> for Result<T, CmdError> {
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("browser: {what}: {e}"))
    }
}

/// Runs a test body within [`WHOLE_TEST`].
async fn bounded(test: &str, body: impl Future<Output = ()>) {
    if tokio::time::timeout(WHOLE_TEST, body).await.is_err() {
        panic!("browser test `{test}` did not finish within {WHOLE_TEST:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// One browser session

struct Browser {
    // Declared first: dropped before the driver it talks to.
    client: Client,
    driver: Driver,
    /// chromedriver's own endpoints (DevTools commands, the browser log).
    http: reqwest::Client,
    base: String,
    test: &'static str,
}

impl Browser {
    /// A fresh Chromium (own profile, own chromedriver) pointed at `app`; `None` when skipped.
    async fn start(test: &'static str, app: &TestApp) -> Option<Browser> {
        let tools = tools_or_skip(test)?;
        // Each step below is bounded too; this bounds their sum. A timeout drops the driver,
        // which ends whatever was started.
        match tokio::time::timeout(3 * STEP, Self::launch(test, app, tools)).await {
            Ok(browser) => Some(browser),
            Err(_) => panic!("browser test `{test}`: Chromium and chromedriver did not start within {:?}", 3 * STEP),
        }
    }

    async fn launch(test: &'static str, app: &TestApp, tools: Tools) -> Browser {
        let port = free_port();
        let profile = std::env::temp_dir().join(format!("maillage-chromium-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).unwrap();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL_HINT}", tools.chromedriver.display()));
        let mut driver = Driver { child, port, session: None, browser_pid: None, profile };
        let http = reqwest::Client::builder().timeout(STEP).build().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&http, &url, &mut driver.child).await;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", driver.profile.display()));
        args.push(format!("--window-size={},{}", DESKTOP.0, DESKTOP.1));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": tools.chromium, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        let connecting = builder.capabilities(capabilities).connect(&url);
        let client = match tokio::time::timeout(STEP, connecting).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("Chromium did not start under chromedriver ({}): {e}", tools.chromium.display()),
            Err(_) => panic!("Chromium did not start within {STEP:?}"),
        };
        driver.session = client.session_id().await.must("session id");
        driver.browser_pid = client.capabilities().and_then(|c| c.get("goog:processID")).and_then(Value::as_u64);
        client
            .update_timeouts(TimeoutConfiguration::new(Some(STEP), Some(STEP), Some(Duration::ZERO)))
            .await
            .must("timeouts");
        let browser = Browser { client, driver, http, base: app.url(""), test };
        browser.viewport(DESKTOP.0, DESKTOP.1, false).await;
        browser
    }

    /// Ends the session cleanly (Drop would do it anyway).
    async fn close(mut self) {
        let client = self.client.clone();
        if tokio::time::timeout(STEP, client.close()).await.is_ok_and(|r| r.is_ok()) {
            self.driver.session = None;
        }
    }

    /// A DevTools command through chromedriver (`goog/cdp/execute`).
    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.driver.session.as_deref().unwrap();
        let url = format!("http://127.0.0.1:{}/session/{session}/goog/cdp/execute", self.driver.port);
        let answer: Value = self
            .http
            .post(url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("browser: {cmd}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("browser: {cmd}: {e}"));
        assert!(answer["value"].get("error").is_none(), "browser: {cmd}: {answer}");
        answer["value"].clone()
    }

    /// An exact viewport, desktop or mobile (touch, `<meta name=viewport>` honoured).
    async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        let params = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile });
        self.cdp("Emulation.setDeviceMetricsOverride", params).await;
    }

    /// The browser's console since the last call (chromedriver drains it).
    async fn console(&self) -> Vec<(String, String)> {
        let session = self.driver.session.as_deref().unwrap();
        let url = format!("http://127.0.0.1:{}/session/{session}/se/log", self.driver.port);
        let answer: Value =
            self.http.post(url).json(&json!({ "type": "browser" })).send().await.unwrap().json().await.unwrap();
        let entries = answer["value"].as_array().cloned().unwrap_or_default();
        entries
            .iter()
            .map(|e| (e["level"].as_str().unwrap_or("").to_owned(), e["message"].as_str().unwrap_or("").to_owned()))
            .collect()
    }

    /// Fails on any Content-Security-Policy violation or uncaught script error logged so far.
    async fn assert_clean_console(&self) {
        let mut bad = Vec::new();
        for (level, message) in self.console().await {
            let csp = message.contains("Content Security Policy") || message.contains("Content-Security-Policy");
            if csp || message.contains("Uncaught") {
                bad.push(format!("{level}: {message}"));
            } else if level == "SEVERE" && !message.contains("favicon.ico") {
                eprintln!("browser console ({}): {level}: {message}", self.test);
            }
        }
        assert!(bad.is_empty(), "browser console of `{}`:\n{}", self.test, bad.join("\n"));
    }

    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.must(&format!("open {path}"));
    }

    /// Path and query of the current page.
    async fn location(&self) -> String {
        let url = self.client.current_url().await.must("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the current path and query satisfy `ok`.
    async fn wait_location(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let here = self.location().await;
            if ok(&here) {
                return here;
            }
            assert!(Instant::now() < deadline, "browser: waited {STEP:?} for {what}; still on {here}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_script(&self, what: &str, script: &str) {
        let deadline = Instant::now() + STEP;
        while self.client.execute(script, vec![]).await.must(what) != Value::Bool(true) {
            assert!(Instant::now() < deadline, "browser: waited {STEP:?} for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn find(&self, css: &str) -> Element {
        self.client.wait().at_most(STEP).for_element(Locator::Css(css)).await.must(&format!("find {css}"))
    }

    async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.must(&format!("find all {css}"))
    }

    async fn text_of(&self, css: &str) -> String {
        self.find(css).await.text().await.must(&format!("text of {css}")).trim().to_owned()
    }

    async fn texts_of(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.find_all(css).await {
            out.push(e.text().await.must(&format!("text of {css}")).trim().to_owned());
        }
        out
    }

    async fn script(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.must(script)
    }

    /// One key pressed and released on whatever has the focus.
    async fn press(&self, key: Key) {
        let key: char = key.into();
        let actions =
            KeyActions::new("clavier".into()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        self.client.perform_actions(actions).await.must("key press");
    }

    /// A full-page PNG to `target/browser-screenshots/<test>-<name>.png`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let width = metrics["cssContentSize"]["width"]
            .as_f64()
            .unwrap()
            .max(metrics["cssLayoutViewport"]["clientWidth"].as_f64().unwrap());
        let height = metrics["cssContentSize"]["height"].as_f64().unwrap();
        let params = json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
        });
        let shot = self.cdp("Page.captureScreenshot", params).await;
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{name}.png", self.test));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Types the e-mail and password into the login form and submits it like a person: a click
    /// on the button, or Enter in the password field.
    async fn log_in(&self, who: &str, with_enter: bool) {
        self.goto("/connexion").await;
        assert_eq!(self.text_of("h1").await, "Connexion");
        self.find("#email").await.send_keys(email(who)).await.must("type the e-mail");
        let password = self.find("#password").await;
        password.send_keys(PASSWORD).await.must("type the password");
        if with_enter {
            password.send_keys(&Key::Enter).await.must("press Enter");
        } else {
            let button = self.find("form[action='/connexion'] button[type=submit]").await;
            assert_eq!(button.text().await.must("button text").trim(), "Se connecter");
            button.click().await.must("click Se connecter");
        }
        self.wait_location(&format!("{who} to leave /connexion"), |p| !p.starts_with("/connexion")).await;
    }

    /// Clicks the header's "Se déconnecter" and lands on the login page.
    async fn log_out(&self) {
        let button = self
            .client
            .find(Locator::XPath("//header//button[normalize-space()='Se déconnecter']"))
            .await
            .must("the header's logout button");
        button.click().await.must("click Se déconnecter");
        self.wait_location("/connexion after logout", |p| p == "/connexion").await;
        assert_eq!(self.text_of("h1").await, "Connexion");
    }
}

async fn wait_until_ready(http: &reqwest::Client, url: &str, child: &mut Child) {
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("chromedriver exited at start ({status}); {INSTALL_HINT}");
        }
        let ready = http.get(format!("{url}/status")).timeout(Duration::from_secs(1)).send().await;
        if let Ok(r) = ready
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"] == Value::Bool(true)
        {
            return;
        }
        assert!(Instant::now() < deadline, "chromedriver did not answer /status within {STEP:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Each role: log in, home, navigation, a refusal, log out

struct Expected {
    home: String,
    h1: String,
    /// Links the navigation must show, in this order.
    nav: Vec<&'static str>,
    /// Labels it must not show.
    not_nav: Vec<&'static str>,
    /// CPTS people see the modules not built yet, marked "bientôt".
    modules_soon: bool,
    /// The link marked `aria-current` on the home page.
    current: &'static str,
    forbidden: String,
    refusal: &'static str,
}

fn expected(app: &TestApp, who: &str) -> Expected {
    let blaisois = app.cpts("blaisois").to_string();
    let cpts_home = |id: &str| format!("/cpts/{id}");
    let cpts_nav = |manager: bool| {
        if manager {
            vec!["Accueil", "Territoire", "Annuaire", "Administration", "Journal"]
        } else {
            vec!["Accueil", "Territoire", "Annuaire"]
        }
    };
    let e = |home: String, h1: &str, nav, not_nav, modules_soon, current, forbidden: String, refusal| Expected {
        home,
        h1: h1.to_owned(),
        nav,
        not_nav,
        modules_soon,
        current,
        forbidden,
        refusal,
    };
    match who {
        "admin" => e(
            "/admin".into(),
            "Administration de la plateforme",
            vec!["CPTS", "Comptes", "Journal", "Observatoire national"],
            vec!["Accueil", "Territoire"],
            false,
            "CPTS",
            // The administrator may see everything: the refusal left is an unknown object.
            cpts_home(UNKNOWN_CPTS),
            "Erreur 404",
        ),
        "national" => e(
            "/national".into(),
            "Observatoire national des CPTS",
            vec!["Observatoire national"],
            vec!["Accueil", "CPTS", "Comptes", "Journal"],
            false,
            "Observatoire national",
            "/admin".into(),
            "Erreur 403",
        ),
        "ars-centre" => e(
            "/region/24".into(),
            "Observatoire régional — Centre-Val de Loire",
            vec!["Observatoire régional"],
            vec!["Observatoire national", "Accueil", "Journal"],
            false,
            "Observatoire régional",
            "/region/53".into(),
            "Erreur 403",
        ),
        "coordinator" => e(
            cpts_home(&blaisois),
            "CPTS du Blaisois",
            cpts_nav(true),
            vec!["CPTS", "Comptes"],
            true,
            "Accueil",
            "/admin".into(),
            "Erreur 403",
        ),
        "board" => e(
            cpts_home(&blaisois),
            "CPTS du Blaisois",
            cpts_nav(false),
            vec!["Administration", "Journal"],
            true,
            "Accueil",
            format!("/cpts/{blaisois}/comptes"),
            "Erreur 403",
        ),
        "member" => e(
            cpts_home(&blaisois),
            "CPTS du Blaisois",
            cpts_nav(false),
            vec!["Administration", "Journal"],
            true,
            "Accueil",
            format!("/cpts/{blaisois}/journal"),
            "Erreur 403",
        ),
        "coordinator-rennes" => e(
            cpts_home(&app.cpts("rennes").to_string()),
            "CPTS Rennes Nord",
            cpts_nav(true),
            vec!["CPTS", "Comptes"],
            true,
            "Accueil",
            // Another tenant's CPTS is concealed, not refused.
            cpts_home(&blaisois),
            "Erreur 404",
        ),
        _ => panic!("no expectations for {who}"),
    }
}

async fn role_journey(who: &'static str) {
    let app = spawn_app(Engine::Sqlite).await;
    let Some(browser) = Browser::start("roles", &app).await else { return };
    let want = expected(&app, who);
    bounded(who, async {
        // The member submits with Enter, everybody else clicks the button.
        browser.log_in(who, who == "member").await;
        let home = browser.wait_location(&format!("{who}'s home"), |p| p == want.home).await;
        assert_eq!(home, want.home, "{who} lands on their home");
        assert_eq!(browser.text_of("h1").await, want.h1, "{who}'s home heading");
        browser.screenshot(who).await;

        // Navigation: the role's links in order, the others absent.
        let links = browser.texts_of("nav.navigation a").await;
        let mut expected_links = want.nav.iter();
        let mut next = expected_links.next();
        for link in &links {
            if next.is_some_and(|n| n == link) {
                next = expected_links.next();
            }
        }
        assert!(next.is_none(), "{who}'s navigation {links:?} lacks {next:?} (wanted {:?} in order)", want.nav);
        for absent in &want.not_nav {
            assert!(!links.iter().any(|l| l == absent), "{who} must not see «{absent}» in {links:?}");
        }
        assert_eq!(browser.text_of("nav.navigation a[aria-current=page]").await, want.current, "{who}: current");
        let soon = browser.texts_of("nav.navigation li.indisponible").await;
        if want.modules_soon {
            assert!(soon.len() >= 5, "{who}: modules to come listed: {soon:?}");
            assert!(soon.iter().all(|s| s.ends_with("bientôt")), "{who}: each marked «bientôt»: {soon:?}");
            assert!(browser.find_all("nav.navigation li.indisponible a").await.is_empty(), "not links");
            assert!(soon.iter().any(|s| s.starts_with("Parcours")), "{soon:?}");
            assert!(!soon.iter().any(|s| s.starts_with("Accès aux soins")), "access to care is built: {soon:?}");
            assert!(!soon.iter().any(|s| s.starts_with("Annuaire")), "the directory is built: {soon:?}");
        } else {
            assert!(soon.is_empty(), "{who} sees no CPTS modules: {soon:?}");
        }
        // Who is logged in, in the header.
        let header = browser.text_of("header.entete").await;
        assert!(header.contains(&format!("Personne {who}")), "{who}'s name in the header: {header}");

        // A page the role must not see.
        browser.goto(&want.forbidden).await;
        assert_eq!(browser.location().await, want.forbidden, "{who}: no redirect on refusal");
        assert_eq!(browser.text_of("h1").await, want.refusal, "{who} on {}", want.forbidden);
        let message = browser.text_of("main [role=alert]").await;
        assert!(!message.is_empty(), "{who}: the refusal explains itself");
        assert!(!browser.find_all("a[href='/']").await.is_empty(), "{who}: a way back home");
        browser.screenshot(&format!("{who}-refus")).await;

        // Log out from the header, then the home page wants a login again.
        browser.goto(&want.home).await;
        browser.log_out().await;
        browser.goto(&want.home).await;
        browser.wait_location(&format!("{who} sent to log in"), |p| p.starts_with("/connexion")).await;
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}

#[tokio::test]
async fn admin_logs_in_and_out() {
    role_journey("admin").await;
}

#[tokio::test]
async fn national_observer_logs_in_and_out() {
    role_journey("national").await;
}

#[tokio::test]
async fn regional_observer_logs_in_and_out() {
    role_journey("ars-centre").await;
}

#[tokio::test]
async fn coordinator_logs_in_and_out() {
    role_journey("coordinator").await;
}

#[tokio::test]
async fn board_member_logs_in_and_out() {
    role_journey("board").await;
}

#[tokio::test]
async fn member_logs_in_with_enter_and_out() {
    role_journey("member").await;
}

#[tokio::test]
async fn coordinator_of_another_cpts_gets_not_found() {
    role_journey("coordinator-rennes").await;
}

// ---------------------------------------------------------------------------------------------
// The coordinator's home: map, key figures, keyboard, mobile

#[tokio::test]
async fn coordinator_home_map_figures_keyboard_and_mobile() {
    let app = spawn_app(Engine::Sqlite).await;
    let Some(browser) = Browser::start("home", &app).await else { return };
    let home = format!("/cpts/{}", app.cpts("blaisois"));
    bounded("home", async {
        browser.log_in("coordinator", false).await;
        browser.wait_location("the coordinator's home", |p| p == home).await;

        // The map: one labelled SVG image, the three member communes drawn.
        let maps = browser.find_all("svg[role=img]").await;
        assert_eq!(maps.len(), 1, "one map");
        let labelled_by = maps[0].attr("aria-labelledby").await.must("map label").unwrap_or_default();
        assert!(!labelled_by.is_empty(), "the map is labelled");
        assert_eq!(browser.find_all("svg[role=img] path.commune.membre").await.len(), 3, "3 member communes");
        let (_, _, width, height) = maps[0].rectangle().await.must("map size");
        assert!(width > 200.0 && height > 150.0, "the map is drawn at a readable size: {width}×{height}");

        // Key figures.
        let figures = browser.texts_of(".chiffres .chiffre").await;
        assert!(figures.len() >= 4, "{figures:?}");
        assert!(figures.iter().any(|f| f.contains("habitants")), "{figures:?}");
        assert!(figures.iter().any(|f| f.starts_with('3') && f.contains("communes")), "{figures:?}");
        assert!(figures.iter().any(|f| f.contains("Taille 2")), "{figures:?}");
        browser.screenshot("coordinator").await;

        // Keyboard: the skip link is the first Tab stop, visible when focused, and Enter moves the
        // focus to the content.
        browser.goto(&home).await;
        browser.press(Key::Tab).await;
        let focused = browser.client.active_element().await.must("focused element");
        assert_eq!(focused.text().await.must("focused text").trim(), "Aller au contenu", "first Tab stop");
        assert_eq!(focused.attr("href").await.must("href").as_deref(), Some("#contenu"));
        assert!(focused.is_displayed().await.must("skip link shown"), "the skip link shows when focused");
        let (x, y, w, h) = focused.rectangle().await.must("skip link box");
        assert!(x >= 0.0 && y >= 0.0 && w > 0.0 && h > 0.0 && y < f64::from(DESKTOP.1), "on screen: {x},{y} {w}×{h}");
        browser.screenshot("coordinator-evitement").await;
        browser.press(Key::Enter).await;
        browser.wait_script("focus on #contenu", "return document.activeElement.id === 'contenu'").await;
        assert_eq!(browser.script("return location.hash").await, json!("#contenu"));

        // Mobile.
        browser.viewport(390, 844, true).await;
        browser.goto(&home).await;
        assert_eq!(browser.text_of("h1").await, "CPTS du Blaisois");
        let overflow = browser.script("return document.documentElement.scrollWidth").await;
        let (_, _, map_width, _) = browser.find("svg[role=img]").await.rectangle().await.must("map size");
        assert!(map_width <= 390.0, "the map fits the phone's width: {map_width}");
        browser.screenshot("coordinator-mobile").await;
        assert!(overflow.as_f64().unwrap() <= 390.0, "no horizontal scrolling on a phone: page is {overflow} px wide");
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// htmx under the Content-Security-Policy

#[tokio::test]
async fn journal_pages_with_htmx_under_the_csp() {
    let app = spawn_app(Engine::Sqlite).await;
    let Some(browser) = Browser::start("journal", &app).await else { return };
    let blaisois = app.cpts("blaisois").to_string();
    let journal = format!("/cpts/{blaisois}/journal");
    bounded("journal", async {
        browser.log_in("coordinator", false).await;
        // Reading the accounts list is audited: a few visits in the browser, then enough by plain
        // HTTP (faster) to fill more than one page of 50.
        for _ in 0..3 {
            browser.goto(&format!("/cpts/{blaisois}/comptes")).await;
            assert_eq!(browser.location().await, format!("/cpts/{blaisois}/comptes"));
        }
        let (client, _) = app.login("coordinator").await;
        for _ in 0..50 {
            let r = client.get(app.url(&format!("/cpts/{blaisois}/comptes"))).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }

        browser.goto(&journal).await;
        assert!(browser.text_of("h1").await.starts_with("Journal des accès"));
        let caption = browser.text_of("#journal caption").await;
        assert!(caption.contains("page 1 sur 2"), "{caption}");
        assert_eq!(browser.script("return typeof htmx").await, json!("object"), "htmx loaded under the CSP");
        browser.screenshot("coordinator").await;
        browser.assert_clean_console().await;

        // A full page load would forget this.
        browser
            .script(
                "window.maillageMarqueur = 'avant'; window.violationsCsp = [];
                 document.addEventListener('securitypolicyviolation',
                   e => window.violationsCsp.push(e.violatedDirective + ' ' + e.blockedURI));
                 return true;",
            )
            .await;
        let older = browser.client.find(Locator::LinkText("Plus anciens →")).await.must("the «Plus anciens» link");
        older.click().await.must("click Plus anciens");
        browser.wait_location("?page=1 pushed into the URL", |p| p == format!("{journal}?page=1")).await;
        browser
            .wait_script(
                "the second page of rows",
                "const c = document.querySelector('#journal caption');
                 return !!c && c.textContent.includes('page 2 sur 2');",
            )
            .await;
        assert_eq!(browser.script("return window.maillageMarqueur").await, json!("avant"), "no full page load");
        assert_eq!(browser.find_all("header.entete").await.len(), 1, "only #journal was replaced");
        assert_eq!(browser.find_all("#journal table").await.len(), 1);
        assert!(browser.client.find(Locator::LinkText("← Plus récents")).await.is_ok(), "a way back");
        assert_eq!(browser.script("return window.violationsCsp").await, json!([]), "no CSP violation");
        browser.screenshot("coordinator-page2").await;

        // The browser's Back button returns to the first page.
        browser.client.back().await.must("back");
        browser.wait_location("back to the first page", |p| p == journal).await;
        browser
            .wait_script(
                "the first page of rows again",
                "const c = document.querySelector('#journal caption');
                 return !!c && c.textContent.includes('page 1 sur');",
            )
            .await;
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// The public ACI simulator, without login

#[tokio::test]
async fn aci_simulator_updates_in_place_without_login() {
    let app = spawn_app(Engine::Sqlite).await;
    let Some(browser) = Browser::start("simulateur", &app).await else { return };
    // `textContent`: WebDriver's element text turns no-break spaces into plain ones.
    let total = "return document.querySelector('#total-annee').textContent";
    bounded("simulateur", async {
        browser.goto("/aci/simulateur?size=1&missions=all&crisis=true").await;
        assert_eq!(browser.text_of("h1").await, "Simulateur de financement ACI");
        assert_eq!(browser.script(total).await, json!("287\u{202f}500\u{a0}€"));
        browser.script("window.maillageMarqueur = 'avant'; return true;").await;

        browser.find("#size").await.select_by_value("4").await.must("choose taille 4");
        browser.find("form.simulateur-formulaire button[type=submit]").await.click().await.must("click Calculer");
        browser
            .wait_script(
                "the taille 4 total",
                "const t = document.querySelector('#total-annee');
                 return !!t && t.textContent === '580\u{202f}000\u{a0}€';",
            )
            .await;
        assert_eq!(browser.script("return window.maillageMarqueur").await, json!("avant"), "no full page load");
        browser.wait_location("the new URL, shareable", |p| p.contains("size=4")).await;
        assert_eq!(browser.find_all("svg.graphique-enveloppes").await.len(), 1, "the chart is redrawn");
        browser.screenshot("anonyme").await;

        // On a phone: no horizontal scrolling (wide tables scroll inside their own frame).
        browser.viewport(390, 844, true).await;
        browser.goto("/aci/simulateur?size=2&missions=all").await;
        let width = browser.script("return document.documentElement.scrollWidth").await;
        browser.screenshot("anonyme-mobile").await;
        assert!(width.as_f64().unwrap() <= 390.0, "no horizontal scrolling on a phone: page is {width} px wide");
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// The ACI contract, entered through the forms

/// Sets a form field by id (date inputs take typed text in the browser's locale; the value is
/// what the form sends).
async fn set_field(browser: &Browser, id: &str, value: &str) {
    let script = format!("const e = document.getElementById({id:?}); e.value = {value:?}; return e.value;");
    assert_eq!(browser.script(&script).await, json!(value), "field {id}");
}

async fn submit_form_of(browser: &Browser, field_id: &str) {
    let script = format!("document.getElementById({field_id:?}).form.requestSubmit(); return true;");
    browser.script(&script).await;
}

#[tokio::test]
async fn coordinator_enters_her_contract_and_spending_in_the_browser() {
    let app = spawn_app(Engine::Sqlite).await;
    let Some(browser) = Browser::start("contrat", &app).await else { return };
    let blaisois = app.cpts("blaisois").to_string();
    bounded("contrat", async {
        browser.log_in("coordinator", false).await;
        let link = browser.client.find(Locator::LinkText("Contrat ACI")).await.must("the «Contrat ACI» nav entry");
        link.click().await.must("open the contract");
        browser.wait_location("the contract page", |p| p == format!("/cpts/{blaisois}/contrat")).await;
        assert!(browser.text_of("main").await.contains("pas encore été saisi"));

        set_field(&browser, "sig-date", "2024-03-15").await;
        set_field(&browser, "sig-pop", "52000").await;
        browser.find("form[action$='/contrat'] button[type=submit]").await.click().await.must("save");
        browser
            .wait_script("the contract saved", "return document.body.textContent.includes('Contrat enregistré');")
            .await;
        assert!(browser.text_of("p.chapo").await.contains("Signé le 15/03/2024"));

        // Start access to care, add an indicator, record its year-1 result.
        browser.find("#mission-acces details.edition summary").await.click().await.must("open the editing panel");
        set_field(&browser, "debut-acces", "2024-06-01").await;
        submit_form_of(&browser, "debut-acces").await;
        browser.wait_script("dates saved", "return document.body.textContent.includes('Dates de la mission');").await;
        browser.find("#mission-acces details.edition summary").await.click().await.must("open again");
        set_field(&browser, "nouveau-nom-acces", "Patients orientés").await;
        set_field(&browser, "nouveau-cible-acces-1", "200").await;
        submit_form_of(&browser, "nouveau-nom-acces").await;
        browser
            .wait_script(
                "indicator saved",
                "return document.body.textContent.includes('Indicateur « Patients orientés » enregistré');",
            )
            .await;
        browser.goto(&format!("/cpts/{blaisois}/contrat?annee=1")).await;
        browser.find("#mission-acces details.edition summary").await.click().await.must("open for the result");
        set_field(&browser, "atteint-acces-0", "150").await;
        submit_form_of(&browser, "atteint-acces-0").await;
        browser
            .wait_script("result saved", "return document.body.textContent.includes('Résultat de l\\'année 1');")
            .await;
        let progress = browser.script("return document.querySelector('#mission-acces progress').value").await;
        assert_eq!(progress.as_f64(), Some(75.0), "150 of 200");
        assert!(browser.text_of("main").await.contains("22\u{202f}500"), "variable part of access, year 1");
        browser.screenshot("coordinator").await;

        // An expense, then what is left.
        browser.goto(&format!("/cpts/{blaisois}/depenses?annee=1")).await;
        set_field(&browser, "nd", "2024-10-03").await;
        set_field(&browser, "nenv", "acces").await;
        set_field(&browser, "ncat", "indemnisation").await;
        set_field(&browser, "np", "Dr Élise Martin").await;
        set_field(&browser, "nm", "1 200,50").await;
        submit_form_of(&browser, "nd").await;
        browser.wait_script("expense saved", "return document.body.textContent.includes('enregistrée');").await;
        assert!(browser.text_of("main").await.contains("Dr Élise Martin"));
        browser.screenshot("coordinator-depenses").await;
        browser.viewport(390, 844, true).await;
        browser.goto(&format!("/cpts/{blaisois}/contrat?annee=1")).await;
        let width = browser.script("return document.documentElement.scrollWidth").await;
        browser.screenshot("coordinator-mobile").await;
        assert!(width.as_f64().unwrap() <= 390.0, "no horizontal scrolling on a phone: {width}");
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// The directory: live search with htmx under the CSP

#[tokio::test]
async fn directory_live_search_with_htmx_under_the_csp() {
    let app = spawn_app(Engine::Sqlite).await;
    crate::directory::seed_directory(&app).await;
    let Some(browser) = Browser::start("annuaire", &app).await else { return };
    let blaisois = app.cpts("blaisois").to_string();
    let directory = format!("/cpts/{blaisois}/annuaire");
    bounded("annuaire", async {
        browser.log_in("coordinator", false).await;
        let link = browser.client.find(Locator::LinkText("Annuaire")).await.must("the «Annuaire» nav entry");
        link.click().await.must("open the directory");
        browser.wait_location("the directory", |p| p == directory).await;
        assert!(browser.text_of("h1").await.starts_with("Annuaire"));
        assert!(browser.text_of("#compte-resultats").await.contains("64 professionnels"));
        assert_eq!(browser.script("return typeof htmx").await, json!("object"), "htmx loaded under the CSP");
        browser
            .script(
                "window.maillageMarqueur = 'avant'; window.violationsCsp = [];
                 document.addEventListener('securitypolicyviolation',
                   e => window.violationsCsp.push(e.violatedDirective + ' ' + e.blockedURI));
                 return true;",
            )
            .await;

        // Typing narrows the results as one types, without reloading the page.
        browser.find("#q").await.send_keys("caron").await.must("type in the search field");
        browser
            .wait_script(
                "only Inès Caron listed",
                "const rows = document.querySelectorAll('#resultats tbody tr');
                 return rows.length === 1 && rows[0].textContent.includes('Caron');",
            )
            .await;
        assert_eq!(browser.script("return window.maillageMarqueur").await, json!("avant"), "no full page load");
        assert_eq!(browser.find_all("header.entete").await.len(), 1, "only #resultats was replaced");
        assert_eq!(browser.find_all("form.recherche-annuaire").await.len(), 1, "the form stays, once");
        browser.wait_location("the search in the URL, shareable", |p| p.contains("q=caron")).await;
        assert_eq!(browser.script("return document.activeElement.id").await, json!("q"), "the focus stays");

        // A filter: members only.
        browser.find("#q").await.clear().await.must("clear the search field");
        browser.find("#membre").await.select_by_value("oui").await.must("members only");
        browser
            .wait_script(
                "only the member listed",
                "const rows = document.querySelectorAll('#resultats tbody tr');
                 return rows.length === 1 && rows[0].textContent.includes('Martin');",
            )
            .await;
        assert_eq!(browser.script("return window.maillageMarqueur").await, json!("avant"), "still no reload");
        assert_eq!(browser.script("return window.violationsCsp").await, json!([]), "no CSP violation");
        browser.screenshot("coordinator").await;

        // The profile, and on a phone no horizontal scrolling.
        browser
            .client
            .find(Locator::LinkText("Dr Martin Élise"))
            .await
            .must("the profile link")
            .click()
            .await
            .must("open");
        browser.wait_location("the profile", |p| p.ends_with("/annuaire/810001234567")).await;
        assert_eq!(browser.text_of("h1").await, "Dr Élise Martin");
        browser.screenshot("coordinator-fiche").await;
        browser.viewport(390, 844, true).await;
        browser.goto(&directory).await;
        let width = browser.script("return document.documentElement.scrollWidth").await;
        browser.screenshot("coordinator-mobile").await;
        assert!(width.as_f64().unwrap() <= 390.0, "no horizontal scrolling on a phone: {width}");
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// Access to care: register, run the matching, the GP answers, the indicators move

#[tokio::test]
async fn coordinator_matches_a_patient_and_the_gp_accepts_in_the_browser() {
    use maillage_store::{DirectoryStore, PatientStore};
    let app = spawn_app(Engine::Sqlite).await;
    let store = crate::directory::seed_directory(&app).await;
    let b = app.cpts("blaisois").clone();
    let gp = crate::patients::account_id(&store, "member").await;
    let event = crate::patients::system_event(&b);
    store.link_account_professional(&b, &gp, crate::directory::MARTIN, &event).await.unwrap();
    let event = crate::patients::system_event(&b);
    let capacity = maillage_core::patients::DoctorCapacity {
        national_id: crate::directory::MARTIN.into(),
        kind: maillage_core::patients::CapacityKind::PerMonth(2),
        max_km: None,
        accepted_communes: None,
        note: None,
    };
    store.put_capacity(&b, &capacity, event.at, &event).await.unwrap();
    let Some(browser) = Browser::start("acces-soins", &app).await else { return };
    bounded("acces-soins", async {
        browser.log_in("coordinator", false).await;
        let link = browser.client.find(Locator::LinkText("Accès aux soins")).await.must("the nav entry");
        link.click().await.must("open the registry");
        browser.wait_location("the registry", |p| p.ends_with("/acces-soins/patients")).await;
        browser
            .client
            .find(Locator::LinkText("Inscrire un patient"))
            .await
            .must("the form link")
            .click()
            .await
            .must("open the form");
        browser.wait_location("the form", |p| p.ends_with("/patients/nouvelle")).await;
        for (id, value) in [
            ("pt-family_name", "Dupont"),
            ("pt-given_name", "Jeanne"),
            ("pt-birth_date", "14/07/1950"),
            ("pt-commune", "41018"),
            ("pt-phone", "06 12 34 56 78"),
        ] {
            set_field(&browser, id, value).await;
        }
        browser.find("#pt-consent").await.click().await.must("tick the consent");
        submit_form_of(&browser, "pt-family_name").await;
        browser.wait_script("registered", "return document.body.textContent.includes('Demande enregistrée.');").await;

        browser.goto(&format!("/cpts/{b}/acces-soins/patients")).await;
        browser
            .client
            .find(Locator::LinkText("Lancer l'appariement"))
            .await
            .must("the run link")
            .click()
            .await
            .must("run");
        browser.wait_location("the preview", |p| p.ends_with("/acces-soins/appariement")).await;
        let main = browser.text_of("main").await;
        assert!(main.contains("Proposé au Dr Élise Martin, à 0,0 km, priorité 1 parce que 70 ans ou plus"), "{main}");
        browser.screenshot("appariement-apercu").await;
        browser.find("form[action$='/appariement'] button[type=submit]").await.click().await.must("send");
        browser.wait_script("sent", "return document.body.textContent.includes('1 proposition(s) envoyée(s)');").await;
        browser.log_out().await;

        browser.log_in("member", false).await;
        browser
            .client
            .find(Locator::LinkText("Accès aux soins"))
            .await
            .must("the GP's entry")
            .click()
            .await
            .must("open");
        browser.wait_location("her patients", |p| p.ends_with("/acces-soins/mes-patients")).await;
        assert!(browser.text_of("main").await.contains("Dupont Jeanne"));
        browser.screenshot("medecin-propositions").await;
        browser.find("button[value=accepte]").await.click().await.must("accept");
        browser.wait_script("accepted", "return document.body.textContent.includes('Patient accepté');").await;
        browser.find("button[value=declare]").await.click().await.must("declare");
        browser
            .wait_script(
                "declared",
                "return document.body.textContent.includes('Déclaration de médecin traitant enregistrée');",
            )
            .await;
        browser.log_out().await;

        browser.log_in("coordinator", false).await;
        browser.goto(&format!("/cpts/{b}/acces-soins/indicateurs")).await;
        let row = browser.texts_of("table.donnees tbody tr:first-child td").await;
        assert_eq!(row[..7], ["1", "0", "0", "0", "1", "0", "1"], "registered 1, declared 1, matched 1");
        assert_eq!(browser.find_all("svg.graphique rect.barre-depense").await.len(), 13, "12 months and the legend");
        browser.screenshot("acces-soins-indicateurs").await;
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// Same-day care: the operator takes a request on the phone and books with the keyboard

#[tokio::test]
async fn operator_books_a_same_day_slot_in_the_browser() {
    use maillage_store::SnpStore;
    /// Characters typed on whatever has the focus, as a person types them.
    async fn type_keys(browser: &Browser, text: &str) {
        let mut actions = KeyActions::new("clavier".into());
        for c in text.chars() {
            actions = actions.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
        }
        browser.client.perform_actions(actions).await.must("type");
    }
    let app = spawn_app(Engine::Sqlite).await;
    let store = crate::directory::seed_directory(&app).await;
    let b = app.cpts("blaisois").clone();
    // Dr Martin (Blois) publishes Tuesday mornings and afternoons; today is Tuesday 24 November
    // 2026, 10:00 in Paris.
    let availability: maillage_core::snp::Availability = serde_json::from_value(json!({
        "professional": 10001234567u64,
        "weekly": [
            { "weekday": "Tue", "start": "09:30:00", "end": "10:30:00", "slot_minutes": 30, "capacity": 1,
              "place": "cabinet", "audiences": ["snp"], "valid_from": "2026-11-01", "valid_until": null },
            { "weekday": "Tue", "start": "14:00:00", "end": "16:00:00", "slot_minutes": 30, "capacity": 1,
              "place": "cabinet", "audiences": ["snp"], "valid_from": "2026-11-01", "valid_until": null }
        ],
        "one_off": [], "closures": [], "cancellations": []
    }))
    .unwrap();
    let event = crate::patients::system_event(&b);
    store.put_availability(&b, &availability, None, event.at, &event).await.unwrap();
    let console = format!("/cpts/{b}/soins-non-programmes");
    let Some(browser) = Browser::start("soins-non-programmes", &app).await else { return };
    bounded("soins-non-programmes", async {
        browser.log_in("coordinator", false).await;
        let link = browser.client.find(Locator::LinkText("Soins non programmés")).await.must("the nav entry");
        link.click().await.must("open the console");
        browser.wait_location("the console", |p| p == console).await;
        assert!(browser.text_of("h1").await.starts_with("Soins non programmés"));
        assert_eq!(browser.script("return document.activeElement.id").await, json!("motif"), "autofocus");
        browser.script("window.maillageMarqueur = 'avant'; return true;").await;

        // The request, with the keyboard: a letter picks the reason, Tab moves on, the commune
        // is typed by its name.
        type_keys(&browser, "f").await;
        browser.press(Key::Tab).await;
        type_keys(&browser, "Blois").await;
        browser.press(Key::Tab).await;
        type_keys(&browser, "06 12 34 56 78").await;
        browser.press(Key::Tab).await;
        browser.press(Key::Tab).await;
        assert_eq!(browser.script("return document.activeElement.id").await, json!("oriente_par"));
        type_keys(&browser, "r").await;
        let picked = browser.script("return [motif.value, oriente_par.value, telephone.value]").await;
        assert_eq!(picked, json!(["fievre", "regulation", "06 12 34 56 78"]));
        let note = browser.find("#note").await;
        note.send_keys("Fièvre depuis hier").await.must("type the note");
        note.send_keys(&Key::Enter).await.must("Enter searches");
        browser
            .wait_script(
                "the results",
                "const rows = document.querySelectorAll('#resultats-snp tbody tr');
                 return rows.length === 5 && rows[0].textContent.includes('mar. 24 nov. 10:00');",
            )
            .await;
        assert_eq!(browser.script("return window.maillageMarqueur").await, json!("avant"), "no full page load");
        assert_eq!(browser.location().await, console, "no patient data in the URL");
        let first = browser.texts_of("#resultats-snp tbody tr:first-child td, #resultats-snp tbody tr:first-child th").await;
        assert_eq!(first, ["Réserver (1)", "mar. 24 nov. 10:00", "Dr Élise Martin Médecin", "au cabinet, Blois", "0,0 km", "1"]);
        browser.screenshot("console").await;

        // Alt+1 books the first slot.
        let actions = KeyActions::new("clavier".into())
            .then(KeyAction::Down { value: Key::Alt.into() })
            .then(KeyAction::Down { value: '1' })
            .then(KeyAction::Up { value: '1' })
            .then(KeyAction::Up { value: Key::Alt.into() });
        browser.client.perform_actions(actions).await.must("Alt+1");
        browser.wait_location("the confirmation", |p| p.ends_with("/confirmation")).await;
        assert_eq!(browser.text_of("h1").await, "Rendez-vous réservé");
        let text = browser.text_of("#texte-patient").await;
        assert!(
            text.contains("Votre rendez-vous de soins non programmés est réservé le mardi 24 novembre 2026 à 10:00 avec Dr Élise Martin (médecin), au cabinet"),
            "{text}"
        );
        assert_eq!(browser.script("return document.activeElement.textContent").await, json!("Nouvelle demande"));
        assert!(!browser.find_all("a[href$='/rendez-vous.ics']").await.is_empty(), "the .ics link");
        browser.screenshot("confirmation").await;

        // Enter on « Nouvelle demande »: an empty console again.
        browser.press(Key::Enter).await;
        browser.wait_location("a new request", |p| p == console).await;
        assert_eq!(browser.script("return motif.value + telephone.value").await, json!(""));
        browser.assert_clean_console().await;
    })
    .await;
    browser.close().await;
}
