//! The web UI, embedded in the binary by `build.rs`: each file with its ETag and precompressed
//! brotli and gzip variants. Answers `If-None-Match` with 304, picks the best encoding the
//! browser accepts, and lets browsers keep content-hashed files (under `/assets/`) for a year
//! while `index.html` is revalidated on every load.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::i18n::Text;

pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS.iter().find(|asset| asset.path == path)
}

/// Serves an embedded file; the fallback of every route that is not the API.
pub async fn serve(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") || request.uri().path() == "/api" {
        return ApiError::not_found().into_response();
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return ApiError::method_not_allowed().into_response();
    }
    let Some(asset) = find(request.uri().path()) else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Text::fixed("页面不存在。", "No such page."),
        )
        .into_response();
    };
    respond(asset, request.headers(), *request.method() == Method::HEAD)
}

fn respond(asset: &'static Asset, request_headers: &HeaderMap, head_only: bool) -> Response {
    let cache_control = if asset.path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if etag_matches(request_headers, asset.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (encoding, bytes) = choose_encoding(asset, request_headers);
        let mut response = if head_only {
            let mut r = Response::new(Body::empty());
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            r
        } else {
            Response::new(Body::from(bytes))
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        if let Some(encoding) = encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

fn choose_encoding(asset: &Asset, headers: &HeaderMap) -> (Option<&'static str>, &'static [u8]) {
    let accepts = |name: &str| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|item| {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        == Some(0.0)
                });
                coding.eq_ignore_ascii_case(name) && !refused
            })
    };
    match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepts("br") => (Some("br"), br),
        (_, Some(gz)) if accepts("gzip") => (Some("gzip"), gz),
        _ => (None, asset.identity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_embedded() {
        let index = find("/").expect("index.html embedded");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert!(index.etag.starts_with('"') && index.etag.ends_with('"'));
    }

    #[test]
    fn encoding_negotiation() {
        let asset = Asset {
            path: "/x.js",
            content_type: "text/javascript",
            etag: "\"1\"",
            identity: b"plain",
            gzip: Some(b"gz"),
            brotli: Some(b"br"),
        };
        let mut h = HeaderMap::new();
        assert_eq!(choose_encoding(&asset, &h).0, None);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert_eq!(choose_encoding(&asset, &h).0, Some("br"));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=0, gzip"),
        );
        assert_eq!(choose_encoding(&asset, &h).0, Some("gzip"));
    }

    #[test]
    fn etag_matching() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(etag_matches(&h, "\"b\""));
        assert!(!etag_matches(&h, "\"c\""));
    }
}
