//! Logins against a REAL OpenID Connect provider: tools/oidc-provider (npm `oidc-provider`),
//! started by `source scripts/lib/oidc.sh && ensure_oidc_provider`, which exports
//! MAILLAGE_TEST_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URI.
//!
//! The browser is played by a cookie-keeping reqwest client that follows the provider's redirects
//! and stops at the one to redirect_uri (never served: `code` and `state` are read from it).
#![allow(clippy::unwrap_used)] // test helpers, not only #[test] functions, unwrap

use chrono::{DateTime, TimeDelta, Utc};
use maillage_oidc::{ClientAuth, OidcClient, OidcConfig, OidcError, PendingLogin, Secret, Url};
use reqwest::header::LOCATION;
use reqwest::redirect::Policy;

struct TestProvider {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
}

/// The provider from the environment; `None` (test skipped) when unset, except on CI.
fn test_provider() -> Option<TestProvider> {
    let issuer = std::env::var("MAILLAGE_TEST_OIDC_ISSUER").unwrap_or_default();
    if issuer.is_empty() {
        if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) {
            panic!("CI must start the OIDC test provider (scripts/lib/oidc.sh)");
        }
        eprintln!("skipped: MAILLAGE_TEST_OIDC_ISSUER is unset (source scripts/lib/oidc.sh && ensure_oidc_provider)");
        return None;
    }
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    Some(TestProvider {
        issuer,
        client_id: var("MAILLAGE_TEST_OIDC_CLIENT_ID", "maillage-test"),
        client_secret: var("MAILLAGE_TEST_OIDC_CLIENT_SECRET", "maillage-test-secret"),
        redirect_uri: var("MAILLAGE_TEST_OIDC_REDIRECT_URI", "http://127.0.0.1:8080/auth/oidc/callback"),
    })
}

impl TestProvider {
    fn config(&self) -> OidcConfig {
        let mut config = OidcConfig::new(
            self.issuer.clone(),
            self.client_id.clone(),
            Secret::new(self.client_secret.clone()),
            self.redirect_uri.clone(),
        );
        config.scopes.push("scope_all".to_owned());
        config
    }

    async fn client(&self) -> OidcClient {
        OidcClient::discover(self.config()).await.unwrap()
    }

    /// Logs `account` in as a browser would and returns the redirect to redirect_uri.
    async fn log_in(&self, authorization_url: &Url, account: &str) -> Callback {
        let stop_at = self.redirect_uri.clone();
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::custom(move |attempt| {
                if attempt.url().as_str().starts_with(&stop_at) {
                    attempt.stop()
                } else if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .unwrap();

        let page = browser.get(authorization_url.clone()).send().await.unwrap();
        assert_eq!(page.status(), 200, "login page at {}", page.url());
        let page_url = page.url().clone();
        let html = page.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no login form in {html}"));
        let action = page_url.join(action).unwrap();

        let response = browser.post(action).form(&[("login", account)]).send().await.unwrap();
        assert!(response.status().is_redirection(), "after login: {} {:?}", response.status(), response.url());
        let location = response.headers()[LOCATION].to_str().unwrap();
        let url = Url::parse(location).unwrap();
        assert!(url.as_str().starts_with(&self.redirect_uri), "redirected to {url}");
        let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        Callback { code: param("code").unwrap(), state: param("state").unwrap(), iss: param("iss") }
    }
}

struct Callback {
    code: String,
    state: String,
    iss: Option<String>,
}

/// The provider stamps its tokens with the real clock, so the tests compare with it.
#[allow(clippy::disallowed_methods)]
fn now() -> DateTime<Utc> {
    Utc::now()
}

#[tokio::test]
async fn full_login_yields_the_verified_identity() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin();

    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(param("response_type"), Some("code"));
    assert_eq!(param("code_challenge_method"), Some("S256"));
    assert_eq!(param("state"), Some(pending.state.as_str()));
    assert_eq!(param("nonce"), Some(pending.nonce.as_str()));
    assert_eq!(param("scope"), Some("openid profile email scope_all"));
    assert!(!url.as_str().contains(&pending.pkce_verifier), "the verifier must never leave the server");

    // The pending login survives a trip through the server's database.
    let stored = serde_json::to_string(&pending).unwrap();
    let pending: PendingLogin = serde_json::from_str(&stored).unwrap();

    let callback = provider.log_in(&url, "psc-0001").await;
    assert_eq!(callback.iss.as_deref(), Some(provider.issuer.as_str()), "RFC 9207 iss in the callback");
    let identity = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap();

    assert_eq!(identity.issuer, provider.issuer);
    assert_eq!(identity.subject, "psc-0001");
    assert_eq!(identity.email.as_deref(), Some("dr.martin@example.test"));
    assert_eq!(identity.email_verified, Some(true));
    assert_eq!(identity.given_name.as_deref(), Some("Claire"));
    assert_eq!(identity.family_name.as_deref(), Some("Martin"));
    assert_eq!(identity.extra_claims.get("SubjectNameID"), Some(&serde_json::json!("810000000009")));
}

#[tokio::test]
async fn another_account_gets_its_own_identity() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0002").await;
    let identity = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap();
    assert_eq!(identity.subject, "psc-0002");
    assert_eq!(identity.email.as_deref(), Some("dr.bernard@example.test"));
    assert_eq!(identity.email_verified, Some(false));
}

/// This provider puts the profile claims in userinfo only (as Pro Santé Connect does): without
/// the userinfo request, the identity is the bare subject.
#[tokio::test]
async fn without_userinfo_only_the_id_token_claims_are_known() {
    let Some(provider) = test_provider() else { return };
    let mut config = provider.config();
    config.fetch_userinfo = false;
    let client = OidcClient::discover(config).await.unwrap();
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;
    let identity = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap();
    assert_eq!(identity.subject, "psc-0001");
    assert_eq!(identity.email, None);
    assert!(!identity.extra_claims.contains_key("SubjectNameID"));
}

#[tokio::test]
async fn wrong_state_is_refused() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    let error = client.complete(&pending, &callback.code, "forged-state", now()).await.unwrap_err();
    assert!(matches!(error, OidcError::StateMismatch), "{error:?}");
    let error = client.complete(&pending, &callback.code, "", now()).await.unwrap_err();
    assert!(matches!(error, OidcError::StateMismatch), "{error:?}");
    // The state of another login does not pass either.
    let (_, other) = client.begin();
    let error = client.complete(&pending, &callback.code, &other.state, now()).await.unwrap_err();
    assert!(matches!(error, OidcError::StateMismatch), "{error:?}");
}

/// The ID token must carry the nonce of the pending login (binding the token to this browser's
/// login): everything else matching, a different nonce is refused.
#[tokio::test]
async fn wrong_nonce_is_refused() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, mut pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    pending.nonce = client.begin().1.nonce;
    let error = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap_err();
    assert!(matches!(&error, OidcError::IdToken(m) if m.contains("nonce")), "{error:?}");
}

/// Discovered through the provider's decoy document, whose JWKS holds another key under the
/// signing key's id, the client must refuse the (genuine) ID token: signatures are checked
/// against the discovered keys.
#[tokio::test]
async fn id_token_not_signed_by_a_published_key_is_refused() {
    let Some(provider) = test_provider() else { return };
    let mut config = provider.config();
    config.discovery_url = Some(format!("{}/decoy/.well-known/openid-configuration", provider.issuer));
    let client = OidcClient::discover(config).await.unwrap();
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    let error = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap_err();
    assert!(matches!(&error, OidcError::IdToken(m) if m.contains("Signature")), "{error:?}");
}

#[tokio::test]
async fn replayed_code_is_refused() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;
    client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap();

    let error = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap_err();
    assert!(matches!(&error, OidcError::TokenExchange(m) if m.contains("invalid_grant")), "{error:?}");
    assert!(!error.to_string().contains(&callback.code), "the code must not appear in errors: {error}");
}

#[tokio::test]
async fn tampered_code_is_refused() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    let mut tampered = callback.code.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let error = client.complete(&pending, &tampered, &callback.state, now()).await.unwrap_err();
    assert!(matches!(&error, OidcError::TokenExchange(m) if m.contains("invalid_grant")), "{error:?}");
}

/// A code stolen from one login cannot be redeemed with another login's state and verifier:
/// the provider checks the PKCE verifier against the challenge it was given.
#[tokio::test]
async fn code_of_another_login_fails_pkce() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (victim_url, _victim) = client.begin();
    let (_, attacker) = client.begin();
    let stolen = provider.log_in(&victim_url, "psc-0001").await;

    let error = client.complete(&attacker, &stolen.code, &attacker.state, now()).await.unwrap_err();
    assert!(matches!(&error, OidcError::TokenExchange(m) if m.contains("invalid_grant")), "{error:?}");
}

#[tokio::test]
async fn wrong_client_secret_is_rejected() {
    let Some(provider) = test_provider() else { return };
    let mut config = provider.config();
    config.client_secret = Secret::new("not-the-secret");
    let client = OidcClient::discover(config).await.unwrap();
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    let error = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap_err();
    assert!(matches!(&error, OidcError::ClientRejected(m) if m.contains("invalid_client")), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("client_secret") && !message.contains("not-the-secret"), "{message}");
}

/// The provider's second client is registered for client_secret_post: it logs in when told so,
/// and is refused with the (default) client_secret_basic.
#[tokio::test]
async fn client_secret_post_is_used_when_configured() {
    let Some(provider) = test_provider() else { return };
    let mut config = provider.config();
    config.client_id = format!("{}-post", provider.client_id);
    config.client_auth = ClientAuth::Post;
    let client = OidcClient::discover(config.clone()).await.unwrap();
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;
    let identity = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap();
    assert_eq!(identity.subject, "psc-0001");

    config.client_auth = ClientAuth::Auto;
    let client = OidcClient::discover(config).await.unwrap();
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;
    let error = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap_err();
    assert!(matches!(&error, OidcError::ClientRejected(m) if m.contains("invalid_client")), "{error:?}");
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    let tomorrow = now() + TimeDelta::days(1);
    let error = client.complete(&pending, &callback.code, &callback.state, tomorrow).await.unwrap_err();
    assert!(matches!(&error, OidcError::IdToken(m) if m.contains("expired")), "{error:?}");
}

/// A token issued "in the future" (our clock far behind the provider's) is refused too.
#[tokio::test]
async fn id_token_from_the_future_is_refused() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    let an_hour_ago = now() - TimeDelta::hours(1);
    let error = client.complete(&pending, &callback.code, &callback.state, an_hour_ago).await.unwrap_err();
    assert!(matches!(&error, OidcError::IdToken(m) if m.contains("future")), "{error:?}");
}

#[tokio::test]
async fn pending_login_of_another_issuer_is_refused() {
    let Some(provider) = test_provider() else { return };
    let client = provider.client().await;
    let (url, mut pending) = client.begin();
    let callback = provider.log_in(&url, "psc-0001").await;

    pending.issuer = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet".to_owned();
    let error = client.complete(&pending, &callback.code, &callback.state, now()).await.unwrap_err();
    assert!(matches!(error, OidcError::IssuerMismatch { .. }), "{error:?}");
}

#[tokio::test]
async fn discovery_checks_the_issuer() {
    let Some(provider) = test_provider() else { return };
    // Same discovery document, but the configured issuer differs from the one it declares.
    let mut config = provider.config();
    config.issuer = format!("{}/", provider.issuer);
    let error = OidcClient::discover(config).await.unwrap_err();
    assert!(matches!(&error, OidcError::Discovery(m) if m.contains("is for issuer")), "{error:?}");

    // An explicit discovery URL is honoured (and must still name the configured issuer).
    let mut config = provider.config();
    config.discovery_url = Some(format!("{}/.well-known/openid-configuration", provider.issuer));
    OidcClient::discover(config).await.unwrap();

    let mut config = provider.config();
    config.issuer = format!("{}/nowhere", provider.issuer);
    let error = OidcClient::discover(config).await.unwrap_err();
    assert!(matches!(&error, OidcError::Discovery(m) if m.contains("404")), "{error:?}");
}

#[tokio::test]
async fn extra_auth_params_are_sent_and_reserved_ones_refused() {
    let Some(provider) = test_provider() else { return };
    let mut config = provider.config();
    config.extra_auth_params = vec![("acr_values".to_owned(), "eidas1".to_owned())];
    let client = OidcClient::discover(config).await.unwrap();
    let (url, _) = client.begin();
    assert!(url.query_pairs().any(|(k, v)| k == "acr_values" && v == "eidas1"), "{url}");

    let mut config = provider.config();
    config.extra_auth_params = vec![("state".to_owned(), "fixed".to_owned())];
    let error = OidcClient::discover(config).await.unwrap_err();
    assert!(matches!(error, OidcError::Config(_)), "{error:?}");
}
