//! `/api/v1/firmware`: field upgrades from the console (admin menu, system section). Upload a
//! RAUC bundle; it is verified and inspected before anything is written, and its version and
//! compatible string are shown; then installed into the inactive slot with progress; a reboot
//! makes it active, and the next healthy start marks it good. Every step is audited.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::Serialize;
use utoipa::ToSchema;

use crate::firmware::{BundleInfo, FirmwareError, InstallProgress};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};

#[derive(Serialize, ToSchema)]
pub struct FirmwareStatus {
    /// Whether the update service (RAUC) answers.
    pub available: bool,
    /// Why not, when it does not.
    pub unavailable_reason: Option<String>,
    /// This device's compatible string (bundles must carry the same).
    pub compatible: Option<String>,
    pub boot_slot: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub slots: Vec<crate::firmware::SlotStatus>,
    #[schema(value_type = Object)]
    pub progress: Option<InstallProgress>,
    /// The uploaded bundle waiting to be installed.
    #[schema(value_type = Object)]
    pub uploaded: Option<BundleInfo>,
}

fn firmware_error(err: FirmwareError) -> ApiError {
    let status = match &err {
        FirmwareError::UploadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        FirmwareError::Busy => StatusCode::CONFLICT,
        FirmwareError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        e if e.is_client_error() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => {
            log::error!("firmware: {err}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    ApiError::new(status, err.code(), err.text())
}

/// The slots, the install progress and the uploaded bundle.
#[utoipa::path(get, path = "/api/v1/firmware", tag = "firmware",
    responses((status = 200, body = FirmwareStatus), (status = 401, body = ErrorBody)))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> ApiJson<FirmwareStatus> {
    let upgrader = match state.firmware.upgrader().await {
        Ok(upgrader) => upgrader,
        Err(err) => {
            return ApiJson(FirmwareStatus {
                available: false,
                unavailable_reason: Some(err.to_string()),
                compatible: None,
                boot_slot: None,
                slots: vec![],
                progress: None,
                uploaded: None,
            })
        }
    };
    // The watch guard must not live across an await (it is not Send).
    let progress = upgrader.progress().borrow().clone();
    ApiJson(FirmwareStatus {
        available: true,
        unavailable_reason: None,
        compatible: upgrader.system_compatible().await.ok(),
        boot_slot: upgrader.boot_slot().await.ok(),
        slots: upgrader.slots().await.unwrap_or_default(),
        progress: Some(progress),
        uploaded: state.firmware.uploaded().await,
    })
}

/// Upload a bundle (the raw `.raucb` as the body). It is checked and inspected, never
/// installed by this call; a refused bundle is deleted.
#[utoipa::path(post, path = "/api/v1/firmware/bundle", tag = "firmware",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Accepted: version and compatible to confirm", body = Object),
        (status = 413, description = "Over the size limit", body = ErrorBody),
        (status = 422, description = "Another product, bad signature, unknown CA, too large for the slot, truncated", body = ErrorBody),
        (status = 409, description = "An install is running", body = ErrorBody),
        (status = 503, description = "The update service is not available", body = ErrorBody)
    ))]
pub async fn upload(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    body: Body,
) -> Result<ApiJson<BundleInfo>, ApiError> {
    let result = state.firmware.receive(body.into_data_stream()).await;
    match result {
        Ok(info) => {
            audit(
                &state,
                &session.username,
                client,
                "firmware.uploaded",
                &info.version,
                None,
                Some(info.compatible.clone()),
            )
            .await?;
            Ok(ApiJson(info))
        }
        Err(err) => {
            audit(
                &state,
                &session.username,
                client,
                "firmware.refused",
                err.code(),
                None,
                Some(err.to_string()),
            )
            .await?;
            Err(firmware_error(err))
        }
    }
}

/// Install the uploaded bundle into the inactive slot; follow with `GET /api/v1/firmware`.
#[utoipa::path(post, path = "/api/v1/firmware/install", tag = "firmware",
    responses(
        (status = 202, description = "Installing", body = Object),
        (status = 404, description = "No bundle uploaded", body = ErrorBody),
        (status = 409, description = "An install is already running", body = ErrorBody)
    ))]
pub async fn install(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
) -> Result<(StatusCode, ApiJson<BundleInfo>), ApiError> {
    match state.firmware.install().await.map_err(firmware_error)? {
        Some(info) => {
            audit(
                &state,
                &session.username,
                client,
                "firmware.install_started",
                &info.version,
                None,
                None,
            )
            .await?;
            Ok((StatusCode::ACCEPTED, ApiJson(info)))
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_bundle",
            crate::i18n::Text::fixed("请先上传固件升级包。", "Upload a firmware bundle first."),
        )),
    }
}
