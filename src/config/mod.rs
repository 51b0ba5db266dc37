//! Daemon configuration: the TOML file at `/etc/coocenter/coocenterd.toml`.
//!
//! Owns the schema, the compiled-in defaults fit for the appliance, and validation. Every key
//! has a default, so an empty file is a valid configuration. Unknown keys and bad values are
//! refused while parsing, so the error carries the file, line and column of the offending
//! value (`check-config` prints exactly what `serve` would refuse with).

mod values;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use values::{Bounded, LogLevel};

/// Where `serve` reads its configuration when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/coocenter/coocenterd.toml";

/// The whole configuration. Field names are the TOML keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub storage: StorageConfig,
    pub security: SecurityConfig,
    pub ami: AmiConfig,
    pub paths: PathsConfig,
    pub system: SystemConfig,
    pub agents: AgentsConfig,
    pub firmware: FirmwareConfig,
    pub log: LogConfig,
    pub prompts: PromptsConfig,
    pub tts: TtsConfig,
}

/// The HTTPS listener and its limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Addresses to listen on. The default, port 8080 of every address, answers on both the
    /// WAN (192.168.1.100) and LAN (192.168.10.100) ports of the box.
    #[serde(deserialize_with = "values::listen_addrs")]
    pub listen: Vec<SocketAddr>,
    /// PEM certificate chain. Generated (self-signed, ECDSA P-256) on first start if absent.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key, kept with mode 0600. Generated together with the certificate.
    pub tls_key: Option<PathBuf>,
    /// Largest JSON request body accepted, in bytes; larger bodies get 413.
    pub max_body_bytes: Bounded<1024, 16_777_216>,
    /// Most simultaneous connections; further ones wait in the kernel's accept queue.
    pub max_connections: Bounded<1, 4096>,
}

/// Where the daemon keeps its own state.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Database, TLS key and certificate, device identity.
    pub data_dir: PathBuf,
}

/// Sessions and login throttling.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// A session unused for this long ends.
    pub session_idle_minutes: Bounded<1, 1440>,
    /// Consecutive failed logins from one address before it is locked out.
    pub lockout_threshold: Bounded<1, 100>,
    /// First lockout length; each further lockout of the same address doubles it.
    pub lockout_base_seconds: Bounded<1, 86_400>,
    /// Longest lockout.
    pub lockout_max_seconds: Bounded<1, 86_400>,
    /// Delay added to every failed login answer, growing with each failure (slows guessing).
    pub failure_delay_ms: Bounded<0, 10_000>,
}

/// The Asterisk Manager Interface connection (used from the live-monitoring work on).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmiConfig {
    pub host: String,
    pub port: Bounded<1, 65_535>,
    pub username: String,
    /// Never logged nor returned by the API.
    pub secret: String,
}

/// Files the daemon shares with Asterisk.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathsConfig {
    pub prompts_dir: PathBuf,
    pub recordings_dirs: Vec<PathBuf>,
    pub voicemail_dir: PathBuf,
    pub asterisk_config_dir: PathBuf,
    /// Asterisk's `digits/` sounds that `SayDigits` plays for 播放工号 (the default
    /// language's): measured for the 10 s rule of the answer prompts.
    pub digit_sounds_dir: PathBuf,
    /// The PBX's own manual (PDF or HTML) shown by PBX手册, when the PBX installed one.
    pub pbx_manual: PathBuf,
    /// The AGI script `Queue()` runs on the caller's channel to play the answer prompts
    /// (shipped in the rootfs overlay).
    pub answer_agi: PathBuf,
}

/// What the dashboard's system part (manual §3, part 4) measures.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemConfig {
    /// A path on the system disk whose size and free space are shown.
    pub disk_path: PathBuf,
    /// Mount points under these prefixes count as USB storage even when sysfs cannot tell.
    pub usb_mount_prefixes: Vec<PathBuf>,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            disk_path: PathBuf::from("/"),
            usb_mount_prefixes: crate::system::DEFAULT_USB_MOUNT_PREFIXES
                .iter()
                .map(PathBuf::from)
                .collect(),
        }
    }
}

/// The agents' own page.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentsConfig {
    /// The reasons an agent picks from when pausing (置忙).
    pub pause_reasons: Vec<String>,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        AgentsConfig {
            pause_reasons: ["午休", "培训", "会议", "小休", "整理工单"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// Field upgrades through RAUC.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirmwareConfig {
    /// Talk to RAUC at all (mark the booted slot good after a healthy start, accept bundles).
    pub enabled: bool,
    /// RAUC's D-Bus address; unset means the system bus (the appliance).
    pub bus_address: Option<String>,
    /// RAUC's keyring, read only to explain why a bundle was refused.
    pub keyring: PathBuf,
    /// Largest bundle accepted, in MiB.
    pub max_bundle_mb: Bounded<1, 4096>,
}

impl Default for FirmwareConfig {
    fn default() -> Self {
        FirmwareConfig {
            enabled: true,
            bus_address: None,
            keyring: PathBuf::from("/etc/rauc/ca.cert.pem"),
            max_bundle_mb: Bounded(512),
        }
    }
}

/// Voice prompt uploads (语音管理, manual §9.1); the folder is `paths.prompts_dir`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptsConfig {
    /// Longest prompt accepted, in seconds (the answer-time prompts must fit in 10 s
    /// together; a longer file may still serve elsewhere).
    pub max_upload_seconds: Bounded<1, 600>,
    /// Largest upload accepted, in MiB, counted while it streams in.
    pub max_upload_mb: Bounded<1, 100>,
}

impl Default for PromptsConfig {
    fn default() -> Self {
        PromptsConfig {
            max_upload_seconds: Bounded(60),
            max_upload_mb: Bounded(10),
        }
    }
}

/// Text to speech (manual §9.1.3): the engine is a command run without a shell.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TtsConfig {
    /// Program and arguments. `{out}` is replaced by the WAV file the engine must write,
    /// `{text}` by the text; without `{text}` the text is written to the engine's standard
    /// input (UTF-8). The default is espeak-ng's Mandarin voice.
    pub command: Vec<String>,
    /// Longest text accepted, in characters.
    pub max_text_chars: Bounded<1, 5000>,
    /// The engine is killed after this long.
    pub timeout_seconds: Bounded<1, 600>,
}

impl Default for TtsConfig {
    fn default() -> Self {
        TtsConfig {
            command: ["espeak-ng", "-v", "cmn", "-w", "{out}", "--stdin"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            max_text_chars: Bounded(300),
            timeout_seconds: Bounded(30),
        }
    }
}

/// Logging to standard error (the journal on the box).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub level: LogLevel,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], 8080))],
            tls_cert: None,
            tls_key: None,
            max_body_bytes: Bounded(1_048_576),
            max_connections: Bounded(512),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("/var/lib/coocenter"),
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            session_idle_minutes: Bounded(30),
            lockout_threshold: Bounded(5),
            lockout_base_seconds: Bounded(60),
            lockout_max_seconds: Bounded(3600),
            failure_delay_ms: Bounded(250),
        }
    }
}

impl Default for AmiConfig {
    fn default() -> Self {
        AmiConfig {
            host: "127.0.0.1".into(),
            port: Bounded(5038),
            username: "coocenterd".into(),
            secret: String::new(),
        }
    }
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            prompts_dir: PathBuf::from("/var/lib/asterisk/sounds/coocenter"),
            recordings_dirs: vec![PathBuf::from("/var/spool/asterisk/monitor")],
            voicemail_dir: PathBuf::from("/var/spool/asterisk/voicemail"),
            asterisk_config_dir: PathBuf::from("/etc/asterisk"),
            digit_sounds_dir: PathBuf::from("/var/lib/asterisk/sounds/en/digits"),
            pbx_manual: PathBuf::from("/usr/share/doc/coocenter-pbx/pbx-manual.pdf"),
            answer_agi: PathBuf::from(crate::pbx::callflow::DEFAULT_ANSWER_AGI),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: LogLevel(log::LevelFilter::Info),
        }
    }
}

/// A configuration file that could not be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Inconsistent { path: String, message: String },
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map(|span| line_and_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                path: origin.to_string(),
                line,
                column,
                message: err.message().to_string(),
            }
        })?;
        config
            .check_consistency()
            .map_err(|message| ConfigError::Inconsistent {
                path: origin.to_string(),
                message,
            })?;
        Ok(config)
    }

    /// Rules that involve more than one key (single values are checked while parsing).
    fn check_consistency(&self) -> Result<(), String> {
        if self.http.tls_cert.is_some() != self.http.tls_key.is_some() {
            return Err("http.tls_cert and http.tls_key must be set together".into());
        }
        if self.security.lockout_max_seconds.0 < self.security.lockout_base_seconds.0 {
            return Err(
                "security.lockout_max_seconds must not be below security.lockout_base_seconds"
                    .into(),
            );
        }
        if self.tts.command.is_empty() || self.tts.command[0].is_empty() {
            return Err("tts.command must name a program".into());
        }
        if !self.tts.command.iter().any(|arg| arg.contains("{out}")) {
            return Err("tts.command must contain {out}, the WAV file the engine writes".into());
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            return Err("storage.data_dir must not be empty".into());
        }
        Ok(())
    }

    /// Where provisioning and factory reset find the box's files.
    pub fn device_paths(&self) -> crate::firmware::DevicePaths {
        crate::firmware::DevicePaths {
            data_dir: self.storage.data_dir.clone(),
            prompts_dir: self.paths.prompts_dir.clone(),
            recordings_dirs: self.paths.recordings_dirs.clone(),
            voicemail_dir: self.paths.voicemail_dir.clone(),
            ami_secret_include: Some(
                self.paths
                    .asterisk_config_dir
                    .join("manager.d/coocenterd-secret.inc"),
            ),
        }
    }

    /// The database file inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.storage.data_dir.join("coocenter.db")
    }

    /// The TLS certificate and key paths: configured ones, or the generated pair in the data
    /// directory.
    pub fn tls_paths(&self) -> (PathBuf, PathBuf) {
        match (&self.http.tls_cert, &self.http.tls_key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
            _ => {
                let dir = self.storage.data_dir.join("tls");
                (dir.join("cert.pem"), dir.join("key.pem"))
            }
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_appliance_defaults() {
        let config = Config::parse("", "t.toml").unwrap();
        assert_eq!(config.http.listen, vec!["0.0.0.0:8080".parse().unwrap()]);
        assert_eq!(config.storage.data_dir, PathBuf::from("/var/lib/coocenter"));
        assert_eq!(config.ami.host, "127.0.0.1");
        assert_eq!(config.ami.port.0, 5038);
        assert_eq!(
            config.tls_paths().1,
            PathBuf::from("/var/lib/coocenter/tls/key.pem")
        );
    }

    #[test]
    fn prompt_and_tts_settings_have_defaults_and_are_checked() {
        let config = Config::parse("", "t.toml").unwrap();
        assert_eq!(config.prompts.max_upload_seconds.get(), 60);
        assert_eq!(config.prompts.max_upload_mb.get(), 10);
        assert_eq!(config.tts.command[0], "espeak-ng");
        let config = Config::parse(
            "[prompts]\nmax_upload_seconds = 20\nmax_upload_mb = 2\n[tts]\ncommand = [\"my-tts\", \"--out={out}\", \"{text}\"]\nmax_text_chars = 50\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(config.prompts.max_upload_seconds.get(), 20);
        assert_eq!(config.tts.command[1], "--out={out}");
        let err = Config::parse("[tts]\ncommand = [\"my-tts\"]\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("{out}"), "{err}");
        let err = Config::parse("[prompts]\nmax_upload_mb = 0\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml:2:"), "{err}");
    }

    #[test]
    fn unknown_key_is_refused_with_its_line() {
        let err =
            Config::parse("[http]\nlisten = [\"127.0.0.1:1\"]\nlistn = 3\n", "c.toml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("c.toml:3:1: unknown field `listn`"),
            "{text}"
        );
    }

    #[test]
    fn unknown_section_is_refused() {
        let err = Config::parse("[htp]\n", "c.toml").unwrap_err().to_string();
        assert!(err.starts_with("c.toml:1:"), "{err}");
        assert!(err.contains("unknown field `htp`"), "{err}");
    }

    #[test]
    fn bad_listen_address_names_the_value() {
        let err = Config::parse("[http]\nlisten = [\"1.2.3.4\"]\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:"), "{err}");
        assert!(err.contains("\"1.2.3.4\""), "{err}");
    }

    #[test]
    fn out_of_range_number_is_refused() {
        let err = Config::parse("[security]\nsession_idle_minutes = 0\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:24:"), "{err}");
        assert!(err.contains("between 1 and 1440"), "{err}");
    }

    #[test]
    fn wrong_type_is_refused() {
        let err = Config::parse("[ami]\nport = \"x\"\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:8:"), "{err}");
    }

    #[test]
    fn bad_log_level_is_refused() {
        let err = Config::parse("[log]\nlevel = \"loud\"\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("error, warn, info, debug or trace"), "{err}");
    }

    #[test]
    fn cert_without_key_is_inconsistent() {
        let err = Config::parse("[http]\ntls_cert = \"/x.pem\"\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.toml: http.tls_cert and http.tls_key must be set together"
        );
    }

    #[test]
    fn empty_listen_list_is_refused() {
        let err = Config::parse("[http]\nlisten = []\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least one address"), "{err}");
    }
}
