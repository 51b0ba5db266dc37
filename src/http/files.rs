//! Serving a file from flash or USB as a download or for an `<audio>` player: HTTP ranges
//! (206 for a part, 416 past the end, so seeking works), the content type, and an inline or
//! attachment `Content-Disposition` with the name the file should get. Streams; never reads a
//! whole file into memory. Callers have already decided that the path may be served.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::error::ApiError;
use crate::media::range::{self, RangeDecision};

/// `?download=1`: save the file instead of playing it.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct DownloadQuery {
    /// 1 to download instead of playing.
    pub download: Option<u8>,
}

impl DownloadQuery {
    pub fn disposition(&self) -> Disposition {
        if self.download == Some(1) {
            Disposition::Attachment
        } else {
            Disposition::Inline
        }
    }
}

/// How the browser should treat the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Played in the page.
    Inline,
    /// Saved as a file.
    Attachment,
}

/// Streams `file` (already open) as the answer to a request with `headers`.
pub async fn serve(
    mut file: tokio::fs::File,
    content_type: &str,
    name: &str,
    disposition: Disposition,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    let decision = range::parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let mut response = match decision {
        RangeDecision::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                range::unsatisfied_content_range(len)
                    .parse()
                    .expect("ascii"),
            );
            return Ok(r);
        }
        RangeDecision::Full => {
            let stream = tokio_util::io::ReaderStream::new(file);
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert(header::CONTENT_LENGTH, len.into());
            r
        }
        RangeDecision::Partial { start, end } => {
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(ApiError::internal)?;
            let part = file.take(end - start + 1);
            let stream = tokio_util::io::ReaderStream::new(part);
            let mut r = Response::new(Body::from_stream(stream));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, (end - start + 1).into());
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                range::content_range(start, end, len)
                    .parse()
                    .expect("ascii"),
            );
            r
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        content_type.parse().map_err(ApiError::internal)?,
    );
    h.insert(header::ACCEPT_RANGES, "bytes".parse().expect("static"));
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(name, disposition)
            .parse()
            .map_err(ApiError::internal)?,
    );
    Ok(response)
}

/// `inline`/`attachment` with the name as an ASCII fallback and RFC 5987 UTF-8 (Chinese names).
pub fn content_disposition(name: &str, disposition: Disposition) -> String {
    let kind = match disposition {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_in_the_header() {
        assert_eq!(
            content_disposition("a.wav", Disposition::Inline),
            "inline; filename=\"a.wav\"; filename*=UTF-8''a.wav"
        );
        assert_eq!(
            content_disposition("欢迎\".wav", Disposition::Attachment),
            "attachment; filename=\"___.wav\"; filename*=UTF-8''%E6%AC%A2%E8%BF%8E%22.wav"
        );
    }
}
