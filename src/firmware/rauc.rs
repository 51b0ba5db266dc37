//! RAUC's D-Bus API (`de.pengutronix.rauc.Installer` at `/` on the bus name
//! `de.pengutronix.rauc`), through zbus on tokio. The daemon never runs the `rauc` command line.
//!
//! Methods used: `InstallBundle(source, args)` (or `Install(source)` on RAUC < 1.3),
//! `InspectBundle(source, args)` (RAUC >= 1.10; `Info(bundle)` before), `Mark(state, slot)`,
//! `GetSlotStatus()`, `GetPrimary()`; properties `Operation`, `Progress` `(i32 percent,
//! message, i32 nesting)`, `LastError`, `Compatible`, `BootSlot`; signal `Completed(i32)`.

use std::collections::HashMap;
use std::path::PathBuf;

use zbus::zvariant::{OwnedValue, Value};

#[zbus::proxy(
    interface = "de.pengutronix.rauc.Installer",
    default_service = "de.pengutronix.rauc",
    default_path = "/"
)]
pub trait Installer {
    fn install_bundle(&self, source: &str, args: HashMap<&str, Value<'_>>) -> zbus::Result<()>;

    fn install(&self, source: &str) -> zbus::Result<()>;

    fn inspect_bundle(
        &self,
        source: &str,
        args: HashMap<&str, Value<'_>>,
    ) -> zbus::Result<HashMap<String, OwnedValue>>;

    fn info(&self, bundle: &str) -> zbus::Result<(String, String)>;

    fn mark(&self, state: &str, slot_identifier: &str) -> zbus::Result<(String, String)>;

    fn get_slot_status(&self) -> zbus::Result<Vec<(String, HashMap<String, OwnedValue>)>>;

    fn get_primary(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn operation(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn last_error(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn progress(&self) -> zbus::Result<(i32, String, i32)>;

    #[zbus(property)]
    fn compatible(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn boot_slot(&self) -> zbus::Result<String>;

    #[zbus(signal)]
    fn completed(&self, result: i32) -> zbus::Result<()>;
}

/// Connects to the bus RAUC is on: the system bus when `address` is `None`, else the given
/// D-Bus address (a private bus in tests, e.g. `unix:path=/tmp/x/bus`).
pub async fn connect(address: Option<&str>) -> zbus::Result<zbus::Connection> {
    match address {
        None => zbus::Connection::system().await,
        Some(address) => zbus::connection::Builder::address(address)?.build().await,
    }
}

/// Whether a call failed because the service does not have the method (an older RAUC).
pub fn is_unknown_method(error: &zbus::Error) -> bool {
    match error {
        zbus::Error::MethodError(name, _, _) => {
            name.as_str() == "org.freedesktop.DBus.Error.UnknownMethod"
        }
        zbus::Error::FDO(fdo) => matches!(**fdo, zbus::fdo::Error::UnknownMethod(_)),
        _ => false,
    }
}

/// Whether RAUC itself answered with an error (as opposed to the bus: RAUC not running,
/// access denied by the bus policy, no reply).
pub fn is_service_error(error: &zbus::Error) -> bool {
    match error {
        zbus::Error::MethodError(name, _, _) => {
            !name.as_str().starts_with("org.freedesktop.DBus.Error.")
        }
        _ => false,
    }
}

/// The human part of a D-Bus error (RAUC's own message where it gives one).
pub fn error_message(error: &zbus::Error) -> String {
    match error {
        zbus::Error::MethodError(_, Some(message), _) => message.clone(),
        zbus::Error::FDO(fdo) => fdo.to_string(),
        other => other.to_string(),
    }
}

/// One slot as `GetSlotStatus` describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlotStatus {
    /// `rootfs.0`, `rootfs.1`, …
    pub name: String,
    pub class: String,
    pub device: PathBuf,
    pub bootname: Option<String>,
    /// `booted`, `active` or `inactive`.
    pub state: String,
    /// `good` or `bad`, as the bootloader sees it.
    pub boot_status: Option<String>,
    pub bundle_version: Option<String>,
    pub installed_sha256: Option<String>,
}

impl SlotStatus {
    pub fn from_dict(name: String, dict: &HashMap<String, OwnedValue>) -> SlotStatus {
        let text = |key: &str| dict.get(key).and_then(|v| value_str(v));
        SlotStatus {
            class: text("class").unwrap_or_default(),
            device: PathBuf::from(text("device").unwrap_or_default()),
            bootname: text("bootname"),
            state: text("state").unwrap_or_default(),
            boot_status: text("boot-status"),
            bundle_version: text("bundle.version"),
            installed_sha256: text("sha256"),
            name,
        }
    }
}

/// A string held in a variant.
pub fn value_str(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.as_str().to_string()),
        Value::Value(inner) => value_str(inner),
        _ => None,
    }
}

/// An unsigned integer held in a variant, whatever its width.
pub fn value_u64(value: &Value<'_>) -> Option<u64> {
    match value {
        Value::U8(n) => Some(u64::from(*n)),
        Value::U16(n) => Some(u64::from(*n)),
        Value::U32(n) => Some(u64::from(*n)),
        Value::U64(n) => Some(*n),
        Value::I16(n) => u64::try_from(*n).ok(),
        Value::I32(n) => u64::try_from(*n).ok(),
        Value::I64(n) => u64::try_from(*n).ok(),
        Value::Value(inner) => value_u64(inner),
        _ => None,
    }
}
