//! 邮件通知 (manual §9.2): mail to the administrator when the system disk or a USB disk runs
//! low on free space. Owns the mail settings (one JSON document under the settings key
//! `mail`; the SMTP password is stored there for sending and never returned or logged),
//! sending through SMTP with lettre (rustls, ring; no OpenSSL), the 测试 mail, and the
//! monitor task that checks the disks every minute and mails once per crossing of the
//! threshold (and once on recovery), its state kept in the database across restarts.
//! Calls `store` and `system`; the http layer calls it.

pub mod monitor;
pub mod service;
pub mod settings;
pub mod smtp;

pub use service::MailService;
pub use settings::{MailSettings, MailSettingsInput, MailSettingsView};
