//! Firmware: field upgrades, factory provisioning and factory reset.
//!
//! Owns the conversation with RAUC (the A/B update service on the box) over its D-Bus API
//! (`rauc`): an uploaded bundle is checked ([`bundle`]: complete file, certificates, inline
//! manifest), verified and inspected by RAUC, refused with a message in both languages when it
//! is for another product, badly signed, signed by an unknown CA, larger than its slot or
//! truncated, then installed into the inactive slot with progress on a `watch` channel, one
//! install at a time ([`upgrade`]). After the reboot, [`Upgrader::mark_good_if_healthy`] marks
//! the booted slot good only once the daemon's health checks pass; otherwise it leaves the
//! slot to the bootloader, which falls back to the previous one after its boot attempts run
//! out. [`provision`] writes the per-device identity, TLS key and certificate, unique admin
//! password and AMI secret at the factory, and erases user data on a factory reset.
//!
//! May call: `fs_atomic`, `i18n`, `accounts::password` (hashing only). Called by `http`
//! (upload, progress, reset) and by `main`/`start` (mark-good after start, provisioning CLI).
//! Never runs the `rauc` command line: everything goes through D-Bus (the bus address is
//! configurable, so tests run a real `rauc service` on a private bus).

pub mod bundle;
mod der;
pub mod provision;
pub mod rauc;
pub mod service;
pub mod upgrade;

#[cfg(test)]
mod tests;

use crate::i18n::Text;

pub use provision::{
    factory_reset, provision, DeviceIdentity, DevicePaths, ProvisionError, Provisioned,
};
pub use rauc::SlotStatus;
pub use upgrade::{
    health_check, BundleInfo, HealthCheck, HealthOutcome, ImageCheck, InstallProgress,
    InstallState, UpgradeConfig, Upgrader,
};

/// Why an upgrade step was refused or failed. [`FirmwareError::text`] is what the console
/// shows; [`FirmwareError::code`] is the stable code of the JSON error.
#[derive(Debug, thiserror::Error)]
pub enum FirmwareError {
    #[error("the file is not a RAUC bundle")]
    NotABundle,
    #[error("the bundle is incomplete or damaged: {0}")]
    Truncated(String),
    #[error("the bundle is {size} bytes, over the {max} byte limit")]
    UploadTooLarge { size: u64, max: u64 },
    #[error("bundle for {bundle:?}, this device is {system:?}")]
    OtherProduct { bundle: String, system: String },
    #[error("the bundle is signed by a certificate authority this device does not trust")]
    UnknownCa,
    #[error("the bundle signature does not verify ({0})")]
    BadSignature(String),
    #[error("image {image} needs {image_size} bytes, slot {slot} has {slot_size}")]
    TooLargeForSlot {
        image: String,
        image_size: u64,
        slot: String,
        slot_size: u64,
    },
    #[error("no inactive slot of class {0}")]
    NoTargetSlot(String),
    #[error("another upgrade is in progress")]
    Busy,
    #[error("RAUC refused the bundle: {0}")]
    Refused(String),
    #[error("installation failed: {0}")]
    InstallFailed(String),
    #[error("the update service is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Io(String),
}

impl From<zbus::Error> for FirmwareError {
    fn from(error: zbus::Error) -> Self {
        FirmwareError::Unavailable(rauc::error_message(&error))
    }
}

impl FirmwareError {
    /// Whether the request was at fault (a 4xx): the uploaded file, or a second upgrade.
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            FirmwareError::InstallFailed(_) | FirmwareError::Unavailable(_) | FirmwareError::Io(_)
        )
    }

    /// A stable code for the API's `{"error": {"code"}}`.
    pub fn code(&self) -> &'static str {
        match self {
            FirmwareError::NotABundle => "bundle_invalid",
            FirmwareError::Truncated(_) => "bundle_truncated",
            FirmwareError::UploadTooLarge { .. } => "bundle_too_large",
            FirmwareError::OtherProduct { .. } => "bundle_other_product",
            FirmwareError::UnknownCa => "bundle_unknown_ca",
            FirmwareError::BadSignature(_) => "bundle_bad_signature",
            FirmwareError::TooLargeForSlot { .. } => "bundle_too_large_for_slot",
            FirmwareError::NoTargetSlot(_) => "no_target_slot",
            FirmwareError::Busy => "upgrade_in_progress",
            FirmwareError::Refused(_) => "bundle_refused",
            FirmwareError::InstallFailed(_) => "install_failed",
            FirmwareError::Unavailable(_) => "update_service_unavailable",
            FirmwareError::Io(_) => "firmware_io",
        }
    }

    /// The message for the console, in both languages. Never holds secrets; RAUC's own
    /// (English) detail is appended where it helps support.
    pub fn text(&self) -> Text {
        match self {
            FirmwareError::NotABundle => Text::fixed(
                "上传的文件不是本设备的固件升级包（.raucb）。",
                "The uploaded file is not a firmware bundle (.raucb) for this device.",
            ),
            FirmwareError::Truncated(_) => Text::fixed(
                "升级包不完整或已损坏（上传可能被中断），请重新上传。",
                "The bundle is incomplete or damaged (the upload may have been interrupted); upload it again.",
            ),
            FirmwareError::UploadTooLarge { max, .. } => Text::owned(
                format!("升级包超过允许的最大尺寸（{} MiB）。", max / (1024 * 1024)),
                format!("The bundle is larger than allowed ({} MiB).", max / (1024 * 1024)),
            ),
            FirmwareError::OtherProduct { bundle, system } => Text::owned(
                format!("该升级包适用于其他产品（{bundle}），不能安装到本设备（{system}）。"),
                format!("This bundle is for another product ({bundle}) and cannot be installed on this device ({system})."),
            ),
            FirmwareError::UnknownCa => Text::fixed(
                "升级包的签名证书不受本设备信任，已拒绝安装。请使用官方发布的升级包。",
                "The bundle is signed by a certificate this device does not trust; use an official bundle.",
            ),
            FirmwareError::BadSignature(_) => Text::fixed(
                "升级包签名校验失败：文件已被修改或损坏，已拒绝安装。",
                "The bundle's signature does not verify: the file was altered or damaged, so it was refused.",
            ),
            FirmwareError::TooLargeForSlot {
                image,
                image_size,
                slot,
                slot_size,
            } => Text::owned(
                format!("升级包中的映像 {image}（{image_size} 字节）大于目标分区 {slot}（{slot_size} 字节），无法安装。"),
                format!("The bundle's {image} image ({image_size} bytes) is larger than the target slot {slot} ({slot_size} bytes)."),
            ),
            FirmwareError::NoTargetSlot(class) => Text::owned(
                format!("本设备没有可写入 {class} 映像的备用分区。"),
                format!("This device has no inactive slot for the {class} image."),
            ),
            FirmwareError::Busy => Text::fixed(
                "已有一个升级正在进行，请等待其完成。",
                "Another upgrade is in progress; wait for it to finish.",
            ),
            FirmwareError::Refused(detail) => Text::owned(
                format!("升级服务拒绝了该升级包：{detail}"),
                format!("The update service refused the bundle: {detail}"),
            ),
            FirmwareError::InstallFailed(detail) => Text::owned(
                format!("安装失败，当前运行的系统未受影响：{detail}"),
                format!("Installation failed; the running system is unchanged: {detail}"),
            ),
            FirmwareError::Unavailable(_) => Text::fixed(
                "升级服务暂时不可用，请稍后再试。",
                "The update service is unavailable; try again later.",
            ),
            FirmwareError::Io(_) => Text::fixed(
                "读取升级包时出错，请重新上传。",
                "The bundle could not be read; upload it again.",
            ),
        }
    }
}
