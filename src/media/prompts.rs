//! The voice prompts on flash (语音管理, manual §9.1): the prompts folder that Asterisk plays
//! from, and its index in the `prompts` table.
//!
//! An upload is staged in the folder under a hidden name (`.upload-*`), counted against the
//! size limit and the free space while it streams in, decoded completely and converted
//! ([`super::audio`]), and only then written: to a temporary name beside the target, fsynced,
//! renamed, and the folder fsynced ([`crate::fs_atomic`]); its row is inserted after the
//! rename. A crash leaves at worst a hidden temporary file or a converted file without a row:
//! both are removed when the store opens, so the folder and the list never disagree. Deleting
//! removes the row first, then the file, for the same reason.
//!
//! File names: the administrator names a prompt in any language (欢迎语); Asterisk needs a
//! plain file name. The stem is an ASCII slug of the name — letters, digits, `-` and `_`
//! kept, lower-cased, everything else (spaces, punctuation, Chinese characters) folded into
//! single dashes — or `prompt` when nothing is left, with `-2`, `-3`, … appended when taken.
//! Transliterating Chinese to pinyin would need a large table in the binary for little gain:
//! the console always shows the administrator's own name beside the file name.
//!
//! May call: the filesystem, `system::disk` (free space), `store::prompts` and
//! `store::settings` (the call-flow settings that may name a prompt), [`super::audio`],
//! [`super::tts`].

use std::fs;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use super::audio::{self, AudioError, Container, Transcoded};
use super::tts::{TtsEngine, TtsError};
use crate::store::prompts::{self as prompt_rows, PromptRow};
use crate::store::{Store, StoreError};

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest file stem (before a `-N` suffix).
const MAX_STEM_BYTES: usize = 40;
/// Free space left untouched on flash for the rest of the system (logs, the database).
pub const FLASH_RESERVE_BYTES: u64 = 4 * 1024 * 1024;

/// The key of the call-flow settings (owned by the call-flow page) in the settings table.
pub const CALL_FLOW_KEY: &str = "call_flow";

const UPLOAD_PREFIX: &str = ".upload-";
const TTS_PREFIX: &str = ".tts-";

/// Limits from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct PromptLimits {
    pub max_seconds: u32,
    pub max_upload_bytes: u64,
}

/// What the administrator says an upload is; the content must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceClaim {
    /// A file from disk: its format is what the decoder finds.
    File,
    /// Recorded in the browser (a WAV made by the page).
    Browser,
    /// A TTS result (a WAV made by `POST /api/v1/tts`).
    Tts,
}

impl SourceClaim {
    pub fn parse(value: &str) -> Option<SourceClaim> {
        match value {
            "" | "file" => Some(SourceClaim::File),
            "browser" => Some(SourceClaim::Browser),
            "tts" => Some(SourceClaim::Tts),
            _ => None,
        }
    }
}

/// Which call-flow setting names a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptUse {
    StartPrompt,
    EndPrompt,
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("the name is empty")]
    NameEmpty,
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("the name contains control characters")]
    NameInvalid,
    #[error("a prompt named {0} exists")]
    NameTaken(String),
    #[error("no prompt {0}")]
    NotFound(String),
    #[error("prompt {name} is selected as the {which:?}")]
    InUse { name: String, which: PromptUse },
    #[error("the upload is larger than {limit_mb} MiB")]
    UploadTooLarge { limit_mb: u64 },
    #[error("not enough free space on flash: {needed} bytes needed, {free} free")]
    NoSpace { needed: u64, free: u64 },
    #[error("no file in the upload")]
    NoFile,
    #[error("a {claimed:?} prompt must be a WAV file, this is {found}")]
    SourceMismatch {
        claimed: SourceClaim,
        found: &'static str,
    },
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error(transparent)]
    Tts(#[from] TtsError),
    #[error("prompts folder: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The prompts folder and its index.
pub struct PromptStore {
    dir: PathBuf,
    store: Store,
    limits: PromptLimits,
    tts: TtsEngine,
    /// Saves and deletes one at a time: name checks and file writes stay consistent.
    write_lock: tokio::sync::Mutex<()>,
}

/// An upload being received into a hidden file in the prompts folder; removed when dropped.
pub struct StagedUpload {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    written: u64,
    max_bytes: u64,
    /// Free space when staging began, less the reserve.
    room: u64,
    free: u64,
}

impl StagedUpload {
    /// Appends a chunk, refusing once the size limit or the free space is passed.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), PromptError> {
        self.written += chunk.len() as u64;
        if self.written > self.max_bytes {
            return Err(PromptError::UploadTooLarge {
                limit_mb: self.max_bytes / (1024 * 1024),
            });
        }
        if self.written > self.room {
            return Err(PromptError::NoSpace {
                needed: self.written + FLASH_RESERVE_BYTES,
                free: self.free,
            });
        }
        let file = self.file.as_mut().expect("open until finished");
        file.write_all(chunk).await?;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.written
    }

    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    async fn finish(&mut self) -> Result<(), PromptError> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
        }
        Ok(())
    }
}

impl Drop for StagedUpload {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl PromptStore {
    /// Opens the folder, clearing what an interrupted write left behind:
    /// hidden temporary files, converted files without a row, rows without a file.
    pub async fn open(
        dir: PathBuf,
        store: Store,
        limits: PromptLimits,
        tts: TtsEngine,
    ) -> Result<PromptStore, PromptError> {
        // The folder is created by the first upload: starting must not fail, nor create
        // Asterisk's folders, on a machine without them. When it is missing there is
        // nothing to clear, and rows are kept (it may be an unmounted disk, not a loss).
        let rows = store.call(|conn| prompt_rows::list(conn)).await?;
        let (stale_files, missing) = if dir.is_dir() {
            let dir = dir.clone();
            let rows = rows.clone();
            tokio::task::spawn_blocking(move || clean_folder(&dir, &rows))
                .await
                .map_err(|err| std::io::Error::other(err.to_string()))??
        } else {
            (0, vec![])
        };
        if stale_files > 0 {
            log::warn!(
                "prompts: removed {stale_files} leftover file(s) of interrupted writes in {}",
                dir.display()
            );
        }
        for name in missing {
            log::warn!(
                "prompts: {name} has no file any more in {}; dropping it from the list",
                dir.display()
            );
            let target = name.clone();
            store
                .call(move |conn| prompt_rows::delete(conn, &target))
                .await?;
        }
        Ok(PromptStore {
            dir,
            store,
            limits,
            tts,
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn limits(&self) -> PromptLimits {
        self.limits
    }

    pub fn max_tts_chars(&self) -> usize {
        self.tts.max_chars
    }

    pub async fn list(&self) -> Result<Vec<PromptRow>, PromptError> {
        Ok(self.store.call(|conn| prompt_rows::list(conn)).await?)
    }

    pub async fn get(&self, name: &str) -> Result<PromptRow, PromptError> {
        let target = name.to_string();
        self.store
            .call(move |conn| prompt_rows::get(conn, &target))
            .await?
            .ok_or_else(|| PromptError::NotFound(name.to_string()))
    }

    /// The converted file of a prompt (its name comes from the index, never from a request).
    pub fn audio_path(&self, row: &PromptRow) -> PathBuf {
        self.dir.join(&row.file_name)
    }

    /// Starts receiving an upload.
    pub async fn stage(&self) -> Result<StagedUpload, PromptError> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let free = free_bytes(&self.dir)?;
        let path = self.dir.join(format!("{UPLOAD_PREFIX}{}", random_suffix()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(StagedUpload {
            path,
            file: Some(file),
            written: 0,
            max_bytes: self.limits.max_upload_bytes,
            room: free.saturating_sub(FLASH_RESERVE_BYTES),
            free,
        })
    }

    /// Decodes and converts a staged upload; nothing is saved.
    pub async fn convert(
        &self,
        staged: &mut StagedUpload,
        extension: Option<String>,
    ) -> Result<Transcoded, PromptError> {
        staged.finish().await?;
        let path = staged.path.clone();
        let max_seconds = self.limits.max_seconds;
        let converted = tokio::task::spawn_blocking(move || {
            let file = fs::File::open(&path)?;
            audio::transcode(file, extension.as_deref(), max_seconds)
        })
        .await
        .map_err(|err| std::io::Error::other(err.to_string()))??;
        Ok(converted)
    }

    /// Checks the name, converts the upload and saves it as a new prompt.
    pub async fn save_upload(
        &self,
        display_name: &str,
        claim: SourceClaim,
        staged: &mut StagedUpload,
        extension: Option<String>,
    ) -> Result<PromptRow, PromptError> {
        let display_name = check_display_name(display_name)?;
        // Refuse a taken name before the work of decoding (checked again when saving).
        if self.by_display_name(&display_name).await?.is_some() {
            return Err(PromptError::NameTaken(display_name));
        }
        if staged.is_empty() {
            return Err(PromptError::Audio(AudioError::Empty));
        }
        let converted = self.convert(staged, extension).await?;
        let source_format = match (claim, converted.container) {
            (SourceClaim::File, container) => container.as_str(),
            (SourceClaim::Browser, Container::Wav) => "browser",
            (SourceClaim::Tts, Container::Wav) => "tts",
            (claimed, found) => {
                return Err(PromptError::SourceMismatch {
                    claimed,
                    found: found.as_str(),
                })
            }
        };
        self.save(&display_name, source_format, &converted).await
    }

    async fn by_display_name(&self, display_name: &str) -> Result<Option<PromptRow>, PromptError> {
        let target = display_name.to_string();
        Ok(self
            .store
            .call(move |conn| prompt_rows::by_display_name(conn, &target))
            .await?)
    }

    /// Writes converted audio as a new prompt: file first (atomically), then its row.
    pub async fn save(
        &self,
        display_name: &str,
        source_format: &'static str,
        converted: &Transcoded,
    ) -> Result<PromptRow, PromptError> {
        let display_name = check_display_name(display_name)?;
        let _writing = self.write_lock.lock().await;
        if self.by_display_name(&display_name).await?.is_some() {
            return Err(PromptError::NameTaken(display_name));
        }
        let taken: Vec<String> = self.list().await?.into_iter().map(|row| row.name).collect();
        let dir = self.dir.clone();
        let name = unique_stem(&slug(&display_name), |candidate| {
            taken.iter().any(|t| t == candidate) || dir.join(format!("{candidate}.wav")).exists()
        });
        let row = PromptRow {
            file_name: format!("{name}.wav"),
            name,
            display_name,
            source_format: source_format.to_string(),
            size_bytes: converted.wav.len() as i64,
            duration_ms: converted.duration_ms as i64,
            created_at: crate::store::now_millis(),
        };
        tokio::fs::create_dir_all(&self.dir).await?;
        let needed = converted.wav.len() as u64 + FLASH_RESERVE_BYTES;
        let free = free_bytes(&self.dir)?;
        if free < needed {
            return Err(PromptError::NoSpace { needed, free });
        }
        let path = self.audio_path(&row);
        let wav = converted.wav.clone();
        tokio::task::spawn_blocking(move || crate::fs_atomic::write(&path, &wav, 0o644))
            .await
            .map_err(|err| std::io::Error::other(err.to_string()))?
            .map_err(|err| std::io::Error::other(format!("{err:#}")))?;
        let inserted = row.clone();
        if let Err(err) = self
            .store
            .call(move |conn| prompt_rows::insert(conn, &inserted))
            .await
        {
            let _ = fs::remove_file(self.audio_path(&row));
            return Err(err.into());
        }
        Ok(row)
    }

    /// Deletes a prompt unless the call-flow settings play it.
    pub async fn delete(&self, name: &str) -> Result<PromptRow, PromptError> {
        let _writing = self.write_lock.lock().await;
        let row = self.get(name).await?;
        let call_flow = self
            .store
            .call(|conn| crate::store::settings::get(conn, CALL_FLOW_KEY))
            .await?;
        if let Some(which) = use_in_call_flow(call_flow.as_deref(), name) {
            return Err(PromptError::InUse {
                name: name.to_string(),
                which,
            });
        }
        let target = name.to_string();
        self.store
            .call(move |conn| prompt_rows::delete(conn, &target))
            .await?;
        let path = self.audio_path(&row);
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
            fs::File::open(&dir)?.sync_all()
        })
        .await
        .map_err(|err| std::io::Error::other(err.to_string()))??;
        Ok(row)
    }

    /// Speaks `text` with the TTS engine and converts the result; nothing is saved.
    pub async fn synthesize(&self, text: &str) -> Result<Transcoded, PromptError> {
        self.tts.prepare_text(text)?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let out = TempFile(
            self.dir
                .join(format!("{TTS_PREFIX}{}.wav", random_suffix())),
        );
        self.tts.synthesize(text, &out.0).await?;
        let path = out.0.clone();
        let max_seconds = self.limits.max_seconds;
        let converted = tokio::task::spawn_blocking(move || {
            audio::transcode(fs::File::open(&path)?, Some("wav"), max_seconds)
        })
        .await
        .map_err(|err| std::io::Error::other(err.to_string()))??;
        Ok(converted)
    }
}

/// Removes a file when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Which call-flow setting, if any, plays the prompt `name`. The settings are a JSON
/// document owned by the call-flow page; anything unreadable there names no prompt.
pub fn use_in_call_flow(call_flow_json: Option<&str>, name: &str) -> Option<PromptUse> {
    let settings: serde_json::Value = serde_json::from_str(call_flow_json?).ok()?;
    let names = |key: &str| settings.get(key).and_then(|v| v.as_str()) == Some(name);
    if names("start_prompt") {
        Some(PromptUse::StartPrompt)
    } else if names("end_prompt") {
        Some(PromptUse::EndPrompt)
    } else {
        None
    }
}

/// The display name as stored: trimmed, checked.
pub fn check_display_name(name: &str) -> Result<String, PromptError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PromptError::NameEmpty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(PromptError::NameTooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(PromptError::NameInvalid);
    }
    Ok(name.to_string())
}

/// The ASCII file stem for a display name (see the module documentation).
pub fn slug(display_name: &str) -> String {
    let mut stem = String::new();
    let mut dash_pending = false;
    for c in display_name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if dash_pending && !stem.is_empty() {
                stem.push('-');
            }
            dash_pending = false;
            stem.push(c.to_ascii_lowercase());
        } else {
            dash_pending = true;
        }
        if stem.len() >= MAX_STEM_BYTES {
            break;
        }
    }
    let stem = stem.trim_matches('-').to_string();
    if stem.is_empty() {
        "prompt".to_string()
    } else {
        stem
    }
}

/// `stem`, or `stem-2`, `stem-3`, … : the first that `taken` refuses.
pub fn unique_stem(stem: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(stem) {
        return stem.to_string();
    }
    (2u32..)
        .map(|n| format!("{stem}-{n}"))
        .find(|candidate| !taken(candidate))
        .expect("an unbounded sequence has a free name")
}

fn random_suffix() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

fn free_bytes(dir: &Path) -> Result<u64, PromptError> {
    crate::system::disk::disk_usage(dir)
        .map(|usage| usage.free_bytes)
        .map_err(|err| PromptError::Io(std::io::Error::other(err.to_string())))
}

/// Whether a file in the prompts folder is a temporary one of ours.
fn is_temporary(file_name: &str) -> bool {
    file_name.starts_with(UPLOAD_PREFIX)
        || file_name.starts_with(TTS_PREFIX)
        // crate::fs_atomic's temporary names: `.<target>.tmp-<hex>`.
        || (file_name.starts_with('.') && file_name.contains(".tmp-"))
}

/// Removes temporary files and converted files without a row; returns how many files were
/// removed and the rows whose file is missing.
fn clean_folder(dir: &Path, rows: &[PromptRow]) -> std::io::Result<(usize, Vec<String>)> {
    let mut removed = 0;
    let mut seen = std::collections::HashSet::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().to_string();
        if !entry.file_type()?.is_file() {
            continue;
        }
        let orphan = file_name.ends_with(".wav")
            && !file_name.starts_with('.')
            && !rows.iter().any(|row| row.file_name == file_name);
        if is_temporary(&file_name) || orphan {
            fs::remove_file(entry.path())?;
            removed += 1;
        } else {
            seen.insert(file_name);
        }
    }
    if removed > 0 {
        fs::File::open(dir)?.sync_all()?;
    }
    let missing = rows
        .iter()
        .filter(|row| !seen.contains(&row.file_name))
        .map(|row| row.name.clone())
        .collect();
    Ok((removed, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_ascii_slugs() {
        assert_eq!(slug("Welcome Message"), "welcome-message");
        assert_eq!(slug("欢迎语"), "prompt");
        assert_eq!(slug("欢迎语 v2"), "v2");
        assert_eq!(slug("  Hello,  World! 您好 "), "hello-world");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("night_shift"), "night_shift");
        assert!(slug(&"a".repeat(100)).len() <= MAX_STEM_BYTES);
        assert_eq!(
            unique_stem("prompt", |s| ["prompt", "prompt-2"].contains(&s)),
            "prompt-3"
        );
        assert_eq!(unique_stem("welcome", |_| false), "welcome");
    }

    #[test]
    fn display_names_are_checked() {
        assert_eq!(check_display_name("  欢迎语 ").unwrap(), "欢迎语");
        assert!(matches!(
            check_display_name(" "),
            Err(PromptError::NameEmpty)
        ));
        assert!(matches!(
            check_display_name(&"长".repeat(65)),
            Err(PromptError::NameTooLong)
        ));
        assert!(matches!(
            check_display_name("a\u{7}b"),
            Err(PromptError::NameInvalid)
        ));
    }

    #[test]
    fn the_call_flow_settings_name_start_and_end_prompts() {
        let json = r#"{"start_prompt": "welcome", "end_prompt": "bye", "survey": true}"#;
        assert_eq!(
            use_in_call_flow(Some(json), "welcome"),
            Some(PromptUse::StartPrompt)
        );
        assert_eq!(
            use_in_call_flow(Some(json), "bye"),
            Some(PromptUse::EndPrompt)
        );
        assert_eq!(use_in_call_flow(Some(json), "other"), None);
        assert_eq!(
            use_in_call_flow(Some(r#"{"start_prompt": null}"#), "x"),
            None
        );
        assert_eq!(use_in_call_flow(None, "welcome"), None);
        assert_eq!(use_in_call_flow(Some("not json"), "welcome"), None);
    }

    fn staged(dir: &Path, max_bytes: u64, room: u64) -> StagedUpload {
        let path = dir.join(".upload-test");
        StagedUpload {
            file: Some(tokio::fs::File::from_std(fs::File::create(&path).unwrap())),
            path,
            written: 0,
            max_bytes,
            room,
            free: room + FLASH_RESERVE_BYTES,
        }
    }

    #[tokio::test]
    async fn a_staged_upload_stops_at_the_size_limit_and_at_the_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let mut upload = staged(dir.path(), 2 * 1024 * 1024, 1 << 40);
        upload.write(&[0; 1024 * 1024]).await.unwrap();
        upload.write(&[0; 1024 * 1024]).await.unwrap();
        let err = upload.write(&[0]).await.unwrap_err();
        assert!(
            matches!(err, PromptError::UploadTooLarge { limit_mb: 2 }),
            "{err}"
        );
        drop(upload);
        // Dropping it removes the staged file.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);

        let mut upload = staged(dir.path(), 1 << 40, 1000);
        upload.write(&[0; 1000]).await.unwrap();
        let err = upload.write(&[0]).await.unwrap_err();
        assert!(
            matches!(err, PromptError::NoSpace { needed, free } if needed == 1001 + FLASH_RESERVE_BYTES && free == 1000 + FLASH_RESERVE_BYTES),
            "{err}"
        );
    }

    #[test]
    fn temporary_names_are_recognised() {
        assert!(is_temporary(".upload-0011"));
        assert!(is_temporary(".tts-aa.wav"));
        assert!(is_temporary(".welcome.wav.tmp-a1b2c3"));
        assert!(!is_temporary("welcome.wav"));
        assert!(!is_temporary(".hidden"));
    }
}
