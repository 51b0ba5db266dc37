//! The mail settings: SMTP server (host, port, security, user, password), sender,
//! recipients and the free-space threshold, stored as one JSON document under the settings
//! key `mail`. A missing or unreadable document reads as the defaults (notification off).
//! Validation names the refused field; a refused save changes nothing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::i18n::Text;
use crate::store::{settings, Store, StoreError};

/// The settings key of the document.
pub const SETTINGS_KEY: &str = "mail";

pub const MAX_RECIPIENTS: usize = 20;
pub const MAX_THRESHOLD_MB: u64 = 10_000_000;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS), usually port 465.
    Tls,
    /// No encryption (a relay on the local network), usually port 25.
    None,
}

/// The unit of the free-space threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdUnit {
    /// Percent of the disk's size.
    #[default]
    Percent,
    /// Mebibytes.
    Mb,
}

/// Below this much free space a disk is low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Threshold {
    pub unit: ThresholdUnit,
    pub value: u64,
}

impl Default for Threshold {
    fn default() -> Threshold {
        Threshold {
            unit: ThresholdUnit::Percent,
            value: 10,
        }
    }
}

impl Threshold {
    /// The free bytes under which a disk of `total_bytes` is low.
    pub fn limit_bytes(self, total_bytes: u64) -> u64 {
        match self.unit {
            ThresholdUnit::Percent => {
                (u128::from(total_bytes) * u128::from(self.value) / 100) as u64
            }
            ThresholdUnit::Mb => self.value.saturating_mul(1024 * 1024),
        }
    }

    pub fn is_low(self, total_bytes: u64, free_bytes: u64) -> bool {
        free_bytes < self.limit_bytes(total_bytes)
    }

    /// Back above the threshold by a margin, so a disk hovering at the threshold does not
    /// mail at every small write and deletion: 1 % of the disk, or a tenth of the
    /// threshold when that is less (500 MB on a 1 TB disk recovers at 550 MB, not 10.5 GB).
    pub fn has_recovered(self, total_bytes: u64, free_bytes: u64) -> bool {
        let limit = self.limit_bytes(total_bytes);
        let margin = (total_bytes / 100).min(limit / 10);
        free_bytes >= limit.saturating_add(margin)
    }

    /// "10 %" or "500 MB".
    pub fn describe(self) -> String {
        match self.unit {
            ThresholdUnit::Percent => format!("{} %", self.value),
            ThresholdUnit::Mb => format!("{} MB", self.value),
        }
    }
}

/// The stored document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// Whether free-space mails are sent.
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Empty: the server takes mail without login.
    pub username: String,
    /// Secret: stored for sending, never returned by the API nor written to logs or audit.
    pub password: String,
    /// The From address, `user@example.com` or `名字 <user@example.com>`.
    pub sender: String,
    pub recipients: Vec<String>,
    pub threshold: Threshold,
}

impl Default for MailSettings {
    fn default() -> MailSettings {
        MailSettings {
            enabled: false,
            host: String::new(),
            port: 587,
            security: Security::Starttls,
            username: String::new(),
            password: String::new(),
            sender: String::new(),
            recipients: Vec::new(),
            threshold: Threshold::default(),
        }
    }
}

/// The settings as the API shows them: the password never, only whether one is set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailSettingsView {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password_set: bool,
    pub sender: String,
    pub recipients: Vec<String>,
    pub threshold: Threshold,
}

impl MailSettings {
    pub fn view(&self) -> MailSettingsView {
        MailSettingsView {
            enabled: self.enabled,
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            username: self.username.clone(),
            password_set: !self.password.is_empty(),
            sender: self.sender.clone(),
            recipients: self.recipients.clone(),
            threshold: self.threshold,
        }
    }

    /// What the audit trail records: everything but the password.
    pub fn describe(&self) -> String {
        serde_json::to_string(&self.view()).expect("settings serialize")
    }

    /// Everything needed to send a mail is there.
    pub fn is_complete(&self) -> bool {
        !self.host.is_empty() && !self.sender.is_empty() && !self.recipients.is_empty()
    }
}

/// The settings as a request sends them. `password` left out (or null) keeps the stored
/// one; a string replaces it (the empty string removes it).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailSettingsInput {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub sender: String,
    #[serde(default)]
    pub recipients: Vec<String>,
    pub threshold: Threshold,
}

/// A refused setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub field: &'static str,
    pub code: &'static str,
    pub text: Text,
}

fn refuse(field: &'static str, code: &'static str, zh: String, en: String) -> SettingsError {
    SettingsError {
        field,
        code,
        text: Text::owned(zh, en),
    }
}

/// A host name or address: letters, digits, `.`, `-`, `_`, or an IPv6 address's `:`.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        && !host.starts_with(['.', '-'])
}

/// Checks `input` and merges it with the stored `current` (for the kept password). With
/// `require_complete` (a test mail, or turning the notification on) the server, sender
/// and a recipient must be there.
pub fn validate(
    input: MailSettingsInput,
    current: &MailSettings,
    require_complete: bool,
) -> Result<MailSettings, SettingsError> {
    let must_be_complete = require_complete || input.enabled;
    let host = input.host.trim().to_string();
    if host.is_empty() {
        if must_be_complete {
            return Err(refuse(
                "host",
                "host_required",
                "请填写 SMTP 服务器地址。".into(),
                "Enter the SMTP server's address.".into(),
            ));
        }
    } else if !valid_host(&host) {
        return Err(refuse(
            "host",
            "invalid_host",
            format!("SMTP 服务器地址“{host}”无效：只能是主机名或 IP 地址。"),
            format!("“{host}” is not a valid SMTP server: give a host name or an IP address."),
        ));
    }
    if input.port == 0 {
        return Err(refuse(
            "port",
            "invalid_port",
            "端口应为 1 到 65535 之间的整数。".into(),
            "The port is a number from 1 to 65535.".into(),
        ));
    }
    let username = input.username.trim().to_string();
    if username.chars().count() > 128 || username.chars().any(char::is_control) {
        return Err(refuse(
            "username",
            "invalid_username",
            "用户名最多 128 个字符，且不能含控制字符。".into(),
            "The user name has at most 128 characters and no control characters.".into(),
        ));
    }
    let password = match input.password {
        Some(password) => password,
        None => current.password.clone(),
    };
    if password.chars().count() > 256 || password.contains(['\r', '\n', '\0']) {
        return Err(refuse(
            "password",
            "invalid_password",
            "密码最多 256 个字符，且不能含换行。".into(),
            "The password has at most 256 characters and no line breaks.".into(),
        ));
    }
    if !password.is_empty() && username.is_empty() {
        return Err(refuse(
            "username",
            "username_required",
            "填写了密码时必须填写用户名。".into(),
            "A password needs a user name.".into(),
        ));
    }
    let sender = input.sender.trim().to_string();
    if sender.is_empty() {
        if must_be_complete {
            return Err(refuse(
                "sender",
                "sender_required",
                "请填写发件人邮箱。".into(),
                "Enter the sender's address.".into(),
            ));
        }
    } else if sender.parse::<lettre::message::Mailbox>().is_err() {
        return Err(refuse(
            "sender",
            "invalid_sender",
            format!("发件人“{sender}”不是有效的邮箱地址。"),
            format!("The sender “{sender}” is not a valid mail address."),
        ));
    }
    let recipients: Vec<String> = input
        .recipients
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if recipients.is_empty() && must_be_complete {
        return Err(refuse(
            "recipients",
            "recipients_required",
            "请至少填写一个收件人邮箱。".into(),
            "Enter at least one recipient.".into(),
        ));
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(refuse(
            "recipients",
            "too_many_recipients",
            format!("收件人最多 {MAX_RECIPIENTS} 个。"),
            format!("At most {MAX_RECIPIENTS} recipients."),
        ));
    }
    for (index, recipient) in recipients.iter().enumerate() {
        if recipient.parse::<lettre::Address>().is_err() {
            return Err(refuse(
                "recipients",
                "invalid_recipient",
                format!("第 {} 个收件人“{recipient}”不是有效的邮箱地址。", index + 1),
                format!(
                    "Recipient {} “{recipient}” is not a valid mail address.",
                    index + 1
                ),
            ));
        }
        if recipients[..index].contains(recipient) {
            return Err(refuse(
                "recipients",
                "duplicate_recipient",
                format!("收件人“{recipient}”重复。"),
                format!("The recipient “{recipient}” is given twice."),
            ));
        }
    }
    let threshold = input.threshold;
    match threshold.unit {
        ThresholdUnit::Percent if !(1..=99).contains(&threshold.value) => {
            return Err(refuse(
                "threshold",
                "invalid_threshold",
                "按百分比设置时，剩余空间阈值应为 1 到 99 之间的整数。".into(),
                "As a percentage, the free-space threshold is a whole number from 1 to 99."
                    .into(),
            ))
        }
        ThresholdUnit::Mb if !(1..=MAX_THRESHOLD_MB).contains(&threshold.value) => {
            return Err(refuse(
                "threshold",
                "invalid_threshold",
                format!("按 MB 设置时，剩余空间阈值应为 1 到 {MAX_THRESHOLD_MB} 之间的整数。"),
                format!(
                    "In MB, the free-space threshold is a whole number from 1 to {MAX_THRESHOLD_MB}."
                ),
            ))
        }
        _ => {}
    }
    Ok(MailSettings {
        enabled: input.enabled,
        host,
        port: input.port,
        security: input.security,
        username,
        password,
        sender,
        recipients,
        threshold,
    })
}

/// Reads the stored settings (the defaults when there are none, or they cannot be read).
pub fn read(conn: &rusqlite::Connection) -> rusqlite::Result<MailSettings> {
    Ok(settings::get(conn, SETTINGS_KEY)?
        .and_then(|json| match serde_json::from_str(&json) {
            Ok(settings) => Some(settings),
            Err(err) => {
                log::error!("the stored mail settings are unreadable, using the defaults: {err}");
                None
            }
        })
        .unwrap_or_default())
}

pub async fn load(store: &Store) -> Result<MailSettings, StoreError> {
    store.call(|conn| read(conn)).await
}

/// Validates and stores → (before, after). A refusal stores nothing.
pub async fn save(
    store: &Store,
    input: MailSettingsInput,
) -> Result<Result<(MailSettings, MailSettings), SettingsError>, StoreError> {
    store
        .call(move |conn| {
            let tx = conn.transaction()?;
            let before = read(&tx)?;
            let after = match validate(input, &before, false) {
                Ok(after) => after,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let json = serde_json::to_string(&after).expect("settings serialize");
            settings::put(&tx, SETTINGS_KEY, &json)?;
            tx.commit()?;
            Ok(Ok((before, after)))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> MailSettingsInput {
        MailSettingsInput {
            enabled: true,
            host: "smtp.example.com".into(),
            port: 587,
            security: Security::Starttls,
            username: "ops".into(),
            password: Some("s3cret".into()),
            sender: "呼叫中心 <cc@example.com>".into(),
            recipients: vec!["admin@example.com".into()],
            threshold: Threshold {
                unit: ThresholdUnit::Percent,
                value: 10,
            },
        }
    }

    fn field_of(change: impl FnOnce(&mut MailSettingsInput)) -> &'static str {
        let mut i = input();
        change(&mut i);
        validate(i, &MailSettings::default(), false)
            .unwrap_err()
            .field
    }

    #[test]
    fn refusals_name_the_field() {
        assert_eq!(field_of(|i| i.host = " ".into()), "host");
        assert_eq!(field_of(|i| i.host = "smtp example".into()), "host");
        assert_eq!(field_of(|i| i.port = 0), "port");
        assert_eq!(field_of(|i| i.sender = "not an address".into()), "sender");
        assert_eq!(field_of(|i| i.recipients = vec![]), "recipients");
        assert_eq!(
            field_of(|i| i.recipients = vec!["a@b.cn".into(), "x@".into()]),
            "recipients"
        );
        assert_eq!(
            field_of(|i| i.recipients = vec!["a@b.cn".into(), "a@b.cn".into()]),
            "recipients"
        );
        assert_eq!(field_of(|i| i.threshold.value = 100), "threshold");
        assert_eq!(
            field_of(|i| i.threshold = Threshold {
                unit: ThresholdUnit::Mb,
                value: 0
            }),
            "threshold"
        );
        assert_eq!(field_of(|i| i.username = String::new()), "username");
    }

    #[test]
    fn off_settings_may_be_incomplete_and_the_password_is_kept() {
        let stored = validate(input(), &MailSettings::default(), false).unwrap();
        let mut off = input();
        off.enabled = false;
        off.host = String::new();
        off.recipients = vec![];
        off.password = None;
        let saved = validate(off, &stored, false).unwrap();
        assert_eq!(
            saved.password, "s3cret",
            "left out keeps the stored password"
        );
        assert!(!saved.is_complete());
        assert!(!saved.view().host.contains("s3cret"));
        assert!(!saved.describe().contains("s3cret"), "{}", saved.describe());
        assert!(saved.view().password_set);
    }

    #[test]
    fn threshold_figures() {
        let percent = Threshold {
            unit: ThresholdUnit::Percent,
            value: 10,
        };
        assert_eq!(percent.limit_bytes(1000), 100);
        assert!(percent.is_low(1000, 99));
        assert!(!percent.is_low(1000, 100));
        // Recovery needs a margin above the threshold: here 1 % of the disk.
        assert!(!percent.has_recovered(1000, 105));
        assert!(percent.has_recovered(1000, 110));
        let mb = Threshold {
            unit: ThresholdUnit::Mb,
            value: 500,
        };
        assert_eq!(mb.limit_bytes(1), 500 * 1024 * 1024);
        let terabyte: u64 = 1024 * 1024 * 1024 * 1024;
        assert!(!mb.has_recovered(terabyte, 540 * 1024 * 1024));
        assert!(
            mb.has_recovered(terabyte, 550 * 1024 * 1024),
            "a tenth of 500 MB, not 1 % of 1 TB"
        );
        assert_eq!(mb.describe(), "500 MB");
    }
}
