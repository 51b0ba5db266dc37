//! The field upgrade service: check an uploaded bundle, install it into the inactive slot
//! through RAUC with progress, one install at a time, and mark the booted slot good after a
//! healthy start.
//!
//! Checks, in order, before anything is written: the upload's size; the file's structure
//! (complete, signature present: a truncated upload is named as such); RAUC's verification
//! and inspection (signature against the keyring, manifest); the bundle's compatible against
//! the system's; each image's size against its target slot's size (from `InspectBundle` on
//! RAUC >= 1.10, else from the manifest a `verity` bundle signs inline — the only format the
//! appliance accepts). A refusal names the cause in both languages; the slot is untouched.
//! When RAUC refuses, the certificates in the bundle tell an unknown CA from a bad signature.
//!
//! Only one check-or-install runs at a time (a second gets [`FirmwareError::Busy`]), and none
//! while RAUC reports another operation. Progress is a [`tokio::sync::watch`] of
//! [`InstallProgress`], fed by RAUC's `Progress` property and `Completed` signal.
//! Upload bundles into a folder RAUC (root, outside our sandbox) can read: the data folder,
//! not `/tmp` (the service has a private `/tmp`).

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::{watch, Mutex, OwnedMutexGuard};
use zbus::zvariant::{OwnedValue, Value};

use super::bundle::{self, Layout, LayoutError, ManifestImage};
use super::rauc::{self, InstallerProxy, SlotStatus};
use super::FirmwareError;

/// Where RAUC's keyring is on the appliance (see `rootfs/etc/rauc/system.conf`).
pub const DEFAULT_KEYRING: &str = "/etc/rauc/ca.cert.pem";
/// Largest bundle accepted: the rootfs slot is 512 MiB; a bundle holds one compressed image.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// How the upgrade service reaches RAUC.
#[derive(Debug, Clone)]
pub struct UpgradeConfig {
    /// The D-Bus address RAUC is on; `None` for the system bus (the appliance).
    pub bus_address: Option<String>,
    /// RAUC's keyring (PEM), read only to explain a refusal.
    pub keyring: PathBuf,
    /// Bundles larger than this are refused before RAUC sees them.
    pub max_bundle_bytes: u64,
}

impl Default for UpgradeConfig {
    fn default() -> Self {
        UpgradeConfig {
            bus_address: None,
            keyring: PathBuf::from(DEFAULT_KEYRING),
            max_bundle_bytes: DEFAULT_MAX_BUNDLE_BYTES,
        }
    }
}

/// Where an upgrade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallState {
    Idle,
    /// The bundle is being checked (ours and RAUC's verification).
    Verifying,
    /// RAUC is writing the inactive slot.
    Installing,
    /// The new system is installed and becomes active at the next reboot.
    RebootRequired,
    /// The last install failed; the running system is unchanged.
    Failed,
}

/// What the console shows while upgrading (pushed to the browser as it changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallProgress {
    pub state: InstallState,
    /// 0–100.
    pub percent: u8,
    /// RAUC's step ("Checking bundle", "Copying image to rootfs.1", …) or the failure.
    pub message: String,
    /// The version being (or last) installed.
    pub version: Option<String>,
}

impl InstallProgress {
    fn idle() -> InstallProgress {
        InstallProgress {
            state: InstallState::Idle,
            percent: 0,
            message: String::new(),
            version: None,
        }
    }
}

/// A checked bundle: what it is and where it would go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleInfo {
    pub compatible: String,
    pub version: String,
    /// `plain`, `verity` or `crypt` when known.
    pub format: Option<String>,
    pub bundle_size: u64,
    pub images: Vec<ImageCheck>,
}

/// One image of a bundle against the slot it would be written to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageCheck {
    pub slot_class: String,
    pub filename: Option<String>,
    /// `None` only for a `plain` bundle on RAUC < 1.10 (its manifest is inside the image and
    /// not readable over D-Bus); the appliance accepts `verity` bundles only.
    pub size: Option<u64>,
    pub target_slot: String,
    pub slot_size: Option<u64>,
}

/// One check of the daemon's health after a start (HTTPS serving, database open, AMI
/// connecting). A check waits as long as it sees fit, then answers; `Err` holds why not.
pub trait HealthCheck: Send + Sync {
    fn name(&self) -> &str;
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

struct FnCheck<F> {
    name: String,
    run: F,
}

impl<F, Fut> HealthCheck for FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin((self.run)())
    }
}

/// A [`HealthCheck`] from an async closure:
/// `health_check("database", move || { let s = store.clone(); async move { … } })`.
pub fn health_check<F, Fut>(name: impl Into<String>, run: F) -> Box<dyn HealthCheck>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Box::new(FnCheck {
        name: name.into(),
        run,
    })
}

/// What [`Upgrader::mark_good_if_healthy`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthOutcome {
    /// Every check passed and RAUC marked the booted slot good.
    MarkedGood { slot: String, message: String },
    /// A check failed: the slot was not marked, so the bootloader falls back to the previous
    /// slot once its boot attempts run out. Holds (check, reason) for each failure.
    LeftForFallback { failures: Vec<(String, String)> },
}

/// The upgrade service, cheap to clone.
#[derive(Clone)]
pub struct Upgrader {
    inner: Arc<Inner>,
}

struct Inner {
    config: UpgradeConfig,
    connection: zbus::Connection,
    progress: watch::Sender<InstallProgress>,
    /// Held from the first check of a bundle until its install completes.
    busy: Arc<Mutex<()>>,
}

impl Upgrader {
    /// Connects to RAUC. Fails if the bus cannot be reached; RAUC itself is started by the
    /// bus on first call (D-Bus activation) and checked by each operation.
    pub async fn connect(config: UpgradeConfig) -> Result<Upgrader, FirmwareError> {
        let connection = rauc::connect(config.bus_address.as_deref()).await?;
        let (progress, _) = watch::channel(InstallProgress::idle());
        let upgrader = Upgrader {
            inner: Arc::new(Inner {
                config,
                connection,
                progress,
                busy: Arc::new(Mutex::new(())),
            }),
        };
        // A daemon restarted after an install but before the reboot still says so.
        if let Ok(true) = upgrader.reboot_pending().await {
            upgrader.inner.progress.send_replace(InstallProgress {
                state: InstallState::RebootRequired,
                percent: 100,
                message: "A new system is installed; it starts at the next reboot.".into(),
                version: None,
            });
        }
        Ok(upgrader)
    }

    /// Progress of the current (or last) install.
    pub fn progress(&self) -> watch::Receiver<InstallProgress> {
        self.inner.progress.subscribe()
    }

    async fn proxy(&self) -> Result<InstallerProxy<'static>, FirmwareError> {
        Ok(InstallerProxy::new(&self.inner.connection).await?)
    }

    /// The system's compatible string (what bundles must carry).
    pub async fn system_compatible(&self) -> Result<String, FirmwareError> {
        Ok(self.proxy().await?.compatible().await?)
    }

    /// The slot the system booted from (its bootname, e.g. `A`).
    pub async fn boot_slot(&self) -> Result<String, FirmwareError> {
        Ok(self.proxy().await?.boot_slot().await?)
    }

    /// The slot the bootloader will start next (e.g. `rootfs.1`).
    pub async fn primary_slot(&self) -> Result<String, FirmwareError> {
        Ok(self.proxy().await?.get_primary().await?)
    }

    /// Every slot's status.
    pub async fn slots(&self) -> Result<Vec<SlotStatus>, FirmwareError> {
        let raw = self.proxy().await?.get_slot_status().await?;
        let mut slots: Vec<SlotStatus> = raw
            .into_iter()
            .map(|(name, dict)| SlotStatus::from_dict(name, &dict))
            .collect();
        slots.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(slots)
    }

    /// Whether the bootloader will start another slot than the booted one.
    pub async fn reboot_pending(&self) -> Result<bool, FirmwareError> {
        let primary = self.primary_slot().await?;
        let slots = self.slots().await?;
        Ok(slots
            .iter()
            .any(|slot| slot.state == "booted" && slot.name != primary))
    }

    /// Checks a bundle without installing it. Refused while an install runs.
    pub async fn inspect(&self, bundle: &Path) -> Result<BundleInfo, FirmwareError> {
        let _guard = self.try_lock()?;
        self.check(bundle).await
    }

    /// Checks a bundle, then starts installing it into the inactive slot and returns; follow
    /// [`Upgrader::progress`] until `RebootRequired` or `Failed`.
    pub async fn start_install(&self, bundle: &Path) -> Result<BundleInfo, FirmwareError> {
        let guard = self.try_lock()?;
        let bundle = absolute(bundle)?;
        self.publish(InstallState::Verifying, 0, "Checking the bundle", None);
        let info = match self.check(&bundle).await {
            Ok(info) => info,
            Err(error) => {
                self.publish(InstallState::Idle, 0, "", None);
                return Err(error);
            }
        };
        if let Err(error) = self.launch(&bundle, &info, guard).await {
            self.publish(
                InstallState::Failed,
                0,
                &error.to_string(),
                Some(info.version.clone()),
            );
            return Err(error);
        }
        Ok(info)
    }

    /// Checks and installs a bundle, returning when RAUC has finished.
    pub async fn install(&self, bundle: &Path) -> Result<BundleInfo, FirmwareError> {
        let mut progress = self.progress();
        progress.borrow_and_update();
        let info = self.start_install(bundle).await?;
        loop {
            {
                let now = progress.borrow_and_update();
                match now.state {
                    InstallState::RebootRequired => return Ok(info),
                    InstallState::Failed => {
                        return Err(FirmwareError::InstallFailed(now.message.clone()))
                    }
                    _ => {}
                }
            }
            if progress.changed().await.is_err() {
                return Err(FirmwareError::Unavailable(
                    "the upgrade service stopped".into(),
                ));
            }
        }
    }

    /// Runs the health checks (all at once); when every one passes, marks the booted slot
    /// good. Otherwise marks nothing: the bootloader falls back when its attempts run out.
    pub async fn mark_good_if_healthy(
        &self,
        checks: &[Box<dyn HealthCheck>],
    ) -> Result<HealthOutcome, FirmwareError> {
        let results =
            futures_util::future::join_all(checks.iter().map(|check| check.check())).await;
        let failures: Vec<(String, String)> = checks
            .iter()
            .zip(results)
            .filter_map(|(check, result)| result.err().map(|why| (check.name().to_string(), why)))
            .collect();
        if !failures.is_empty() {
            for (name, why) in &failures {
                log::error!("health check {name} failed after start: {why}; the booted slot is not marked good and the bootloader will fall back");
            }
            return Ok(HealthOutcome::LeftForFallback { failures });
        }
        let (slot, message) = self.proxy().await?.mark("good", "booted").await?;
        log::info!("health checks passed; RAUC marked slot {slot} good ({message})");
        Ok(HealthOutcome::MarkedGood { slot, message })
    }

    fn try_lock(&self) -> Result<OwnedMutexGuard<()>, FirmwareError> {
        Arc::clone(&self.inner.busy)
            .try_lock_owned()
            .map_err(|_| FirmwareError::Busy)
    }

    fn publish(&self, state: InstallState, percent: i32, message: &str, version: Option<String>) {
        self.inner.progress.send_replace(InstallProgress {
            state,
            percent: percent.clamp(0, 100) as u8,
            message: message.to_string(),
            version,
        });
    }

    /// Every check before anything is written.
    async fn check(&self, bundle: &Path) -> Result<BundleInfo, FirmwareError> {
        let bundle = absolute(bundle)?;
        let size = std::fs::metadata(&bundle)
            .map_err(|e| FirmwareError::Io(format!("{}: {e}", bundle.display())))?
            .len();
        let max = self.inner.config.max_bundle_bytes;
        if size > max {
            return Err(FirmwareError::UploadTooLarge { size, max });
        }
        let path = bundle.clone();
        let layout = tokio::task::spawn_blocking(move || bundle::read_layout(&path))
            .await
            .map_err(|e| FirmwareError::Io(e.to_string()))?
            .map_err(|e| match e {
                LayoutError::NotABundle => FirmwareError::NotABundle,
                LayoutError::Damaged(why) => FirmwareError::Truncated(why),
                LayoutError::Io(why) => FirmwareError::Io(why),
            })?;

        let proxy = self.proxy().await?;
        let operation = proxy.operation().await?;
        if operation != "idle" {
            return Err(FirmwareError::Busy);
        }
        let bundle_str = bundle.to_string_lossy();
        let (compatible, version, images, format) =
            match proxy.inspect_bundle(&bundle_str, HashMap::new()).await {
                Ok(dict) => {
                    let inspected = Inspected::from_dict(&dict);
                    (
                        inspected.compatible,
                        inspected.version,
                        inspected.images,
                        inspected.format,
                    )
                }
                Err(error) if rauc::is_unknown_method(&error) => {
                    // RAUC < 1.10: `Info` verifies and gives compatible and version; image
                    // sizes come from the manifest a verity bundle signs inline.
                    match proxy.info(&bundle_str).await {
                        Ok((compatible, version)) => {
                            let manifest = layout.inline_manifest.clone();
                            let images = manifest
                                .as_ref()
                                .map(|m| m.images.clone())
                                .unwrap_or_default();
                            let format = manifest.and_then(|m| m.format).or_else(|| {
                                Some(if layout.encrypted { "crypt" } else { "plain" }.to_string())
                            });
                            (compatible, version, images, format)
                        }
                        Err(error) => return Err(self.refusal(&layout, &error)),
                    }
                }
                Err(error) => return Err(self.refusal(&layout, &error)),
            };

        let system = proxy.compatible().await?;
        if compatible != system {
            return Err(FirmwareError::OtherProduct {
                bundle: compatible,
                system,
            });
        }

        let slots = self.slots().await?;
        let mut checks = Vec::new();
        for image in images {
            let target = slots
                .iter()
                .find(|slot| slot.class == image.slot_class && slot.state != "booted")
                .ok_or_else(|| FirmwareError::NoTargetSlot(image.slot_class.clone()))?;
            let slot_size = slot_size(&target.device);
            if let (Some(image_size), Some(slot_size)) = (image.size, slot_size) {
                if image_size > slot_size {
                    return Err(FirmwareError::TooLargeForSlot {
                        image: image.filename.unwrap_or(image.slot_class),
                        image_size,
                        slot: target.name.clone(),
                        slot_size,
                    });
                }
            } else {
                log::warn!(
                    "cannot compare the {} image's size with slot {} before installing (image {:?}, slot {:?} bytes)",
                    image.slot_class,
                    target.name,
                    image.size,
                    slot_size
                );
            }
            checks.push(ImageCheck {
                slot_class: image.slot_class,
                filename: image.filename,
                size: image.size,
                target_slot: target.name.clone(),
                slot_size,
            });
        }
        log::info!(
            "bundle {} checked: {compatible} {version}, {size} bytes",
            bundle.display()
        );
        Ok(BundleInfo {
            compatible,
            version,
            format,
            bundle_size: size,
            images: checks,
        })
    }

    /// Why RAUC refused to verify a bundle whose structure is sound.
    fn refusal(&self, layout: &Layout, error: &zbus::Error) -> FirmwareError {
        let detail = rauc::error_message(error);
        if !rauc::is_service_error(error) {
            // The bus's own errors (no RAUC on the bus, access denied, no reply), transport.
            return FirmwareError::Unavailable(detail);
        }
        log::warn!("RAUC refused a bundle: {detail}");
        let keyring = std::fs::read_to_string(&self.inner.config.keyring)
            .map(|pem| bundle::read_keyring(&pem))
            .unwrap_or_default();
        if !keyring.is_empty() && bundle::issued_by_keyring(layout, &keyring) == Some(false) {
            return FirmwareError::UnknownCa;
        }
        let lower = detail.to_lowercase();
        if lower.contains("not allowed") || lower.contains("compatible") {
            return FirmwareError::Refused(detail);
        }
        // RAUC 1.8's `Info` answers only "rauc info error"; newer ones name the signature.
        FirmwareError::BadSignature(detail)
    }

    /// Subscribes to RAUC's progress and completion, starts the install and hands the lock to
    /// a task that follows it to the end.
    async fn launch(
        &self,
        bundle: &Path,
        info: &BundleInfo,
        guard: OwnedMutexGuard<()>,
    ) -> Result<(), FirmwareError> {
        let proxy = self.proxy().await?;
        let mut completed = proxy.receive_completed().await?;
        let mut progress = proxy.receive_progress_changed().await;
        let source = bundle.to_string_lossy();
        match proxy.install_bundle(&source, HashMap::new()).await {
            Ok(()) => {}
            Err(error) if rauc::is_unknown_method(&error) => proxy.install(&source).await?,
            Err(error) => return Err(FirmwareError::InstallFailed(rauc::error_message(&error))),
        }
        log::info!(
            "installing {} {} from {}",
            info.compatible,
            info.version,
            bundle.display()
        );
        let version = Some(info.version.clone());
        self.publish(InstallState::Installing, 0, "Installing", version.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let (state, percent, message) = loop {
                tokio::select! {
                    change = progress.next() => {
                        let Some(change) = change else { continue };
                        if let Ok((percent, message, _depth)) = change.get().await {
                            this.publish(InstallState::Installing, percent, &message, version.clone());
                        }
                    }
                    signal = completed.next() => {
                        let result = signal.and_then(|s| s.args().ok().map(|a| a.result));
                        break match result {
                            Some(0) => {
                                log::info!("install completed; reboot to start the new system");
                                (InstallState::RebootRequired, 100, "Installed; reboot to start the new system.".to_string())
                            }
                            Some(code) => {
                                let why = proxy.last_error().await.unwrap_or_default();
                                let why = if why.is_empty() { format!("RAUC result {code}") } else { why };
                                log::error!("install failed: {why}");
                                (InstallState::Failed, 0, why)
                            }
                            None => {
                                log::error!("lost RAUC during the install");
                                (InstallState::Failed, 0, "Lost the connection to the update service.".to_string())
                            }
                        };
                    }
                }
            };
            // Free the lock first: whoever sees the final state may start the next one.
            drop(guard);
            this.publish(state, percent, &message, version);
        });
        Ok(())
    }
}

/// What `InspectBundle` (RAUC >= 1.10) says about a bundle.
struct Inspected {
    compatible: String,
    version: String,
    format: Option<String>,
    images: Vec<ManifestImage>,
}

impl Inspected {
    fn from_dict(dict: &HashMap<String, OwnedValue>) -> Inspected {
        let section = |key: &str| -> HashMap<String, Value<'static>> {
            dict.get(key).map(|v| value_dict(v)).unwrap_or_default()
        };
        let update = section("update");
        let bundle = section("bundle");
        let text = |map: &HashMap<String, Value<'static>>, key: &str| {
            map.get(key).and_then(rauc::value_str)
        };
        let images = match dict.get("images").map(|v| &**v) {
            Some(Value::Array(array)) => array
                .iter()
                .map(|image| {
                    let image = value_dict(image);
                    ManifestImage {
                        slot_class: text(&image, "slot-class").unwrap_or_default(),
                        filename: text(&image, "filename"),
                        size: image.get("size").and_then(rauc::value_u64),
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        Inspected {
            compatible: text(&update, "compatible").unwrap_or_default(),
            version: text(&update, "version").unwrap_or_default(),
            format: text(&bundle, "format"),
            images,
        }
    }
}

/// The entries of an `a{sv}` held in a variant.
fn value_dict(value: &Value<'_>) -> HashMap<String, Value<'static>> {
    match value {
        Value::Dict(dict) => dict
            .iter()
            .filter_map(|(k, v)| {
                let key = rauc::value_str(k)?;
                let value = match v {
                    Value::Value(inner) => inner.try_to_owned().ok()?.into(),
                    other => other.try_to_owned().ok()?.into(),
                };
                Some((key, value))
            })
            .collect(),
        Value::Value(inner) => value_dict(inner),
        _ => HashMap::new(),
    }
}

/// The size of a slot's device: a regular file's length (test slots), or a block device's
/// size from sysfs (readable without opening the device, which our user may not).
pub fn slot_size(device: &Path) -> Option<u64> {
    let metadata = std::fs::metadata(device).ok()?;
    if metadata.is_file() {
        return Some(metadata.len());
    }
    let real = std::fs::canonicalize(device).ok()?;
    let name = real.file_name()?.to_str()?;
    let sectors: u64 = std::fs::read_to_string(format!("/sys/class/block/{name}/size"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(sectors * 512)
}

fn absolute(path: &Path) -> Result<PathBuf, FirmwareError> {
    std::path::absolute(path).map_err(|e| FirmwareError::Io(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn inspect_bundle_answer() {
        let mut update: HashMap<String, Value<'_>> = HashMap::new();
        update.insert("compatible".into(), Value::from("CooCenter CC-8"));
        update.insert("version".into(), Value::from("2.0.0"));
        let mut bundle: HashMap<String, Value<'_>> = HashMap::new();
        bundle.insert("format".into(), Value::from("verity"));
        let mut image: HashMap<String, Value<'_>> = HashMap::new();
        image.insert("slot-class".into(), Value::from("rootfs"));
        image.insert("filename".into(), Value::from("rootfs.ext4"));
        image.insert("size".into(), Value::from(4096u64));
        let mut dict: HashMap<String, OwnedValue> = HashMap::new();
        dict.insert("update".into(), Value::from(update).try_to_owned().unwrap());
        dict.insert("bundle".into(), Value::from(bundle).try_to_owned().unwrap());
        dict.insert(
            "images".into(),
            Value::from(vec![image]).try_to_owned().unwrap(),
        );
        let inspected = Inspected::from_dict(&dict);
        assert_eq!(inspected.compatible, "CooCenter CC-8");
        assert_eq!(inspected.version, "2.0.0");
        assert_eq!(inspected.format.as_deref(), Some("verity"));
        assert_eq!(
            inspected.images,
            vec![ManifestImage {
                slot_class: "rootfs".into(),
                filename: Some("rootfs.ext4".into()),
                size: Some(4096)
            }]
        );
    }

    #[test]
    fn slot_size_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let slot = dir.path().join("slot.img");
        std::fs::write(&slot, vec![0u8; 12345]).unwrap();
        assert_eq!(slot_size(&slot), Some(12345));
        assert_eq!(slot_size(&dir.path().join("missing")), None);
    }
}
