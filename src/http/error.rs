//! The one error idiom of the HTTP layer. Handlers return [`ApiError`]; it carries a status,
//! a stable machine-readable `code` and the message in both languages. The
//! [`localize_errors`] middleware renders it as `{"error": {"code", "message"}}` in the
//! language the request asked for (`Accept-Language`, Chinese by default).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{Lang, Text};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub text: Text,
    /// Seconds, sent as `Retry-After` (lockouts).
    pub retry_after: Option<u64>,
    /// The request field the error is about, so a form can mark it.
    pub field: Option<&'static str>,
}

/// The JSON shape of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable identifier for scripts, e.g. `invalid_credentials`.
    pub code: String,
    /// Human-readable, in the request's language.
    pub message: String,
    /// The request field at fault, when there is one (e.g. `job_number`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, text: Text) -> ApiError {
        ApiError {
            status,
            code,
            text,
            retry_after: None,
            field: None,
        }
    }

    /// The same error, about one field of the request.
    pub fn on_field(mut self, field: &'static str) -> ApiError {
        self.field = Some(field);
        self
    }

    pub fn bad_request(code: &'static str, text: Text) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, text)
    }

    pub fn not_logged_in() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "not_logged_in",
            Text::fixed(
                "未登录或登录已过期，请重新登录。",
                "You are not logged in, or your session has expired. Please log in again.",
            ),
        )
    }

    pub fn password_change_required() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            Text::fixed(
                "请先修改默认密码，然后才能使用控制台。",
                "Change the default password before using the console.",
            ),
        )
    }

    /// An `/api` path no route serves (an entity that does not exist is `not_found`).
    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            Text::fixed("请求的接口不存在。", "No such API route."),
        )
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            Text::fixed(
                "该接口不支持此请求方法。",
                "This API route does not support that method.",
            ),
        )
    }

    /// A failure on our side. The cause goes to the log, never to the client.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        log::error!("internal error: {cause}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            Text::fixed(
                "设备内部错误，请稍后重试；若持续出现请查看系统日志。",
                "Internal error on the device; try again, and check the system log if it persists.",
            ),
        )
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> ApiError {
        ApiError::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// Renders [`ApiError`]s in the request's language.
pub async fn localize_errors(request: Request, next: Next) -> Response {
    let lang = Lang::from_accept_language(
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: error.code.to_string(),
                message: error.text.get(lang).to_string(),
                field: error.field.map(str::to_string),
            },
        };
        let json = serde_json::to_vec(&body).expect("error body serializes");
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(match lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            }),
        );
        headers.remove(header::CONTENT_LENGTH);
        *response.body_mut() = Body::from(json);
    }
    response
}
