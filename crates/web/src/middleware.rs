//! Cross-cutting layers: request ids, security headers, same-origin checks on writes.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id given by the request-id layer (or "-" outside of it).
pub fn request_id(headers: &axum::http::HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// Content Security Policy: only our own scripts and styles (htmx is served from /static and
/// configured not to inject inline styles), no framing, forms post only to ourselves.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   frame-ancestors 'none'; form-action 'self'";

pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()");
    set(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    if state.settings.secure_cookies() {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry personal data: never cache them in shared caches.
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// Refuses state-changing requests whose `Origin` (or, failing that, `Referer`) is another
/// site: a second line of defence behind the CSRF tokens.
pub async fn same_origin_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        let public = state.settings.public_url.trim_end_matches('/');
        let headers = request.headers();
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
        let host_origin = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(|host| format!("{}://{host}", if state.settings.secure_cookies() { "https" } else { "http" }));
        let matches = |o: &str| o == public || host_origin.as_deref() == Some(o);
        let ok = match (origin, referer) {
            (Some("null"), _) => false,
            (Some(o), _) => matches(o),
            (None, Some(r)) => matches(origin_of(r)),
            (None, None) => true, // non-browser clients (API tokens, curl)
        };
        if !ok {
            return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
        }
    }
    next.run(request).await
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Error pages are drawn anonymously (they must render whatever failed); for a logged-in person
/// this redraws them with her header and navigation, so a refusal is not a dead end.
pub async fn error_pages_with_chrome(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let session_cookie = crate::auth::cookies::get(request.headers(), crate::auth::cookies::SESSION);
    let response = next.run(request).await;
    let (Some(info), Some(token)) =
        (response.extensions().get::<crate::error::ErrorPageInfo>().cloned(), session_cookie)
    else {
        return response;
    };
    let hash = crate::auth::secrets::token_hash(&token);
    let lookup = maillage_store::AccountStore::live_session(&state.store, &hash, state.now()).await;
    let Ok(Some((session, account))) = lookup else {
        return response;
    };
    let principal = crate::auth::Principal { account, session: Some(session) };
    let page = crate::pages::ErrorPage {
        chrome: crate::pages::Chrome::for_user(&principal, format!("Erreur {}", info.status), None, ""),
        status: info.status,
        message: info.message,
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(crate::pages::render(&page)))
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins() {
        assert_eq!(origin_of("http://127.0.0.1:8080/connexion?x=1"), "http://127.0.0.1:8080");
        assert_eq!(origin_of("https://maillage.example"), "https://maillage.example");
    }
}
