//! Request guards applied to every route: refusal of cross-site state changes (CSRF), the
//! security headers every answer carries, and no caching of API answers.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::i18n::Text;

/// The UI is same-origin only: scripts, styles, images, media and API calls from this box;
/// no inline script, no framing. Not HSTS: the box usually runs on a self-signed
/// certificate, and HSTS would stop the owner from clicking through the browser's warning.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; media-src 'self' blob:; font-src 'self'; \
     object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses a state-changing request that a browser says comes from another site: with
/// `Sec-Fetch-Site: cross-site`/`same-site`, or an `Origin` whose host is not the one the
/// request was sent to. Requests without either header (scripts, curl) pass: they carry no
/// ambient browser cookies, so they cannot be forged by another page.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if unsafe_method
        && is_cross_site(
            request.headers(),
            request.uri().authority().map(|a| a.as_str()),
        )
    {
        log::warn!(
            "refused cross-site {} {} (Origin {:?})",
            request.method(),
            request.uri().path(),
            request.headers().get(header::ORIGIN)
        );
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            Text::fixed(
                "拒绝来自其他网站的请求。",
                "Requests from another site are refused.",
            ),
        )
        .into_response();
    }
    next.run(request).await
}

fn is_cross_site(headers: &HeaderMap, uri_authority: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return true;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    // HTTP/2 carries the host in the URI authority, HTTP/1.1 in the Host header.
    let host = uri_authority.or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()));
    let Some(host) = host else {
        return true;
    };
    match origin.strip_prefix("https://") {
        Some(origin_host) => !origin_host.eq_ignore_ascii_case(host),
        // `null` (sandboxed frames, some redirects) and http:// origins are foreign.
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_passes() {
        let h = headers(&[
            ("origin", "https://192.168.1.100:8080"),
            ("host", "192.168.1.100:8080"),
        ]);
        assert!(!is_cross_site(&h, None));
        let h = headers(&[
            ("origin", "https://box:8080"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(!is_cross_site(&h, Some("box:8080")));
    }

    #[test]
    fn scripts_without_browser_headers_pass() {
        assert!(!is_cross_site(&headers(&[("host", "box:8080")]), None));
    }

    #[test]
    fn foreign_origins_are_refused() {
        let h = headers(&[("origin", "https://evil.example"), ("host", "box:8080")]);
        assert!(is_cross_site(&h, None));
        let h = headers(&[("origin", "http://box:8080"), ("host", "box:8080")]);
        assert!(is_cross_site(&h, None));
        let h = headers(&[("origin", "null"), ("host", "box:8080")]);
        assert!(is_cross_site(&h, None));
        let h = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(is_cross_site(&h, None));
        let h = headers(&[("origin", "https://box:9999"), ("host", "box:8080")]);
        assert!(is_cross_site(&h, None));
    }
}
