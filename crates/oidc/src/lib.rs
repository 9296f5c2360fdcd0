//! OpenID Connect login for Maillage: "Se connecter avec Pro Santé Connect", or with any issuer
//! that speaks OpenID Connect Core + Discovery.
//!
//! The flow is the authorization code flow with PKCE (S256), a `state` and a `nonce`:
//!
//! 1. [`OidcClient::discover`], once at startup: fetches the provider's discovery document and
//!    its signing keys (JWKS).
//! 2. [`OidcClient::begin`], for each login: the URL to redirect the browser to, and a
//!    [`PendingLogin`] that the (stateless) web server keeps in its database, keyed by
//!    [`PendingLogin::state`], until the provider sends the browser back.
//! 3. [`OidcClient::complete`], at the callback: checks the returned `state`, exchanges the code
//!    (client authentication + PKCE verifier), verifies the ID token (signature against the JWKS,
//!    issuer, audience, expiry at the caller's `now`, nonce, `at_hash`), then reads the userinfo
//!    endpoint when configured, and returns a [`VerifiedIdentity`].
//!
//! The protocol work is done by the `openidconnect` crate; this crate chooses its secure settings
//! (asymmetric signatures only, no HTTP redirects followed, nonce and state always checked) and
//! keeps the interface small. See `docs/oidc.md`.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError, IdTokenFields, IssuerUrl,
    JsonWebKeySet, LocalizedClaim, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse, UserInfoError, reqwest,
};
use serde::{Deserialize, Serialize};

pub use openidconnect::url::Url;

/// A secret string (the client secret). `Debug` prints `***`, so configurations can be logged.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to reach one OpenID Connect provider, and what to ask it for.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// The issuer identifier, exactly as the provider writes it in its discovery document and in
    /// its ID tokens' `iss` (e.g. `https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet`).
    pub issuer: String,
    /// Where the discovery document is, when it is not `{issuer}/.well-known/openid-configuration`
    /// (Pro Santé Connect publishes a `wallet-openid-configuration`, see `docs/oidc.md`). The
    /// document's `issuer` must still be exactly [`OidcConfig::issuer`].
    pub discovery_url: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    /// The callback URL registered with the provider.
    pub redirect_uri: String,
    /// Scopes to request; `openid` is always requested, listed here or not.
    pub scopes: Vec<String>,
    /// Extra authorization request parameters, e.g. `("acr_values", "eidas1")`. The parameters
    /// that this crate sets itself (`state`, `nonce`, `scope`, `redirect_uri`, …) are refused.
    pub extra_auth_params: Vec<(String, String)>,
    /// Also read the userinfo endpoint (when the provider has one) after the ID token is verified.
    /// Many providers, Pro Santé Connect among them, put the profile claims only there.
    pub fetch_userinfo: bool,
    /// How the client authenticates at the token endpoint: as registered with the provider.
    pub client_auth: ClientAuth,
    /// Timeout of each HTTP request to the provider.
    pub http_timeout: Duration,
}

/// Client authentication at the token endpoint, with the client secret.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`, unless the provider offers only `client_secret_post`.
    #[default]
    Auto,
    /// `client_secret_basic`: HTTP Basic authentication.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the request body.
    Post,
}

impl OidcConfig {
    /// A configuration with the usual defaults: scopes `openid profile email`, no extra
    /// parameter, userinfo read, [`ClientAuth::Auto`], 10 s HTTP timeout.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            discovery_url: None,
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            scopes: vec!["openid".to_owned(), "profile".to_owned(), "email".to_owned()],
            extra_auth_params: Vec::new(),
            fetch_userinfo: true,
            client_auth: ClientAuth::Auto,
            http_timeout: Duration::from_secs(10),
        }
    }
}

/// What the server keeps between [`OidcClient::begin`] and [`OidcClient::complete`]. It holds
/// single-use secrets: store it server side only, look it up by `state`, delete it when the
/// callback arrives (used or not) and expire it after a few minutes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The issuer the login was started with; the callback is refused by any other client.
    pub issuer: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("issuer", &self.issuer)
            .field("state", &self.state)
            .field("nonce", &"***")
            .field("pkce_verifier", &"***")
            .finish()
    }
}

/// The identity proven by a verified ID token (and the userinfo endpoint, when read).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerifiedIdentity {
    pub issuer: String,
    /// The provider's stable identifier of the person: (issuer, subject) is the account key.
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider says it verified `email`; do not link accounts by unverified email.
    pub email_verified: Option<bool>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The authentication context class the provider asserts (e.g. `eidas1`), if any.
    pub acr: Option<String>,
    /// The non-standard claims of the ID token and userinfo (userinfo wins on a clash), e.g. Pro
    /// Santé Connect's `SubjectNameID` or `SubjectRefPro`.
    pub extra_claims: serde_json::Map<String, serde_json::Value>,
}

/// Why a discovery or a login failed. Messages never contain secrets, codes or tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    #[error("invalid OIDC configuration: {0}")]
    Config(String),
    #[error("OIDC discovery failed: {0}")]
    Discovery(String),
    #[error("this login was started with issuer {started_with}, not with this client's issuer")]
    IssuerMismatch { started_with: String },
    #[error("the state returned by the provider does not match the pending login")]
    StateMismatch,
    #[error("the provider rejected this client's credentials (check client_id and client_secret): {0}")]
    ClientRejected(String),
    #[error("authorization code exchange failed: {0}")]
    TokenExchange(String),
    #[error("ID token rejected: {0}")]
    IdToken(String),
    #[error("userinfo request failed: {0}")]
    UserInfo(String),
}

/// Claims outside the OpenID Connect standard set, kept as JSON.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type TokenFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<TokenFields, CoreTokenType>;
type TokenError = RequestTokenError<HttpClientError<reqwest::Error>, StandardErrorResponse<CoreErrorResponseType>>;
/// An `openidconnect` client with the endpoints discovery gives: authorization (always),
/// token and userinfo (when published).
type InnerClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// ID token signatures accepted: asymmetric ones only. `none` is never accepted, nor the HMAC
/// algorithms, which would make the client secret a signing key.
const ASYMMETRIC_ALGS: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Authorization request parameters this crate owns.
const RESERVED_PARAMS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

/// How far in the future an ID token's `iat` may be (clock skew between us and the provider).
const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// A discovered provider, ready to start and complete logins. Cheap to clone; share one per
/// issuer. The signing keys are those fetched by [`OidcClient::discover`]: when a provider rotates
/// its keys, ID tokens fail with [`OidcError::IdToken`] until the client is discovered again, so
/// rediscover periodically (e.g. hourly) or after such a failure.
#[derive(Clone)]
pub struct OidcClient {
    inner: InnerClient,
    http: reqwest::Client,
    issuer: String,
    allowed_algs: Vec<CoreJwsSigningAlgorithm>,
    scopes: Vec<String>,
    extra_auth_params: Vec<(String, String)>,
    fetch_userinfo: bool,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.inner.client_id().as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// Fetches the discovery document and the JWKS, checks that the document is for
    /// `config.issuer` and that the provider offers the client authentication method.
    pub async fn discover(config: OidcConfig) -> Result<Self, OidcError> {
        let issuer_url = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| OidcError::Config(format!("issuer {:?} is not a URL: {e}", config.issuer)))?;
        let redirect_url = RedirectUrl::new(config.redirect_uri.clone())
            .map_err(|e| OidcError::Config(format!("redirect_uri {:?} is not a URL: {e}", config.redirect_uri)))?;
        if config.client_id.is_empty() {
            return Err(OidcError::Config("client_id is empty".to_owned()));
        }
        if let Some((name, _)) =
            config.extra_auth_params.iter().find(|(name, _)| RESERVED_PARAMS.contains(&name.as_str()))
        {
            return Err(OidcError::Config(format!("extra_auth_params may not set {name:?}")));
        }
        let discovery_url = match &config.discovery_url {
            Some(url) => url.clone(),
            None => format!("{}/.well-known/openid-configuration", config.issuer.trim_end_matches('/')),
        };
        let discovery_url = Url::parse(&discovery_url)
            .map_err(|e| OidcError::Config(format!("discovery URL {discovery_url:?} is not a URL: {e}")))?;

        // No redirects: openidconnect's advice against SSRF, and no surprise hosts for the tokens.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.http_timeout)
            .build()
            .map_err(|e| OidcError::Config(format!("HTTP client: {e}")))?;

        let metadata = fetch_metadata(&http, &discovery_url, &issuer_url).await?;
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
            .await
            .map_err(|e| OidcError::Discovery(format!("JWKS at {}: {}", metadata.jwks_uri().as_str(), chain(&e))))?;
        let metadata = metadata.set_jwks(jwks);

        if metadata.token_endpoint().is_none() {
            return Err(OidcError::Discovery("the provider publishes no token_endpoint".to_owned()));
        }
        let auth_type = client_auth_type(config.client_auth, metadata.token_endpoint_auth_methods_supported())?;
        let allowed_algs: Vec<_> = ASYMMETRIC_ALGS
            .into_iter()
            .filter(|alg| metadata.id_token_signing_alg_values_supported().contains(alg))
            .collect();
        if allowed_algs.is_empty() {
            return Err(OidcError::Discovery(
                "the provider signs ID tokens with no asymmetric algorithm (only HMAC or none)".to_owned(),
            ));
        }

        let inner = InnerClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id),
            Some(ClientSecret::new(config.client_secret.0)),
        )
        .set_redirect_uri(redirect_url)
        .set_auth_type(auth_type);

        Ok(Self {
            inner,
            http,
            issuer: config.issuer,
            allowed_algs,
            scopes: config.scopes.into_iter().filter(|s| s != "openid").collect(),
            extra_auth_params: config.extra_auth_params,
            fetch_userinfo: config.fetch_userinfo,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        self.inner.client_id().as_str()
    }

    /// Starts a login: the URL to redirect the browser to, and what to keep until the callback.
    /// `state`, `nonce` and the PKCE verifier are fresh random values (from the OS generator).
    pub fn begin(&self) -> (Url, PendingLogin) {
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .inner
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(pkce_challenge);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for (name, value) in &self.extra_auth_params {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            issuer: self.issuer.clone(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: pkce_verifier.secret().clone(),
        };
        (url, pending)
    }

    /// Completes a login from the callback's `code` and `state` query parameters. `now` is the
    /// time against which the ID token's expiry is checked.
    ///
    /// A callback carrying `error` (e.g. `access_denied`) instead of `code` is the server's to
    /// report; it must still delete the pending login.
    pub async fn complete(
        &self,
        pending: &PendingLogin,
        code: &str,
        returned_state: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedIdentity, OidcError> {
        if pending.issuer != self.issuer {
            return Err(OidcError::IssuerMismatch { started_with: pending.issuer.clone() });
        }
        if !constant_time_eq(pending.state.as_bytes(), returned_state.as_bytes()) {
            return Err(OidcError::StateMismatch);
        }

        let tokens = self
            .inner
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;

        let id_token =
            tokens.id_token().ok_or_else(|| OidcError::IdToken("the token response has no id_token".to_owned()))?;
        let verifier = self
            .inner
            .id_token_verifier()
            .set_allowed_algs(self.allowed_algs.iter().cloned())
            .set_time_fn(move || now)
            .set_issue_time_verifier_fn(move |iat| {
                if iat > now + MAX_CLOCK_SKEW { Err(format!("issued in the future ({iat})")) } else { Ok(()) }
            });
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|e| OidcError::IdToken(chain(&e)))?;

        if let Some(expected_hash) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| OidcError::IdToken(chain(&e)))?;
            let key = id_token.signing_key(&verifier).map_err(|e| OidcError::IdToken(chain(&e)))?;
            let actual_hash = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| OidcError::IdToken(format!("at_hash: {e}")))?;
            if actual_hash != *expected_hash {
                return Err(OidcError::IdToken("at_hash does not match the access token".to_owned()));
            }
        }

        let mut identity = VerifiedIdentity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified(),
            given_name: localized(claims.given_name()),
            family_name: localized(claims.family_name()),
            acr: claims.auth_context_ref().map(|acr| acr.to_string()),
            extra_claims: claims.additional_claims().claims.clone(),
        };

        if self.fetch_userinfo && self.inner.user_info_url().is_some() {
            let info = self
                .inner
                .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
                .map_err(|e| OidcError::UserInfo(e.to_string()))?
                .request_async::<OtherClaims, _, CoreGenderClaim>(&self.http)
                .await
                .map_err(userinfo_error)?;
            if let Some(email) = info.email() {
                identity.email = Some(email.to_string());
                identity.email_verified = info.email_verified();
            }
            identity.given_name = localized(info.given_name()).or(identity.given_name);
            identity.family_name = localized(info.family_name()).or(identity.family_name);
            identity.extra_claims.extend(info.additional_claims().claims.clone());
        }
        Ok(identity)
    }
}

async fn fetch_metadata(
    http: &reqwest::Client,
    discovery_url: &Url,
    issuer: &IssuerUrl,
) -> Result<CoreProviderMetadata, OidcError> {
    let response = http
        .get(discovery_url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| OidcError::Discovery(format!("{discovery_url}: {}", chain(&e))))?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(OidcError::Discovery(format!("{discovery_url}: HTTP status {status}")));
    }
    let body = response.bytes().await.map_err(|e| OidcError::Discovery(format!("{discovery_url}: {}", chain(&e))))?;
    let metadata: CoreProviderMetadata = serde_json::from_slice(&body)
        .map_err(|e| OidcError::Discovery(format!("{discovery_url}: invalid discovery document: {e}")))?;
    // OpenID Connect Discovery 1.0 §4.3: the issuer must be exactly the one we expect.
    if metadata.issuer() != issuer {
        return Err(OidcError::Discovery(format!(
            "{discovery_url} is for issuer {:?}, not {:?}",
            metadata.issuer().as_str(),
            issuer.as_str()
        )));
    }
    Ok(metadata)
}

/// The token endpoint authentication to use. A provider that does not list its methods supports
/// `client_secret_basic` (Discovery 1.0 §3).
fn client_auth_type(wanted: ClientAuth, supported: Option<&Vec<CoreClientAuthMethod>>) -> Result<AuthType, OidcError> {
    let offers = |method: &CoreClientAuthMethod| match supported {
        Some(supported) => supported.contains(method),
        None => *method == CoreClientAuthMethod::ClientSecretBasic,
    };
    let basic = offers(&CoreClientAuthMethod::ClientSecretBasic);
    let post = offers(&CoreClientAuthMethod::ClientSecretPost);
    match wanted {
        ClientAuth::Auto | ClientAuth::Basic if basic => Ok(AuthType::BasicAuth),
        ClientAuth::Auto | ClientAuth::Post if post => Ok(AuthType::RequestBody),
        ClientAuth::Auto => Err(OidcError::Discovery(
            "the token endpoint offers neither client_secret_basic nor client_secret_post".to_owned(),
        )),
        ClientAuth::Basic => {
            Err(OidcError::Discovery("the token endpoint does not offer client_secret_basic".to_owned()))
        }
        ClientAuth::Post => {
            Err(OidcError::Discovery("the token endpoint does not offer client_secret_post".to_owned()))
        }
    }
}

fn token_error(error: TokenError) -> OidcError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let mut message = response.error().to_string();
            if let Some(description) = response.error_description() {
                message = format!("{message} ({description})");
            }
            if *response.error() == CoreErrorResponseType::InvalidClient {
                OidcError::ClientRejected(message)
            } else {
                OidcError::TokenExchange(message)
            }
        }
        RequestTokenError::Request(e) => OidcError::TokenExchange(format!("token endpoint: {}", chain(&e))),
        // The body may hold tokens: report only where parsing failed.
        RequestTokenError::Parse(e, _body) => {
            OidcError::TokenExchange(format!("unreadable token response (at `{}`)", e.path()))
        }
        RequestTokenError::Other(message) => OidcError::TokenExchange(message),
    }
}

fn userinfo_error(error: UserInfoError<HttpClientError<reqwest::Error>>) -> OidcError {
    match error {
        // The body may hold personal data: report only the status.
        UserInfoError::Response(status, _body, message) => {
            OidcError::UserInfo(format!("HTTP status {status}: {message}"))
        }
        other => OidcError::UserInfo(chain(&other)),
    }
}

/// The claim in the default language, else in any language.
fn localized<T: std::ops::Deref<Target = String>>(claim: Option<&LocalizedClaim<T>>) -> Option<String> {
    let claim = claim?;
    claim.get(None).or_else(|| claim.iter().next().map(|(_, value)| value)).map(|value| value.to_string())
}

/// An error and its sources, `: `-separated (openidconnect keeps the useful part in sources).
fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_not_printed() {
        let config =
            OidcConfig::new("https://issuer.example", "client", Secret::new("hunter2"), "https://maillage.example/cb");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        let pending = PendingLogin {
            issuer: "https://issuer.example".into(),
            state: "s".into(),
            nonce: "the-nonce".into(),
            pkce_verifier: "the-verifier".into(),
        };
        let printed = format!("{pending:?}");
        assert!(!printed.contains("the-nonce") && !printed.contains("the-verifier"), "{printed}");
    }

    #[test]
    fn pending_login_round_trips_through_json() {
        let pending = PendingLogin {
            issuer: "https://issuer.example".into(),
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
        };
        let json = serde_json::to_string(&pending).unwrap();
        assert_eq!(serde_json::from_str::<PendingLogin>(&json).unwrap(), pending);
    }

    /// The web server awaits these in handlers whose futures must be `Send`, and shares the
    /// client between threads (compile-time check).
    #[allow(dead_code)]
    fn futures_are_send(client: &OidcClient, pending: &PendingLogin, config: OidcConfig, now: DateTime<Utc>) {
        fn send<T: Send>(_: T) {}
        fn shared<T: Send + Sync>(_: &T) {}
        send(OidcClient::discover(config));
        send(client.complete(pending, "", "", now));
        shared(client);
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn client_auth_prefers_basic_and_falls_back_to_post() {
        use ClientAuth::{Auto, Basic, Post};
        use CoreClientAuthMethod::{ClientSecretBasic, ClientSecretPost, PrivateKeyJwt};
        let both = vec![ClientSecretPost, ClientSecretBasic];
        let post_only = vec![PrivateKeyJwt, ClientSecretPost];
        let neither = vec![PrivateKeyJwt];
        assert!(matches!(client_auth_type(Auto, None), Ok(AuthType::BasicAuth)));
        assert!(matches!(client_auth_type(Auto, Some(&both)), Ok(AuthType::BasicAuth)));
        assert!(matches!(client_auth_type(Auto, Some(&post_only)), Ok(AuthType::RequestBody)));
        assert!(matches!(client_auth_type(Auto, Some(&neither)), Err(OidcError::Discovery(_))));
        assert!(matches!(client_auth_type(Post, Some(&both)), Ok(AuthType::RequestBody)));
        assert!(matches!(client_auth_type(Post, None), Err(OidcError::Discovery(_))));
        assert!(matches!(client_auth_type(Basic, Some(&both)), Ok(AuthType::BasicAuth)));
        assert!(matches!(client_auth_type(Basic, Some(&post_only)), Err(OidcError::Discovery(_))));
    }

    /// A Keycloak-style discovery document with the kinds of values Pro Santé Connect's
    /// (Keycloak-based) one lists: an authorization endpoint on another host, EdDSA and HMAC
    /// algorithms, JWT response modes, mTLS aliases. It must parse.
    #[test]
    fn keycloak_style_discovery_document_parses() {
        let document = serde_json::json!({
            "issuer": "https://auth.example.test/auth/realms/wallet",
            "authorization_endpoint": "https://wallet.example.test/auth",
            "token_endpoint": "https://auth.example.test/auth/realms/wallet/protocol/openid-connect/token",
            "userinfo_endpoint": "https://auth.example.test/auth/realms/wallet/protocol/openid-connect/userinfo",
            "jwks_uri": "https://auth.example.test/auth/realms/wallet/protocol/openid-connect/certs",
            "grant_types_supported": ["authorization_code", "refresh_token", "urn:openid:params:grant-type:ciba"],
            "acr_values_supported": ["0", "0"],
            "response_types_supported": ["code", "none", "id_token", "code id_token token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["PS384", "EdDSA", "HS256", "RS256", "ES512"],
            "id_token_encryption_alg_values_supported": ["RSA-OAEP", "RSA1_5"],
            "id_token_encryption_enc_values_supported": ["A256GCM", "A128CBC-HS256"],
            "userinfo_signing_alg_values_supported": ["RS256", "none"],
            "response_modes_supported": ["query", "fragment", "form_post", "query.jwt", "jwt"],
            "token_endpoint_auth_methods_supported":
                ["private_key_jwt", "client_secret_basic", "client_secret_post", "tls_client_auth", "client_secret_jwt"],
            "claims_supported": ["aud", "sub", "iss", "given_name", "family_name", "preferred_username", "email", "acr"],
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": true,
            "scopes_supported": ["openid", "scope_all", "eidas1", "profile", "email"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "tls_client_certificate_bound_access_tokens": true,
            "mtls_endpoint_aliases": {"token_endpoint": "https://auth.example.test/token"},
            "authorization_response_iss_parameter_supported": true
        });
        let metadata: CoreProviderMetadata = serde_json::from_value(document).unwrap();
        assert_eq!(metadata.authorization_endpoint().as_str(), "https://wallet.example.test/auth");
        assert!(matches!(
            client_auth_type(ClientAuth::Auto, metadata.token_endpoint_auth_methods_supported()),
            Ok(AuthType::BasicAuth)
        ));
        let algs: Vec<_> = ASYMMETRIC_ALGS
            .into_iter()
            .filter(|alg| metadata.id_token_signing_alg_values_supported().contains(alg))
            .collect();
        assert!(algs.contains(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
        assert!(!algs.contains(&CoreJwsSigningAlgorithm::HmacSha256));
    }
}
