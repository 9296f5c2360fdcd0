//! Server settings, built by the CLI from defaults, an optional TOML file and `MAILLAGE_*`
//! environment variables (in that order of precedence, lowest first).

use serde::Deserialize;
use std::fmt;

/// A secret that never prints.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The URL people use to reach the server (scheme, host, port): it decides cookie flags
    /// (`Secure` when https) and the OpenID Connect redirect URI.
    pub public_url: String,
    pub session_hours: i64,
    /// Failed logins allowed per account and per address within the window before refusing.
    pub login_max_failures: u32,
    pub login_window_minutes: i64,
    /// Trust the first address of `X-Forwarded-For` (only behind a reverse proxy you run).
    pub trust_forwarded_for: bool,
    pub oidc: Option<OidcSettings>,
    /// Where uploaded extracts wait while they are imported (the system's temporary folder by
    /// default); give a folder on a disk with room for 1 GB per import running at once.
    pub import_dir: Option<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            session_hours: 12,
            login_max_failures: 5,
            login_window_minutes: 15,
            trust_forwarded_for: false,
            oidc: None,
            import_dir: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// Button label, e.g. "Pro Santé Connect".
    pub label: String,
    pub issuer: String,
    /// When the provider publishes its discovery document elsewhere than
    /// `{issuer}/.well-known/openid-configuration` (Pro Santé Connect does).
    #[serde(default)]
    pub discovery_url: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub extra_auth_params: Vec<(String, String)>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}

impl Settings {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn oidc_redirect_uri(&self) -> String {
        format!("{}/auth/oidc/callback", self.public_url.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = OidcSettings {
            label: "PSC".into(),
            issuer: "https://x".into(),
            discovery_url: None,
            client_id: "id".into(),
            client_secret: Secret::new("hunter2"),
            scopes: default_scopes(),
            extra_auth_params: vec![],
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
