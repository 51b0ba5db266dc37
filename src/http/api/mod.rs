//! The JSON API under `/api/v1/`. Each submodule is one resource; handlers parse the request,
//! call a service and map its result to a status. The OpenAPI document is assembled from the
//! handlers' annotations by utoipa while the router is built, so a route cannot exist without
//! being documented.

pub mod about;
pub mod account;
pub mod console;
pub mod dashboard;
pub mod session;

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, ErrorDetail};
use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CooCenter console API",
        description = "The management API of the coocenterd call-center appliance daemon. \
            Errors are `{\"error\": {\"code\", \"message\"}}`, with the message in the \
            language of `Accept-Language` (Chinese by default, English on request). \
            Authentication is the `coocenter_session` cookie set by `POST /api/v1/session`."
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "session", description = "Login and logout"),
        (name = "account", description = "The administrator's own account"),
        (name = "system", description = "The box"),
        (name = "monitoring", description = "Live queues, agents and callers (manual §3)"),
        (name = "console", description = "Asterisk CLI through AMI (manual §2, 控制台访问)")
    )
)]
struct ApiDoc;

/// The API routes and their OpenAPI document.
pub fn routes() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login, session::current, session::logout))
        .routes(routes!(account::change_password))
        .routes(routes!(account::get_settings, account::put_settings))
        .routes(routes!(about::about))
        .routes(routes!(about::system))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(dashboard::events))
        .routes(routes!(console::command))
        .split_for_parts()
}

/// `GET /api/v1/openapi.json`: the document, serialized once at start.
pub async fn openapi_document(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.clone(),
    )
}
