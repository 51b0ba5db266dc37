//! Factory provisioning and factory reset.
//!
//! [`provision`] runs once per box on the factory line (as root, before the daemon's first
//! start) and writes, in the data folder (`/var/lib/coocenter`, mode 0700):
//!
//! | file | what | mode |
//! |---|---|---|
//! | `tls/key.pem` | the per-device TLS key, ECDSA P-256 | 0600 |
//! | `tls/cert.pem` | its self-signed certificate (factory addresses, `coocenter-<serial>`, localhost) | 0644 |
//! | `provisioned-admin.phc` | argon2id PHC string of the unique admin password | 0600 |
//! | `ami-secret` | the AMI secret the daemon logs in with (when `ami.secret` is empty) | 0600 |
//! | `identity.json` | serial, MAC, model, TLS fingerprint, time; written last: its presence means "provisioned" | 0644 |
//!
//! and, when [`DevicePaths::ami_secret_include`] is set, the Asterisk include that carries
//! the same AMI secret (`/etc/asterisk/manager.d/coocenterd-secret.inc`, mode 0640; the
//! image ships a placeholder without a secret, so the manager user cannot log in before).
//!
//! The admin password is random (16 characters in 4 groups from an alphabet without 0/O,
//! 1/I/L: about 79 bits), never derived from the serial or the MAC, returned once in
//! [`Provisioned`] for the label, and stored only as its hash. The daemon seeds the `admin`
//! account from `provisioned-admin.phc` (instead of `admin`/`admin`) with
//! must-change-password set, whenever it creates the account: at first start and after a
//! factory reset. An existing identity is never overwritten unless `force` is given.
//!
//! [`factory_reset`] erases user data — the database, everything else in the data folder,
//! voice prompts, and on request recordings and voicemail — and keeps what provisioning
//! wrote, so the box returns to its provisioned state (same identity, TLS fingerprint and
//! label password). It must run while nothing has the database open:
//! [`request_factory_reset`] leaves a marker that [`apply_pending_factory_reset`] acts on at
//! the next start, before the store opens.

use std::fmt;
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::accounts::password;
use crate::fs_atomic;

pub const IDENTITY_FILE: &str = "identity.json";
pub const ADMIN_HASH_FILE: &str = "provisioned-admin.phc";
pub const AMI_SECRET_FILE: &str = "ami-secret";
pub const TLS_DIR: &str = "tls";
pub const TLS_CERT_FILE: &str = "cert.pem";
pub const TLS_KEY_FILE: &str = "key.pem";
pub const RESET_MARKER_FILE: &str = "factory-reset.pending";

/// What a factory reset keeps in the data folder.
const KEPT_IN_DATA_DIR: &[&str] = &[
    IDENTITY_FILE,
    ADMIN_HASH_FILE,
    AMI_SECRET_FILE,
    TLS_DIR,
    RESET_MARKER_FILE,
];

/// Characters of the label password: no 0/O, 1/I/L, upper case only (read off a label).
const PASSWORD_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// What the factory knows about the box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    pub serial: String,
    /// The WAN port's MAC address, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    pub model: String,
}

/// `identity.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRecord {
    #[serde(flatten)]
    pub identity: DeviceIdentity,
    pub tls_fingerprint_sha256: String,
    /// RFC 3339.
    pub provisioned_at: String,
}

/// Where the daemon's files are; `Default` is the appliance's layout.
#[derive(Debug, Clone)]
pub struct DevicePaths {
    pub data_dir: PathBuf,
    pub prompts_dir: PathBuf,
    pub recordings_dirs: Vec<PathBuf>,
    pub voicemail_dir: PathBuf,
    /// The Asterisk include holding the AMI secret; `None` writes only `ami-secret`.
    pub ami_secret_include: Option<PathBuf>,
}

impl Default for DevicePaths {
    fn default() -> Self {
        DevicePaths {
            data_dir: PathBuf::from("/var/lib/coocenter"),
            prompts_dir: PathBuf::from("/var/lib/asterisk/sounds/coocenter"),
            recordings_dirs: vec![PathBuf::from("/var/spool/asterisk/monitor")],
            voicemail_dir: PathBuf::from("/var/spool/asterisk/voicemail"),
            ami_secret_include: Some(PathBuf::from(
                "/etc/asterisk/manager.d/coocenterd-secret.inc",
            )),
        }
    }
}

/// The result of provisioning. The password is here once, for the label; `Debug` hides it.
pub struct Provisioned {
    pub identity: DeviceIdentity,
    pub admin_password: String,
    pub tls_fingerprint_sha256: String,
}

impl fmt::Debug for Provisioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provisioned")
            .field("identity", &self.identity)
            .field("admin_password", &"<redacted>")
            .field("tls_fingerprint_sha256", &self.tls_fingerprint_sha256)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("the box is already provisioned ({0}); use force to replace its identity")]
    AlreadyProvisioned(PathBuf),
    #[error("invalid device identity: {0}")]
    InvalidIdentity(String),
    #[error("{0}")]
    Io(String),
}

impl From<anyhow::Error> for ProvisionError {
    fn from(error: anyhow::Error) -> Self {
        ProvisionError::Io(format!("{error:#}"))
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ProvisionError + '_ {
    move |e| ProvisionError::Io(format!("{}: {e}", path.display()))
}

/// Provisions the box: identity, per-device TLS key and certificate, unique admin password
/// (returned once) and AMI secret. Refuses an already provisioned box unless `force`.
pub fn provision(
    paths: &DevicePaths,
    identity: &DeviceIdentity,
    force: bool,
) -> Result<Provisioned, ProvisionError> {
    let identity = validate(identity)?;
    let data_dir = &paths.data_dir;
    let identity_path = data_dir.join(IDENTITY_FILE);
    if identity_path.exists() && !force {
        return Err(ProvisionError::AlreadyProvisioned(identity_path));
    }
    fs_atomic::create_private_dir(data_dir)?;
    let tls_dir = data_dir.join(TLS_DIR);
    fs_atomic::create_private_dir(&tls_dir)?;

    let hostname = format!("coocenter-{}", identity.serial.to_ascii_lowercase());
    let (key_pem, cert_pem, cert_der) = generate_tls(&identity, &hostname)?;
    let fingerprint = crate::certificate::fingerprint(&cert_der);
    let admin_password = generate_password();
    let admin_hash = password::hash(&admin_password).map_err(ProvisionError::Io)?;
    let ami_secret = hex::encode(rand::random::<[u8; 24]>());

    // Secrets first, the identity last: an interrupted run leaves an unprovisioned box.
    fs_atomic::write(&tls_dir.join(TLS_KEY_FILE), key_pem.as_bytes(), 0o600)?;
    fs_atomic::write(&tls_dir.join(TLS_CERT_FILE), cert_pem.as_bytes(), 0o644)?;
    fs_atomic::write(
        &data_dir.join(ADMIN_HASH_FILE),
        format!("{admin_hash}\n").as_bytes(),
        0o600,
    )?;
    fs_atomic::write(
        &data_dir.join(AMI_SECRET_FILE),
        format!("{ami_secret}\n").as_bytes(),
        0o600,
    )?;
    if let Some(include) = &paths.ami_secret_include {
        let text = format!(
            "; Written by coocenterd factory provisioning: the secret of the [coocenterd]\n\
             ; manager user, included by manager.d/coocenterd.conf. Unique to this box.\n\
             secret = {ami_secret}\n"
        );
        if let Some(dir) = include.parent() {
            // The image ships manager.d; a development tree may not have it yet.
            std::fs::create_dir_all(dir)
                .map_err(|e| ProvisionError::Io(format!("{}: {e}", dir.display())))?;
        }
        fs_atomic::write(include, text.as_bytes(), 0o640)?;
    }
    let record = IdentityRecord {
        identity: identity.clone(),
        tls_fingerprint_sha256: fingerprint.clone(),
        provisioned_at: chrono::Utc::now().to_rfc3339(),
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| ProvisionError::Io(e.to_string()))?;
    fs_atomic::write(&identity_path, &json, 0o644)?;
    log::info!(
        "provisioned {} serial {} (MAC {}), TLS fingerprint {fingerprint}",
        identity.model,
        identity.serial,
        identity.mac
    );
    Ok(Provisioned {
        identity,
        admin_password,
        tls_fingerprint_sha256: fingerprint,
    })
}

/// The provisioned identity, if the box has one.
pub fn read_identity(data_dir: &Path) -> Result<Option<IdentityRecord>, ProvisionError> {
    let path = data_dir.join(IDENTITY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ProvisionError::Io(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path)(e)),
    }
}

/// The provisioned admin password's PHC string, for seeding the `admin` account (with
/// must-change-password) instead of the factory `admin`/`admin`.
pub fn provisioned_admin_hash(data_dir: &Path) -> Result<Option<String>, ProvisionError> {
    read_trimmed(&data_dir.join(ADMIN_HASH_FILE))
}

/// The provisioned AMI secret, used when the configuration's `ami.secret` is empty.
pub fn ami_secret(data_dir: &Path) -> Result<Option<String>, ProvisionError> {
    read_trimmed(&data_dir.join(AMI_SECRET_FILE))
}

fn read_trimmed(path: &Path) -> Result<Option<String>, ProvisionError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

fn validate(identity: &DeviceIdentity) -> Result<DeviceIdentity, ProvisionError> {
    let serial = identity.serial.trim();
    if serial.is_empty()
        || serial.len() > 64
        || !serial
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ProvisionError::InvalidIdentity(
            "the serial must be 1-64 letters, digits, '-' or '_'".into(),
        ));
    }
    let octets: Vec<&str> = identity.mac.trim().split([':', '-']).collect();
    if octets.len() != 6
        || !octets
            .iter()
            .all(|o| o.len() == 2 && o.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(ProvisionError::InvalidIdentity(
            "the MAC address must be six hexadecimal octets (aa:bb:cc:dd:ee:ff)".into(),
        ));
    }
    let model = identity.model.trim();
    if model.is_empty() || model.len() > 64 || model.chars().any(char::is_control) {
        return Err(ProvisionError::InvalidIdentity(
            "the model must be 1-64 printable characters".into(),
        ));
    }
    Ok(DeviceIdentity {
        serial: serial.to_string(),
        mac: octets.join(":").to_ascii_lowercase(),
        model: model.to_string(),
    })
}

/// A label password: `XXXX-XXXX-XXXX-XXXX` from [`PASSWORD_ALPHABET`] (OS randomness),
/// holding a letter and a digit so the console's password rules accept it too.
pub fn generate_password() -> String {
    let mut rng = rand::rngs::OsRng;
    loop {
        let chars: Vec<char> = (0..16)
            .map(|_| PASSWORD_ALPHABET[rng.gen_range(0..PASSWORD_ALPHABET.len())] as char)
            .collect();
        if chars.iter().any(|c| c.is_ascii_digit()) && chars.iter().any(|c| c.is_ascii_alphabetic())
        {
            return chars
                .chunks(4)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-");
        }
    }
}

/// Key PEM, certificate PEM and DER, named after the serial.
fn generate_tls(
    identity: &DeviceIdentity,
    hostname: &str,
) -> Result<(String, String, Vec<u8>), ProvisionError> {
    let generated = crate::certificate::self_signed(&identity.serial, hostname)
        .map_err(|e| ProvisionError::Io(format!("generating the TLS certificate: {e}")))?;
    Ok((generated.key_pem, generated.cert_pem, generated.cert_der))
}

/// What a factory reset removed (entries, not bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResetReport {
    pub data_entries: usize,
    pub prompts: usize,
    pub recordings: usize,
    pub voicemail: usize,
}

/// Erases user data and returns the box to its provisioned state. Recordings and voicemail
/// only when `include_recordings`. Nothing may have the database open (see
/// [`request_factory_reset`]). Safe to run again after an interruption.
pub fn factory_reset(
    paths: &DevicePaths,
    include_recordings: bool,
) -> Result<ResetReport, ProvisionError> {
    let mut report = ResetReport {
        data_entries: empty_dir(&paths.data_dir, KEPT_IN_DATA_DIR)?,
        prompts: empty_dir(&paths.prompts_dir, &[])?,
        ..ResetReport::default()
    };
    if include_recordings {
        for dir in &paths.recordings_dirs {
            report.recordings += empty_dir(dir, &[])?;
        }
        report.voicemail = empty_dir(&paths.voicemail_dir, &[])?;
    }
    log::warn!(
        "factory reset: removed {} data entries, {} prompts, {} recordings, {} voicemail entries",
        report.data_entries,
        report.prompts,
        report.recordings,
        report.voicemail
    );
    Ok(report)
}

/// Asks for a factory reset at the next start (the daemon then exits or restarts).
pub fn request_factory_reset(
    data_dir: &Path,
    include_recordings: bool,
) -> Result<(), ProvisionError> {
    let body = serde_json::json!({ "include_recordings": include_recordings }).to_string();
    fs_atomic::write(&data_dir.join(RESET_MARKER_FILE), body.as_bytes(), 0o600)?;
    Ok(())
}

/// At start, before the store opens: performs a requested factory reset, then forgets the
/// request. `Ok(None)` when none was requested.
pub fn apply_pending_factory_reset(
    paths: &DevicePaths,
) -> Result<Option<ResetReport>, ProvisionError> {
    let marker = paths.data_dir.join(RESET_MARKER_FILE);
    let body = match std::fs::read(&marker) {
        Ok(body) => body,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&marker)(e)),
    };
    let include_recordings = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("include_recordings")?.as_bool())
        .unwrap_or(false);
    let report = factory_reset(paths, include_recordings)?;
    std::fs::remove_file(&marker).map_err(io_error(&marker))?;
    Ok(Some(report))
}

/// Removes every entry of `dir` except those named in `keep`; a missing folder is empty.
/// Symbolic links are removed, never followed.
fn empty_dir(dir: &Path, keep: &[&str]) -> Result<usize, ProvisionError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error(dir)(e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        if keep.iter().any(|k| entry.file_name() == *k) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(io_error(&path))?;
        if kind.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io_error(&path))?;
        } else {
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
        removed += 1;
    }
    if removed > 0 {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir))?;
    }
    Ok(removed)
}
