//! The JSON body extractor of the API: like axum's, but every rejection (malformed JSON, a
//! wrong field, a missing `Content-Type`, a body over the configured limit) becomes an
//! [`ApiError`] with a message in the UI's language.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;
use crate::i18n::Text;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(reject(rejection)),
        }
    }
}

fn reject(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
    use axum::extract::rejection::JsonRejection::*;
    match rejection {
        MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Text::fixed(
                "请求内容必须是 JSON（Content-Type: application/json）。",
                "The request body must be JSON (Content-Type: application/json).",
            ),
        ),
        JsonSyntaxError(err) => ApiError::bad_request(
            "malformed_json",
            Text::owned(
                format!("请求内容不是有效的 JSON：{}", err.body_text()),
                format!("The request body is not valid JSON: {}", err.body_text()),
            ),
        ),
        JsonDataError(err) => ApiError::bad_request(
            "invalid_fields",
            Text::owned(
                format!("请求字段有误：{}", err.body_text()),
                format!(
                    "The request has wrong or missing fields: {}",
                    err.body_text()
                ),
            ),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            Text::fixed("请求内容过大。", "The request body is too large."),
        ),
        other => ApiError::bad_request(
            "bad_body",
            Text::owned(
                format!("无法读取请求内容：{}", other.body_text()),
                format!("The request body could not be read: {}", other.body_text()),
            ),
        ),
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
