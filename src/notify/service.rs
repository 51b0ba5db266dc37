//! The mail service the http layer holds: the settings, the 测试 mail, and the monitor
//! task (every [`CHECK_INTERVAL`], and at once when the settings change).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::monitor::{self, FreeSpaceSource};
use super::settings::{self, MailSettings, MailSettingsInput, SettingsError};
use super::smtp::{self, SendError, SmtpAnswer};
use crate::store::{Store, StoreError};

/// How often the disks are checked.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Why a test mail did not go out.
#[derive(Debug)]
pub enum TestError {
    Invalid(SettingsError),
    Send(SendError),
    Store(StoreError),
}

#[derive(Clone)]
pub struct MailService {
    store: Store,
    check_now: Arc<Notify>,
}

impl MailService {
    /// Starts the monitor task; it stops with `shutdown`.
    pub fn start(
        store: Store,
        source: Arc<dyn FreeSpaceSource>,
        shutdown: CancellationToken,
    ) -> (MailService, JoinHandle<()>) {
        let check_now = Arc::new(Notify::new());
        let service = MailService {
            store: store.clone(),
            check_now: Arc::clone(&check_now),
        };
        let task = tokio::spawn(async move {
            loop {
                // A shutdown does not wait for a slow mail server: the check is dropped, and
                // a mail whose state was not stored yet is sent again after the restart.
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    checked = monitor::check(&store, &source) => {
                        if let Err(err) = checked {
                            log::error!("free-space check failed: {err}");
                        }
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(CHECK_INTERVAL) => {}
                    _ = check_now.notified() => {}
                }
            }
        });
        (service, task)
    }

    pub async fn settings(&self) -> Result<MailSettings, StoreError> {
        settings::load(&self.store).await
    }

    /// Validates and stores the settings → (before, after), then checks the disks with them.
    pub async fn save(
        &self,
        input: MailSettingsInput,
    ) -> Result<Result<(MailSettings, MailSettings), SettingsError>, StoreError> {
        let saved = settings::save(&self.store, input).await?;
        if saved.is_ok() {
            self.check_now.notify_one();
        }
        Ok(saved)
    }

    /// Sends a test mail with `input` (the form as it is, not necessarily saved; a left-out
    /// password is the stored one) → the server's answer. Stores nothing.
    pub async fn send_test(&self, input: MailSettingsInput) -> Result<SmtpAnswer, TestError> {
        let current = self.settings().await.map_err(TestError::Store)?;
        let settings = settings::validate(input, &current, true).map_err(TestError::Invalid)?;
        let hostname = crate::system::hostname();
        let subject = format!("[{}] 测试邮件 / Test mail", crate::PRODUCT_NAME);
        let body = format!(
            "这是 {hostname} 发出的测试邮件：邮件通知设置可用。磁盘剩余空间低于 {threshold} 时将发送提醒。\n\n\
             This is a test mail from {hostname}: the mail notification settings work. \
             A reminder is sent when a disk's free space falls below {threshold}.\n",
            threshold = settings.threshold.describe()
        );
        smtp::send(&settings, &subject, &body)
            .await
            .map_err(TestError::Send)
    }
}
