//! The few cookies Maillage sets, parsed and written by hand (no cookie jar on the server).

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION: &str = "maillage_session";
/// Double-submit CSRF token for forms shown before login.
pub const PRE_LOGIN_CSRF: &str = "maillage_csrf";
/// Binds a pending OpenID Connect login to the browser that started it.
pub const OIDC_BROWSER: &str = "maillage_oidc";

pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, path /, SameSite as given, Secure when served over https.
pub fn set(name: &str, value: &str, max_age_secs: i64, same_site: &str, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", 0, "Lax", secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; maillage_session=tok; b=2"));
        assert_eq!(get(&h, SESSION).as_deref(), Some("tok"));
        assert_eq!(get(&h, "c"), None);
        assert_eq!(set("x", "v", 60, "Strict", true), "x=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
    }
}
