//! The query-string extractor of the API: like axum's `Query`, but a bad query string
//! (`?page=-1`, `?per_page=x`, a control character such as NUL in a search) is the API's
//! JSON error in the UI's language, never axum's `text/plain` rejection or a 500 from a
//! search engine that cannot take the character.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::i18n::Text;

pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|err| invalid(&err.to_string()))?;
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, value)| name.chars().chain(value.chars()).any(char::is_control))
        {
            return Err(ApiError::bad_request(
                "invalid_query",
                Text::owned(
                    format!("查询参数 {name} 含有控制字符（如 NUL），请删除后重试。"),
                    format!("The query parameter {name} contains a control character (such as NUL); remove it and try again."),
                ),
            )
            .on_field(field_name(name)));
        }
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|err| invalid(&err.to_string()))
    }
}

fn invalid(detail: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_query",
        Text::owned(
            format!("查询参数有误：{detail}"),
            format!("The query string is invalid: {detail}"),
        ),
    )
}

/// `on_field` takes a static name; the query's own names are few and known to the
/// handlers, so an unknown one is reported without a field.
fn field_name(name: &str) -> &'static str {
    const KNOWN: [&str; 8] = [
        "q", "customer", "number", "queue", "agent", "from", "to", "ids",
    ];
    KNOWN
        .iter()
        .copied()
        .find(|known| *known == name)
        .unwrap_or("query")
}
