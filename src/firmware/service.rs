//! The console's side of field upgrades: one uploaded bundle at a time kept in the data
//! folder (not /tmp: the service runs with a private /tmp that RAUC cannot see), and the RAUC
//! connection made on first use and remade after a failure, so a daemon started before RAUC
//! (or on a machine without it) still serves everything else.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::{BundleInfo, FirmwareError, UpgradeConfig, Upgrader};

/// The uploaded bundle's file name inside the upload folder.
const UPLOAD_NAME: &str = "upload.raucb";

#[derive(Clone)]
pub struct FirmwareService {
    inner: Arc<Inner>,
}

struct Inner {
    enabled: bool,
    config: UpgradeConfig,
    upload_dir: PathBuf,
    upgrader: Mutex<Option<Upgrader>>,
    /// The bundle uploaded and accepted by `inspect`, ready to install.
    uploaded: Mutex<Option<BundleInfo>>,
}

impl FirmwareService {
    pub fn new(enabled: bool, config: UpgradeConfig, data_dir: &Path) -> FirmwareService {
        FirmwareService {
            inner: Arc::new(Inner {
                enabled,
                config,
                upload_dir: data_dir.join("firmware"),
                upgrader: Mutex::new(None),
                uploaded: Mutex::new(None),
            }),
        }
    }

    pub fn max_bundle_bytes(&self) -> u64 {
        self.inner.config.max_bundle_bytes
    }

    /// The RAUC connection, made now if there is none yet.
    pub async fn upgrader(&self) -> Result<Upgrader, FirmwareError> {
        if !self.inner.enabled {
            return Err(FirmwareError::Unavailable(
                "disabled in the configuration".into(),
            ));
        }
        let mut slot = self.inner.upgrader.lock().await;
        if let Some(upgrader) = slot.as_ref() {
            return Ok(upgrader.clone());
        }
        let upgrader = Upgrader::connect(self.inner.config.clone()).await?;
        *slot = Some(upgrader.clone());
        Ok(upgrader)
    }

    fn upload_path(&self) -> PathBuf {
        self.inner.upload_dir.join(UPLOAD_NAME)
    }

    /// Streams an upload to disk (refusing it past the size limit), then has it checked and
    /// inspected. A refused bundle is deleted; nothing is written to any slot.
    pub async fn receive<S, E>(&self, mut body: S) -> Result<BundleInfo, FirmwareError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use futures_util::StreamExt;
        let upgrader = self.upgrader().await?;
        tokio::fs::create_dir_all(&self.inner.upload_dir)
            .await
            .map_err(|e| FirmwareError::Io(e.to_string()))?;
        let path = self.upload_path();
        *self.inner.uploaded.lock().await = None;
        let result = async {
            let mut file = tokio::fs::File::create(&path)
                .await
                .map_err(|e| FirmwareError::Io(e.to_string()))?;
            let mut size = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| FirmwareError::Truncated(e.to_string()))?;
                size += chunk.len() as u64;
                if size > self.max_bundle_bytes() {
                    return Err(FirmwareError::UploadTooLarge {
                        size,
                        max: self.max_bundle_bytes(),
                    });
                }
                file.write_all(&chunk)
                    .await
                    .map_err(|e| FirmwareError::Io(e.to_string()))?;
            }
            file.sync_all()
                .await
                .map_err(|e| FirmwareError::Io(e.to_string()))?;
            // RAUC takes a lease on the bundle and refuses one still open for writing.
            drop(file);
            upgrader.inspect(&path).await
        }
        .await;
        match result {
            Ok(info) => {
                *self.inner.uploaded.lock().await = Some(info.clone());
                Ok(info)
            }
            Err(err) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(err)
            }
        }
    }

    /// The bundle waiting to be installed, if any.
    pub async fn uploaded(&self) -> Option<BundleInfo> {
        self.inner.uploaded.lock().await.clone()
    }

    /// Starts installing the uploaded bundle into the inactive slot.
    pub async fn install(&self) -> Result<Option<BundleInfo>, FirmwareError> {
        let Some(_) = self.uploaded().await else {
            return Ok(None);
        };
        let upgrader = self.upgrader().await?;
        let info = upgrader.start_install(&self.upload_path()).await?;
        *self.inner.uploaded.lock().await = None;
        Ok(Some(info))
    }
}
