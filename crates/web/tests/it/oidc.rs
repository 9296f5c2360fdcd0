//! Login through a real OpenID Connect provider (npm oidc-provider, started by scripts/test),
//! end to end through the web server.

use crate::helpers::*;
use maillage_core::access::Role;
use maillage_oidc::{OidcClient, OidcConfig, Secret};
use maillage_store::{AccountStore, NewAccount};
use reqwest::redirect::Policy;

struct Provider {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
}

fn provider() -> Option<Provider> {
    let issuer = std::env::var("MAILLAGE_TEST_OIDC_ISSUER").unwrap_or_default();
    if issuer.is_empty() {
        assert!(std::env::var_os("CI").is_none(), "CI must start the OIDC test provider (scripts/lib/oidc.sh)");
        eprintln!("skipped: no OIDC test provider (source scripts/lib/oidc.sh && ensure_oidc_provider)");
        return None;
    }
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    Some(Provider {
        issuer,
        client_id: var("MAILLAGE_TEST_OIDC_CLIENT_ID", "maillage-test"),
        client_secret: var("MAILLAGE_TEST_OIDC_CLIENT_SECRET", "maillage-test-secret"),
        redirect_uri: var("MAILLAGE_TEST_OIDC_REDIRECT_URI", "http://127.0.0.1:8080/auth/oidc/callback"),
    })
}

/// Runs the whole browser journey for `account` at the provider; returns the final response
/// of our callback.
async fn journey(app: &TestApp, p: &Provider, browser: &reqwest::Client, account: &str) -> reqwest::Response {
    let start = browser.get(app.url("/auth/oidc/start")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.starts_with(&p.issuer), "{authorize}");
    // At the provider: follow its redirects, post the test login form, stop at our callback.
    let mut url = reqwest::Url::parse(&authorize).unwrap();
    let mut html = String::new();
    for _ in 0..10 {
        let r = browser.get(url.clone()).send().await.unwrap();
        if r.status().is_redirection() {
            url = url.join(r.headers()["location"].to_str().unwrap()).unwrap();
            continue;
        }
        html = r.text().await.unwrap();
        break;
    }
    let action = html.split("action=\"").nth(1).and_then(|r| r.split('"').next()).expect("login form");
    let mut next = url.join(action).unwrap();
    let mut response = browser.post(next.clone()).form(&[("login", account)]).send().await.unwrap();
    for _ in 0..10 {
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        next = next.join(&location).unwrap();
        if next.as_str().starts_with(&p.redirect_uri) {
            break;
        }
        response = browser.get(next.clone()).send().await.unwrap();
    }
    assert!(next.as_str().starts_with(&p.redirect_uri), "ended at {next}");
    // The registered redirect URI names port 8080; our test server listens elsewhere.
    let callback = format!("/auth/oidc/callback?{}", next.query().unwrap_or_default());
    browser.get(app.url(&callback)).send().await.unwrap()
}

#[tokio::test]
async fn login_with_the_provider() {
    let Some(p) = provider() else { return };
    for engine in engines() {
        let mut config = OidcConfig::new(
            p.issuer.clone(),
            p.client_id.clone(),
            Secret::new(p.client_secret.clone()),
            p.redirect_uri.clone(),
        );
        config.scopes.push("scope_all".into());
        let client = OidcClient::discover(config).await.unwrap();
        let app = spawn_app_with_oidc(engine, client).await;
        // The login page offers the provider.
        let page = app.client().get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("/auth/oidc/start"));
        // An account created for dr.martin's (verified) e-mail is linked at first login.
        let store = maillage_store::connect(&app.database_url).await.unwrap();
        let role = Role::MemberProfessional { cpts: app.cpts("blaisois").clone() };
        let new = NewAccount {
            email: "dr.martin@example.test".into(),
            display_name: "Dr Martin".into(),
            password_hash: None,
            role,
        };
        let created_at = chrono::DateTime::UNIX_EPOCH;
        store.create_account(&new, created_at).await.unwrap();

        let browser = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        let done = journey(&app, &p, &browser, "psc-0001").await;
        assert_eq!(done.status(), 303, "{engine:?}");
        assert_eq!(done.headers()["location"], "/");
        let home = browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.headers()["location"].to_str().unwrap(), format!("/cpts/{}", app.cpts("blaisois")));
        let linked = store.account_credentials("dr.martin@example.test").await.unwrap().unwrap().account;
        assert_eq!(linked.oidc.as_ref().map(|(_, sub)| sub.as_str()), Some("psc-0001"));

        // psc-0002's e-mail is not verified and no account is linked: refused.
        let other = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        let refused = journey(&app, &p, &other, "psc-0002").await;
        assert_eq!(refused.headers()["location"], "/connexion?erreur=compte", "{engine:?}");

        // A callback carried to another browser (no binding cookie) is refused.
        let victim = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        let start = browser.get(app.url("/auth/oidc/start")).send().await.unwrap();
        let state = reqwest::Url::parse(start.headers()["location"].to_str().unwrap())
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let r = victim.get(app.url(&format!("/auth/oidc/callback?code=x&state={state}"))).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/connexion?erreur=oidc");
        // And the state is spent.
        let r = browser.get(app.url(&format!("/auth/oidc/callback?code=x&state={state}"))).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/connexion?erreur=oidc");
    }
}
