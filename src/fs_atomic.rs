//! Crash-safe file writes: a file is written to a temporary name beside its target, fsynced,
//! renamed over the target and the folder fsynced, so a reader (or a reboot) sees either the
//! old file or the new one, never half of one.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

/// Atomically replaces `path` with `contents`, created with `mode` (e.g. 0o600 for keys).
pub fn write(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        hex::encode(rand::random::<[u8; 6]>())
    ));
    let result = (|| -> anyhow::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
            .with_context(|| format!("creating {}", temp.display()))?;
        // The umask may have narrowed the mode; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temp, path)
            .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Whether `name` is one of [`write`]'s temporary names: `.<target>.tmp-<12 hex digits>`.
fn is_leftover(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    match rest.rsplit_once(".tmp-") {
        Some((target, suffix)) => {
            !target.is_empty()
                && suffix.len() == 12
                && suffix.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// Removes the temporary files a crash in the middle of [`write`] left in `dir` (the target
/// itself is intact: the rename never happened). Called at start for every folder we write
/// to; returns how many were removed. A missing folder has none.
pub fn remove_leftovers(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && is_leftover(&name.to_string_lossy()) {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(err) => log::warn!("cannot remove {}: {err}", entry.path().display()),
            }
        }
    }
    if removed > 0 {
        log::warn!(
            "removed {removed} unfinished write(s) in {} left by a crash",
            dir.display()
        );
    }
    removed
}

/// Creates a folder (and its parents) readable only by us, for secrets and the database.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_s_leftovers_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let keep = [
            "extensions_coocenter.conf",
            ".hidden",
            ".a.tmp-xyz",
            "b.tmp-0123456789ab",
        ];
        for name in keep {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        fs::write(
            dir.path()
                .join(".extensions_coocenter.conf.tmp-0a1b2c3d4e5f"),
            "half",
        )
        .unwrap();
        write(&dir.path().join("queues.conf"), b"ok", 0o644).unwrap();
        assert_eq!(remove_leftovers(dir.path()), 1);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut expected: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
        expected.push("queues.conf".into());
        expected.sort();
        assert_eq!(left, expected);
        assert_eq!(remove_leftovers(&dir.path().join("missing")), 0);
    }

    #[test]
    fn replaces_atomically_with_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("key.pem");
        write(&target, b"one", 0o600).unwrap();
        write(&target, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failure_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("missing-dir").join("x");
        assert!(write(&target, b"data", 0o644).is_err());
        assert!(!target.exists());
    }
}
