//! Text to speech (manual §9.1.3): runs the configured engine — espeak-ng's Mandarin voice by
//! default — on the box to turn Chinese text into a WAV file, which then goes through the
//! same checks and conversion as any upload ([`super::audio`]).
//!
//! The engine is a command from the configuration, run directly (no shell, so nothing in the
//! text is ever interpreted) with a timeout, after which it is killed. Placeholders: `{out}`
//! the WAV file to write, `{text}` the text; without `{text}` the text goes to standard input.
//!
//! May call: `tokio::process`. Writes only the output file it is given.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The engine and its limits (from `[tts]` in the configuration).
#[derive(Debug, Clone)]
pub struct TtsEngine {
    pub command: Vec<String>,
    pub max_chars: usize,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("the text is empty")]
    EmptyText,
    #[error("the text has {chars} characters, more than {max}")]
    TooLong { chars: usize, max: usize },
    #[error("the speech engine {program} is not installed")]
    EngineMissing { program: String },
    #[error("the speech engine failed: {reason}")]
    EngineFailed { reason: String },
    #[error("the speech engine did not finish within {seconds} s")]
    Timeout { seconds: u64 },
}

impl TtsEngine {
    /// Checks the text and returns it as the engine gets it: trimmed, with control
    /// characters (other than line breaks) turned into spaces.
    pub fn prepare_text(&self, text: &str) -> Result<String, TtsError> {
        let cleaned: String = text
            .trim()
            .chars()
            .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
            .collect();
        if cleaned.trim().is_empty() {
            return Err(TtsError::EmptyText);
        }
        let chars = cleaned.chars().count();
        if chars > self.max_chars {
            return Err(TtsError::TooLong {
                chars,
                max: self.max_chars,
            });
        }
        Ok(cleaned)
    }

    /// Speaks `text` into the WAV file `out` (which must not exist yet or may be replaced).
    pub async fn synthesize(&self, text: &str, out: &Path) -> Result<(), TtsError> {
        let text = self.prepare_text(text)?;
        let (program, args) = self
            .command
            .split_first()
            .ok_or_else(|| TtsError::EngineFailed {
                reason: "no command configured".into(),
            })?;
        let out_arg = out.to_string_lossy();
        let mut text_in_args = false;
        let args: Vec<String> = args
            .iter()
            .map(|arg| {
                if arg.contains("{text}") {
                    text_in_args = true;
                }
                // A text starting with '-' must not read as an option of the engine.
                let safe_text = if text.starts_with('-') {
                    format!(" {text}")
                } else {
                    text.clone()
                };
                arg.replace("{out}", &out_arg).replace("{text}", &safe_text)
            })
            .collect();
        let mut child = Command::new(program)
            .args(&args)
            .stdin(if text_in_args {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| match err.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    TtsError::EngineMissing {
                        program: program.clone(),
                    }
                }
                _ => TtsError::EngineFailed {
                    reason: err.to_string(),
                },
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // An engine that exits without reading gives a broken pipe: its exit status
            // and stderr then tell what happened.
            let _ = stdin.write_all(text.as_bytes()).await;
            let _ = stdin.write_all(b"\n").await;
        }
        let seconds = self.timeout.as_secs();
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| TtsError::Timeout { seconds })?
            .map_err(|err| TtsError::EngineFailed {
                reason: err.to_string(),
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first_line = stderr
                .lines()
                .map(str::trim)
                .find(|line| !line.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| output.status.to_string());
            return Err(TtsError::EngineFailed { reason: first_line });
        }
        match tokio::fs::metadata(out).await {
            Ok(meta) if meta.len() > 0 => Ok(()),
            _ => Err(TtsError::EngineFailed {
                reason: "it wrote no audio".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(command: &[&str]) -> TtsEngine {
        TtsEngine {
            command: command.iter().map(|s| s.to_string()).collect(),
            max_chars: 20,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn text_is_checked() {
        let tts = engine(&["espeak-ng"]);
        assert!(matches!(
            tts.prepare_text("  \n "),
            Err(TtsError::EmptyText)
        ));
        assert!(matches!(
            tts.prepare_text(&"长".repeat(21)),
            Err(TtsError::TooLong { chars: 21, max: 20 })
        ));
        assert_eq!(tts.prepare_text(" 您好\t欢迎 ").unwrap(), "您好 欢迎");
        assert_eq!(
            tts.prepare_text(&"长".repeat(20)).unwrap().chars().count(),
            20
        );
    }

    #[tokio::test]
    async fn a_missing_engine_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = engine(&["/nonexistent/tts-engine", "{out}"])
            .synthesize("您好", &dir.path().join("o.wav"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, TtsError::EngineMissing { program } if program == "/nonexistent/tts-engine"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_failing_engine_gives_its_first_stderr_line() {
        let dir = tempfile::tempdir().unwrap();
        let err = engine(&[
            "sh",
            "-c",
            "echo; echo 'voice cmn not found' >&2; echo more >&2; exit 3",
            "{out}",
        ])
        .synthesize("您好", &dir.path().join("o.wav"))
        .await
        .unwrap_err();
        assert!(
            matches!(&err, TtsError::EngineFailed { reason } if reason == "voice cmn not found"),
            "{err}"
        );
        // Succeeding without writing anything is a failure too.
        let err = engine(&["true", "{out}"])
            .synthesize("您好", &dir.path().join("o.wav"))
            .await
            .unwrap_err();
        assert!(matches!(err, TtsError::EngineFailed { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_hanging_engine_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let mut tts = engine(&["sh", "-c", "exec sleep 30", "{out}"]);
        tts.timeout = Duration::from_millis(200);
        let started = std::time::Instant::now();
        let err = tts
            .synthesize("您好", &dir.path().join("o.wav"))
            .await
            .unwrap_err();
        assert!(matches!(err, TtsError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn text_reaches_the_engine_as_an_argument_or_on_stdin_never_through_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.txt");
        // `cat` copies standard input into {out}: the text arrives intact.
        engine(&["sh", "-c", "cat > \"$0\"", "{out}"])
            .synthesize("您好；$(rm -rf /) `x`", &out)
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "您好；$(rm -rf /) `x`\n"
        );
        // As an argument, it is one argument, and cannot pass for an option.
        engine(&["sh", "-c", "printf '%s' \"$1\" > \"$0\"", "{out}", "{text}"])
            .synthesize("-v 您好", &out)
            .await
            .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), " -v 您好");
    }

    /// The default engine (scripts/test installs espeak-ng).
    #[tokio::test]
    async fn espeak_ng_speaks_mandarin_into_a_wav() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.wav");
        let config = crate::config::TtsConfig::default();
        let tts = TtsEngine {
            command: config.command,
            max_chars: 100,
            timeout: Duration::from_secs(20),
        };
        tts.synthesize("您好，欢迎致电。", &out).await.unwrap();
        let converted =
            super::super::audio::transcode(std::fs::File::open(&out).unwrap(), Some("wav"), 60)
                .unwrap();
        assert!(converted.duration_ms > 500, "{converted:?}");
    }
}
