//! The call-flow settings of 其他设置 (manual §9.2) and what makes Asterisk follow them.
//!
//! Owns the `call_flow` settings document (one JSON value under that key of the `settings`
//! table, its field names fixed by the shared contract), its validation as a whole (prompt
//! names that exist, screen-pop templates with known placeholders only, the 10 s rule of the
//! answer prompts computed from the real audio), the generated dialplan include
//! `extensions_coocenter.conf` (written atomically) and its reload (`Reload` of
//! `pbx_config`), the AstDB entries that dialplan reads (`coocenter_agent/<caller>` for
//! 直呼分配坐席, `coocenter_job/<extension>` for 播放工号), and what the PBX worker does with
//! the events of our dialplan: survey scores (`UserEvent: CooCenterSurvey`) and the first
//! agent to answer an unassigned customer (`AgentConnect`).
//!
//! Known limit, to verify on a real Asterisk: app_queue runs the answer gosub (Queue's
//! `gosub` argument, like Dial's `U()`) on the *agent's* channel while the caller waits in
//! autoservice, so what it plays may reach the agent rather than the caller. If it does, the
//! way to the caller is members dialled through a Local channel whose `Dial(…,A(:files))`
//! plays the prompts to the calling side; that changes how queue members are added
//! (`directory.rs`), so it is left to that decision.
//!
//! A change Asterisk cannot take now (it is away) is saved, the include written, and marked
//! pending; the watcher started by [`CallFlow::start`] reloads at the next connect and
//! brings the AstDB entries up to date after every connect and every agent change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::accounts::masking::Viewer;
use crate::ami::{self, Message};
use crate::i18n::Text;
use crate::store::{agents, customers, prompts, settings, survey, Store, StoreError};

use super::commands::{self, CommandError};
use super::Pbx;

/// The `settings` key of the document (shared contract).
pub const SETTINGS_KEY: &str = "call_flow";
/// Set while a saved change has not reached Asterisk.
pub const PENDING_KEY: &str = "call_flow_pending";
/// The generated dialplan include, in `paths.asterisk_config_dir`.
pub const EXTENSIONS_INCLUDE: &str = "extensions_coocenter.conf";
/// AstDB family: customer number → the assigned agent's interface.
pub const AGENT_FAMILY: &str = "coocenter_agent";
/// AstDB family: extension → the agent's job number.
pub const JOB_FAMILY: &str = "coocenter_job";
/// The most the caller may hear between the answer and the conversation (manual §9.1.1).
pub const PLAY_LIMIT_MS: u64 = 10_000;
/// What one spoken digit is taken to last when Asterisk's digit sounds cannot be measured:
/// the longest of Asterisk's own core sounds (en, zh) is about 0.7 s, so 0.8 s errs long.
pub const ESTIMATED_DIGIT_MS: u64 = 800;
/// The user event our survey dialplan raises.
pub const SURVEY_EVENT: &str = "CooCenterSurvey";
/// The placeholders a screen-pop template may use.
pub const PLACEHOLDERS: &[&str] = &["caller", "queue", "job_number", "uniqueid"];
const MAX_TEMPLATE: usize = 2000;
/// How often the watcher looks for agents whose job number Asterisk must learn.
const AGENT_SYNC_EVERY: Duration = Duration::from_secs(5);

/// The settings document. Missing fields read as off / null / "".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CallFlowSettings {
    /// 隐藏电话号码: ordinary agents see numbers longer than six digits with the middle four
    /// hidden.
    pub hide_numbers: bool,
    /// 满意度调查: after the agent hangs up, the caller rates the call 1–5.
    pub survey: bool,
    /// 直呼分配坐席: a customer's assigned agent is rung first; the first agent to answer an
    /// unassigned customer becomes theirs.
    pub direct_assign: bool,
    /// 播放开始语音: the prompt played first, or null for none.
    pub start_prompt: Option<String>,
    /// 播放工号: the answering agent's job number is said to the caller.
    pub play_job_number: bool,
    /// 播放结束语音: the prompt played last, or null for none.
    pub end_prompt: Option<String>,
    /// Inbound screen-pop URL template ("" = none).
    pub screen_pop_inbound: String,
    /// Outbound screen-pop URL template ("" = none).
    pub screen_pop_outbound: String,
    /// The question the survey asks (a prompt), or null for a beep.
    pub survey_prompt: Option<String>,
}

impl CallFlowSettings {
    /// The document's field names.
    pub const FIELDS: [&'static str; 9] = [
        "hide_numbers",
        "survey",
        "direct_assign",
        "start_prompt",
        "play_job_number",
        "end_prompt",
        "screen_pop_inbound",
        "screen_pop_outbound",
        "survey_prompt",
    ];

    /// Reads the stored document; anything unreadable counts as all off (and is logged).
    /// Lenient, unlike the API: fields written by another version are ignored, not fatal.
    pub fn from_stored(value: Option<&str>) -> CallFlowSettings {
        let Some(text) = value else {
            return CallFlowSettings::default();
        };
        let parsed = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
            .and_then(|mut fields| {
                fields.retain(|k, _| Self::FIELDS.contains(&k.as_str()));
                serde_json::from_value::<CallFlowSettings>(serde_json::Value::Object(fields))
            });
        match parsed {
            Ok(mut settings) => {
                for prompt in [
                    &mut settings.start_prompt,
                    &mut settings.end_prompt,
                    &mut settings.survey_prompt,
                ] {
                    if prompt.as_deref() == Some("") {
                        *prompt = None;
                    }
                }
                settings
            }
            Err(err) => {
                log::error!("the stored call-flow settings are unreadable ({err}); using all off");
                CallFlowSettings::default()
            }
        }
    }

    /// Whether the answer gosub has anything to play.
    pub fn plays_anything(&self) -> bool {
        self.start_prompt.is_some() || self.play_job_number || self.end_prompt.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CallFlowError {
    /// A field is wrong; nothing was changed.
    #[error("{field}: {}", text.en)]
    Invalid {
        field: &'static str,
        code: &'static str,
        text: Text,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the Asterisk include: {0}")]
    Io(String),
    #[error("Asterisk refused: {0}")]
    Refused(String),
}

fn invalid(field: &'static str, code: &'static str, text: Text) -> CallFlowError {
    CallFlowError::Invalid { field, code, text }
}

// ----- screen-pop templates -----

/// Characters kept as they are in an expanded value (RFC 3986 unreserved).
const VALUE_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The values a screen-pop template is expanded with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PopValues<'a> {
    pub caller: &'a str,
    pub queue: &'a str,
    pub job_number: &'a str,
    pub uniqueid: &'a str,
}

/// Expands `{caller}`, `{queue}`, `{job_number}`, `{uniqueid}` in a checked template, each
/// value percent-encoded (so a caller ID cannot add query parameters or path segments).
pub fn expand_screen_pop(template: &str, values: &PopValues<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let value = match &after[..close] {
                    "caller" => Some(values.caller),
                    "queue" => Some(values.queue),
                    "job_number" => Some(values.job_number),
                    "uniqueid" => Some(values.uniqueid),
                    _ => None,
                };
                match value {
                    Some(v) => out.extend(utf8_percent_encode(v, VALUE_ENCODE)),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks a screen-pop template: empty, or an http(s) URL with a host, no spaces or control
/// characters, and placeholders only from [`PLACEHOLDERS`], outside the host.
pub fn check_screen_pop(field: &'static str, template: &str) -> Result<(), CallFlowError> {
    if template.is_empty() {
        return Ok(());
    }
    let bad = |zh: String, en: String| invalid(field, "screen_pop_invalid", Text::owned(zh, en));
    if template.len() > MAX_TEMPLATE {
        return Err(bad(
            format!("弹屏地址不能超过 {MAX_TEMPLATE} 个字符。"),
            format!("The screen-pop address must be at most {MAX_TEMPLATE} characters."),
        ));
    }
    if template
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(
            "弹屏地址不能包含空格或控制字符。".into(),
            "The screen-pop address must not contain spaces or control characters.".into(),
        ));
    }
    let lower = template.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return Err(bad(
            "弹屏地址必须以 http:// 或 https:// 开头。".into(),
            "The screen-pop address must start with http:// or https://.".into(),
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.starts_with(':') || authority.starts_with('@') {
        return Err(bad(
            "弹屏地址缺少主机名。".into(),
            "The screen-pop address has no host name.".into(),
        ));
    }
    if authority.contains(['{', '}']) {
        return Err(bad(
            "占位符只能用在路径或参数中，不能用在主机名中。".into(),
            "Placeholders may only be used in the path or query, not in the host name.".into(),
        ));
    }
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(bad(
                "弹屏地址中有多余的“}”。".into(),
                "The screen-pop address has an unmatched “}”.".into(),
            ));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(bad(
                "弹屏地址中的“{”没有对应的“}”。".into(),
                "The screen-pop address has a “{” without its “}”.".into(),
            ));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            let known = PLACEHOLDERS
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(invalid(
                field,
                "placeholder_unknown",
                Text::owned(
                    format!("未知的占位符 {{{name}}}，可用的有：{known}。"),
                    format!("Unknown placeholder {{{name}}}; the known ones are: {known}."),
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

// ----- the 10 s rule -----

/// Where the per-digit durations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DigitSource {
    /// Measured from Asterisk's `digits/0…9` sound files.
    Measured,
    /// [`ESTIMATED_DIGIT_MS`] per digit: the sound files were not all found.
    Estimated,
}

/// How long `SayDigits` takes per digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitDurations {
    pub per_digit_ms: [u64; 10],
    pub source: DigitSource,
}

impl DigitDurations {
    /// Measures `dir/0` … `dir/9` (every format Asterisk may pick; the longest counts). If
    /// any digit has no readable file, every digit counts [`ESTIMATED_DIGIT_MS`].
    pub fn measure(dir: &Path) -> DigitDurations {
        let mut per_digit_ms = [0; 10];
        for (digit, slot) in per_digit_ms.iter_mut().enumerate() {
            match sound_duration_ms(dir, &digit.to_string()) {
                Some(ms) => *slot = ms,
                None => return DigitDurations::estimated(),
            }
        }
        DigitDurations {
            per_digit_ms,
            source: DigitSource::Measured,
        }
    }

    pub fn estimated() -> DigitDurations {
        DigitDurations {
            per_digit_ms: [ESTIMATED_DIGIT_MS; 10],
            source: DigitSource::Estimated,
        }
    }

    /// What saying `job_number` takes: its digits as measured; any other character (said
    /// by `SayDigits` as a word, or skipped) is counted at the conservative figure.
    pub fn say_ms(&self, job_number: &str) -> u64 {
        job_number
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => self.per_digit_ms[d as usize],
                None => ESTIMATED_DIGIT_MS,
            })
            .sum()
    }
}

/// The length of the sound `stem` in `dir`, the longest of the formats present: WAV read
/// through its header, the headerless telephony formats from their fixed byte rates.
fn sound_duration_ms(dir: &Path, stem: &str) -> Option<u64> {
    let mut longest: Option<u64> = None;
    let mut note = |ms: u64| longest = Some(longest.map_or(ms, |l| l.max(ms)));
    if let Ok(reader) = hound::WavReader::open(dir.join(format!("{stem}.wav"))) {
        let spec = reader.spec();
        if spec.sample_rate > 0 {
            note(u64::from(reader.duration()) * 1000 / u64::from(spec.sample_rate));
        }
    }
    // Bytes per second of Asterisk's raw formats (gsm: 33-byte frames of 20 ms).
    for (ext, bytes_per_second) in [
        ("gsm", 1650),
        ("ulaw", 8000),
        ("alaw", 8000),
        ("sln", 16000),
        ("g722", 8000),
        ("sln16", 32000),
    ] {
        if let Ok(meta) = std::fs::metadata(dir.join(format!("{stem}.{ext}"))) {
            if meta.is_file() && meta.len() > 0 {
                note(meta.len() * 1000 / bytes_per_second);
            }
        }
    }
    longest
}

/// What the caller hears between the answer and the conversation, in figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlayFigures {
    pub start_ms: u64,
    /// The longest of the agents' job numbers as spoken (0 when not played).
    pub job_number_ms: u64,
    pub end_ms: u64,
    pub total_ms: u64,
    pub limit_ms: u64,
    /// Whose job number takes longest to say (null when none is played or no agents).
    pub longest_job_number: Option<String>,
    /// Measured digit sounds, or the conservative estimate per digit.
    pub digit_source: DigitSource,
    pub per_digit_estimate_ms: u64,
}

fn seconds(ms: u64) -> String {
    format!("{:.1}", ms as f64 / 1000.0)
}

/// The 10 s rule: refused with every figure in the message when over the limit.
pub fn check_play_limit(figures: &PlayFigures) -> Result<(), CallFlowError> {
    if figures.total_ms <= figures.limit_ms {
        return Ok(());
    }
    let (digits_zh, digits_en) = match figures.digit_source {
        DigitSource::Measured => ("按实测的数字语音", "measured digit sounds"),
        DigitSource::Estimated => ("按每位数字 0.8 秒估算", "estimated at 0.8 s per digit"),
    };
    let job_zh = figures
        .longest_job_number
        .as_deref()
        .map(|j| format!("（最长的工号 {j}，{digits_zh}）"))
        .unwrap_or_default();
    let job_en = figures
        .longest_job_number
        .as_deref()
        .map(|j| format!(" (longest job number {j}, {digits_en})"))
        .unwrap_or_default();
    Err(invalid(
        "play",
        "play_too_long",
        Text::owned(
            format!(
                "开始语音 {} 秒 + 工号 {} 秒{job_zh} + 结束语音 {} 秒 = {} 秒，超过了 {} 秒的上限，未保存。",
                seconds(figures.start_ms),
                seconds(figures.job_number_ms),
                seconds(figures.end_ms),
                seconds(figures.total_ms),
                seconds(figures.limit_ms),
            ),
            format!(
                "Start prompt {} s + job number {} s{job_en} + end prompt {} s = {} s, over the {} s limit; nothing was saved.",
                seconds(figures.start_ms),
                seconds(figures.job_number_ms),
                seconds(figures.end_ms),
                seconds(figures.total_ms),
                seconds(figures.limit_ms),
            ),
        ),
    ))
}

// ----- the generated dialplan -----

/// The sound files the dialplan plays, as Asterisk names them (absolute path, no extension).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptSounds {
    pub start: Option<String>,
    pub end: Option<String>,
    pub survey: Option<String>,
}

/// The AGI script the base image ships (`rootfs/usr/lib/coocenter/agi/coocenter-answer.agi`):
/// it hands the caller's channel to `[coocenter-answer]` (config `paths.answer_agi`).
pub const DEFAULT_ANSWER_AGI: &str = "/usr/lib/coocenter/agi/coocenter-answer.agi";

/// The dialplan include for `settings`. Inbound routes send queue calls to
/// `Goto(coocenter-queue,<queue number>,1)`; everything else follows from the settings.
///
/// The answer prompts (manual §9.2) are for the **caller**, after the agent answered and
/// before they talk. What Asterisk 22 offers for that, read in `apps/app_queue.c`
/// (`try_calling`) and seen on a real 22.10.1: `Queue()`'s 7th argument is a context whose
/// `s,1` runs on the *member's* channel (the agent would hear it), its 6th an AGI run on the
/// *caller's* channel, both before the bridge. So the member gosub only tells the caller's
/// channel which agent answered (`SHARED()`), and the AGI (`answer_agi`, a four-line script)
/// runs `[coocenter-answer]` on the caller. For 直呼分配坐席, `Dial()`'s `G()` sends the caller
/// to the prompts and the agent to a silent wait, then `Bridge()` joins them.
pub fn render_extensions_include(
    settings: &CallFlowSettings,
    sounds: &PromptSounds,
    answer_agi: &str,
) -> String {
    let on = |b: bool| if b { "on" } else { "off" };
    let plays = settings.plays_anything();
    let mut t = String::new();
    let mut line = |s: &str| {
        t.push_str(s);
        t.push('\n');
    };
    line(
        "; Generated by coocenterd from the console's call-flow settings (其他设置). Do not edit:",
    );
    line("; it is rewritten on every change. extensions.conf includes it");
    line("; (#include extensions_coocenter.conf) and sends queue calls here with");
    line("; Goto(coocenter-queue,<queue number>,1).");
    line(&format!(
        "; survey={} direct_assign={} start_prompt={} play_job_number={} end_prompt={}",
        on(settings.survey),
        on(settings.direct_assign),
        settings.start_prompt.as_deref().unwrap_or("-"),
        on(settings.play_job_number),
        settings.end_prompt.as_deref().unwrap_or("-"),
    ));
    line("");
    line("[coocenter-queue]");
    line("exten => _X.,1,NoOp(CooCenter queue ${EXTEN} for ${CALLERID(num)})");
    line(" same => n,Set(__COOCENTER_QUEUE=${EXTEN})");
    if plays {
        // Inherited by the agent's channel: the member gosub writes to the caller through it.
        line(" same => n,Set(__COOCENTER_CALLER=${CHANNEL})");
    }
    line(" same => n,Answer()");
    // Queue(name[,options[,URL[,announceoverride[,timeout[,AGI[,gosub]]]]]])
    let survey_option = if settings.survey { "c" } else { "" };
    let queue_args = if plays {
        format!("${{EXTEN}},{survey_option},,,,{answer_agi},coocenter-member")
    } else if settings.survey {
        "${EXTEN},c".to_string()
    } else {
        "${EXTEN}".to_string()
    };
    if settings.direct_assign {
        line(&format!(
            " same => n,Set(COOCENTER_AGENT=${{DB({AGENT_FAMILY}/${{CALLERID(num)}})}})"
        ));
        line(" same => n,GotoIf($[\"${COOCENTER_AGENT}\" = \"\"]?queue)");
        if plays {
            line(" same => n,Set(SHARED(COOCENTER_AGENT_EXT)=${CUT(COOCENTER_AGENT,/,2)})");
            line(" same => n,Dial(${COOCENTER_AGENT},20,G(coocenter-direct^s^1))");
        } else {
            let options = if settings.survey { "g" } else { "" };
            line(&format!(
                " same => n,Dial(${{COOCENTER_AGENT}},20,{options})"
            ));
            if settings.survey {
                line(" same => n,GotoIf($[\"${DIALSTATUS}\" = \"ANSWER\"]?survey)");
            } else {
                line(" same => n,ExecIf($[\"${DIALSTATUS}\" = \"ANSWER\"]?Hangup())");
            }
        }
        line(" same => n,Set(COOCENTER_AGENT=)");
        line(&format!(" same => n(queue),Queue({queue_args})"));
    } else {
        line(&format!(" same => n,Queue({queue_args})"));
    }
    if settings.survey {
        line(" same => n,GotoIf($[\"${QUEUESTATUS}\" = \"CONTINUE\"]?survey)");
        line(" same => n,Hangup()");
        line(" same => n(survey),Goto(coocenter-survey,s,1)");
    } else {
        line(" same => n,Hangup()");
    }
    if plays {
        line("");
        line(
            "; Queue()'s gosub: runs on the answering agent's channel before the bridge, and only",
        );
        line("; tells the caller's channel which extension answered.");
        line("[coocenter-member]");
        line("exten => s,1,Set(SHARED(COOCENTER_AGENT_EXT,${COOCENTER_CALLER})=${CUT(CUT(CUT(CHANNEL,/,2),-,1),@,1)})");
        line(" same => n,Return()");
        if settings.direct_assign {
            line("");
            line("; Dial()'s G() after the customer's agent answered: the caller comes to priority 1");
            line("; and hears the prompts (10 s at most), the agent to priority 2 and waits in silence");
            line("; until Bridge() takes it (seen on 22.10.1: DIALEDPEERNAME is the agent's channel).");
            line("[coocenter-direct]");
            line("exten => s,1,Goto(caller)");
            line("exten => s,2,Wait(15)");
            line(" same => n,Hangup()");
            line("exten => s,10(caller),Gosub(coocenter-answer,s,1)");
            line(" same => n,Bridge(${DIALEDPEERNAME})");
            if settings.survey {
                line(" same => n,Goto(coocenter-survey,s,1)");
            } else {
                line(" same => n,Hangup()");
            }
        }
    }
    line("");
    line("; The answer prompts, on the CALLER's channel after the agent answered and before they");
    line("; talk (Queue()'s AGI argument runs it there; 10 s at most together, checked by");
    line("; coocenterd when saved).");
    line("[coocenter-answer]");
    let mut steps: Vec<String> = vec![];
    if let Some(start) = &sounds.start {
        steps.push(format!("Playback({start})"));
    }
    if settings.play_job_number {
        steps.push(format!(
            "Set(COOCENTER_JOB=${{DB({JOB_FAMILY}/${{SHARED(COOCENTER_AGENT_EXT)}})}})"
        ));
        steps.push("ExecIf($[\"${COOCENTER_JOB}\" != \"\"]?SayDigits(${COOCENTER_JOB}))".into());
    }
    if let Some(end) = &sounds.end {
        steps.push(format!("Playback({end})"));
    }
    steps.push("Return()".into());
    for (i, step) in steps.iter().enumerate() {
        if i == 0 {
            line(&format!("exten => s,1,{step}"));
        } else {
            line(&format!(" same => n,{step}"));
        }
    }
    if settings.survey {
        line("");
        line("; After the agent hangs up: the caller presses 1-5 and coocenterd stores the score.");
        line("[coocenter-survey]");
        line(&format!(
            "exten => s,1,Read(COOCENTER_SCORE,{},1,,2,5)",
            sounds.survey.as_deref().unwrap_or("beep")
        ));
        line(" same => n,GotoIf($[${REGEX(\"^[1-5]$\" ${COOCENTER_SCORE})}]?scored)");
        line(" same => n,Hangup()");
        line(&format!(
            " same => n(scored),UserEvent({SURVEY_EVENT},Queue: ${{COOCENTER_QUEUE}},Agent: ${{COOCENTER_AGENT}},Score: ${{COOCENTER_SCORE}})"
        ));
        line(" same => n,Hangup()");
    }
    t
}

// ----- the service -----

/// What a save answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub settings: CallFlowSettings,
    pub figures: PlayFigures,
    /// Saved but not yet applied (Asterisk away); applied at the next connect.
    pub pending: bool,
}

#[derive(Clone)]
pub struct CallFlow {
    store: Store,
    pbx: Pbx,
    include_path: PathBuf,
    prompts_dir: PathBuf,
    digits_dir: PathBuf,
    /// One save at a time: the include file and the stored document change together.
    saving: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The AGI script that plays the answer prompts to the caller.
    answer_agi: String,
    /// One writer of our AstDB families at a time, reading the agents inside it: a save's
    /// `DBDelTree` + reload racing the watcher's push of a new agent's job number deleted
    /// that number for good (issue 16).
    astdb: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl CallFlow {
    pub fn new(
        store: Store,
        pbx: Pbx,
        asterisk_config_dir: &Path,
        prompts_dir: PathBuf,
        digits_dir: PathBuf,
        answer_agi: PathBuf,
    ) -> CallFlow {
        CallFlow {
            answer_agi: answer_agi.to_string_lossy().into_owned(),
            store,
            pbx,
            include_path: asterisk_config_dir.join(EXTENSIONS_INCLUDE),
            prompts_dir,
            digits_dir,
            saving: Default::default(),
            astdb: Default::default(),
        }
    }

    pub async fn settings(&self) -> Result<CallFlowSettings, CallFlowError> {
        let stored = self
            .store
            .call(|conn| settings::get(conn, SETTINGS_KEY))
            .await?;
        Ok(CallFlowSettings::from_stored(stored.as_deref()))
    }

    pub async fn pending(&self) -> Result<bool, CallFlowError> {
        Ok(self
            .store
            .call(|conn| settings::get(conn, PENDING_KEY))
            .await?
            .is_some_and(|v| v == "true"))
    }

    /// The 10 s figures of `settings` with today's prompts, agents and digit sounds.
    pub async fn figures(&self, settings: &CallFlowSettings) -> Result<PlayFigures, CallFlowError> {
        let (start, end) = (settings.start_prompt.clone(), settings.end_prompt.clone());
        let (start_ms, end_ms, agents) = self
            .store
            .call(move |conn| {
                let duration = |name: &Option<String>| -> rusqlite::Result<u64> {
                    Ok(match name {
                        Some(n) => {
                            prompts::get(conn, n)?.map_or(0, |p| p.duration_ms.max(0) as u64)
                        }
                        None => 0,
                    })
                };
                Ok((duration(&start)?, duration(&end)?, agents::list(conn)?))
            })
            .await?;
        let dir = self.digits_dir.clone();
        let digits = tokio::task::spawn_blocking(move || DigitDurations::measure(&dir))
            .await
            .map_err(|e| CallFlowError::Io(e.to_string()))?;
        let (job_number_ms, longest_job_number) = if settings.play_job_number {
            agents
                .iter()
                .map(|a| (digits.say_ms(&a.job_number), Some(a.job_number.clone())))
                .max_by_key(|(ms, _)| *ms)
                .unwrap_or((0, None))
        } else {
            (0, None)
        };
        Ok(PlayFigures {
            start_ms,
            job_number_ms,
            end_ms,
            total_ms: start_ms + job_number_ms + end_ms,
            limit_ms: PLAY_LIMIT_MS,
            longest_job_number,
            digit_source: digits.source,
            per_digit_estimate_ms: ESTIMATED_DIGIT_MS,
        })
    }

    /// Checks `new` as a whole; on success writes the include, saves, and applies. Nothing
    /// is written when any check fails.
    pub async fn save(&self, mut new: CallFlowSettings) -> Result<Saved, CallFlowError> {
        for (field, value) in [
            ("start_prompt", &mut new.start_prompt),
            ("end_prompt", &mut new.end_prompt),
            ("survey_prompt", &mut new.survey_prompt),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *value = None;
            }
            if let Some(name) = value.clone() {
                let found = self
                    .store
                    .call(move |conn| prompts::get(conn, &name))
                    .await?;
                if found.is_none() {
                    let name = value.as_deref().unwrap_or_default();
                    return Err(invalid(
                        field,
                        "unknown_prompt",
                        Text::owned(
                            format!("语音文件“{name}”不存在，请从语音管理中的文件里选择。"),
                            format!(
                                "There is no prompt “{name}”; choose one of the files in 语音管理 (voice prompts)."
                            ),
                        ),
                    ));
                }
            }
        }
        new.screen_pop_inbound = new.screen_pop_inbound.trim().to_string();
        new.screen_pop_outbound = new.screen_pop_outbound.trim().to_string();
        check_screen_pop("screen_pop_inbound", &new.screen_pop_inbound)?;
        check_screen_pop("screen_pop_outbound", &new.screen_pop_outbound)?;
        let figures = self.figures(&new).await?;
        check_play_limit(&figures)?;

        let _one_at_a_time = self.saving.lock().await;
        let old = self.settings().await?;
        self.write_include(&new).await?;
        let json = serde_json::to_string(&new).map_err(|e| CallFlowError::Io(e.to_string()))?;
        let stored = self
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                settings::put(&tx, SETTINGS_KEY, &json)?;
                settings::put(&tx, PENDING_KEY, "true")?;
                tx.commit()
            })
            .await;
        if let Err(err) = stored {
            // The database kept the old document: so must the file.
            if let Err(restore) = self.write_include(&old).await {
                log::error!("cannot restore the dialplan include: {restore}");
            }
            return Err(err.into());
        }
        let pending = !self.apply().await?;
        Ok(Saved {
            settings: new,
            figures,
            pending,
        })
    }

    /// Writes `extensions_coocenter.conf` for `settings` (temp file, fsync, rename).
    pub async fn write_include(&self, settings: &CallFlowSettings) -> Result<(), CallFlowError> {
        let names = [
            settings.start_prompt.clone(),
            settings.end_prompt.clone(),
            settings.survey_prompt.clone(),
        ];
        let rows = self
            .store
            .call(move |conn| {
                let mut rows = vec![];
                for name in &names {
                    rows.push(match name {
                        Some(n) => prompts::get(conn, n)?,
                        None => None,
                    });
                }
                Ok(rows)
            })
            .await?;
        let sound = |row: &Option<prompts::PromptRow>| {
            row.as_ref().map(|p| {
                let stem = Path::new(&p.file_name)
                    .file_stem()
                    .map_or_else(|| p.name.clone(), |s| s.to_string_lossy().into_owned());
                self.prompts_dir.join(stem).to_string_lossy().into_owned()
            })
        };
        let sounds = PromptSounds {
            start: sound(&rows[0]),
            end: sound(&rows[1]),
            survey: sound(&rows[2]),
        };
        let text = render_extensions_include(settings, &sounds, &self.answer_agi);
        let path = self.include_path.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            crate::fs_atomic::write(&path, text.as_bytes(), 0o644).map_err(|e| format!("{e:#}"))
        })
        .await
        .map_err(|e| CallFlowError::Io(e.to_string()))?
        .map_err(CallFlowError::Io)
    }

    /// Rewrites the include from the stored settings (at start: after a factory reset or an
    /// upgrade the file follows the database).
    pub async fn write_stored_include(&self) -> Result<(), CallFlowError> {
        let settings = self.settings().await?;
        self.write_include(&settings).await
    }

    /// Reloads the dialplan and loads the AstDB entries when Asterisk is there; clears the
    /// pending mark. Returns whether it was applied.
    pub async fn apply(&self) -> Result<bool, CallFlowError> {
        if !self.pbx.is_connected() {
            return Ok(false);
        }
        let _sole_writer = self.astdb.lock().await;
        match apply_to_asterisk(self.pbx.client(), &self.store).await {
            Ok(_) => Ok(true),
            Err(CommandError::Unavailable(_)) => Ok(false),
            Err(CommandError::Refused(message)) => Err(CallFlowError::Refused(message)),
        }
    }

    /// The screen pop for the call `extension` is on now (the inbound template for a queue
    /// call, the outbound one for a call the agent dialled), if that template is set.
    /// With 隐藏电话号码 on, an ordinary agent's pop carries the masked number like every
    /// other number the agent sees (the CRM can find the call by `{uniqueid}`); a team
    /// leader's carries it whole.
    pub async fn screen_pop(
        &self,
        extension: &str,
        job_number: &str,
        leader: bool,
    ) -> Result<Option<ScreenPop>, CallFlowError> {
        let Some(call) = self.pbx.connected_call(extension) else {
            return Ok(None);
        };
        let settings = self.settings().await?;
        let template = if call.outbound {
            &settings.screen_pop_outbound
        } else {
            &settings.screen_pop_inbound
        };
        if template.is_empty() {
            return Ok(None);
        }
        let viewer = if leader {
            Viewer::Leader
        } else {
            Viewer::Agent {
                hide_numbers: settings.hide_numbers,
            }
        };
        let caller = viewer.show(&call.caller);
        Ok(Some(ScreenPop {
            url: expand_screen_pop(
                template,
                &PopValues {
                    caller: &caller,
                    queue: &call.queue,
                    job_number,
                    uniqueid: &call.uniqueid,
                },
            ),
            uniqueid: call.uniqueid,
            direction: if call.outbound { "outbound" } else { "inbound" }.into(),
        }))
    }

    /// Starts the watcher: after every (re)connect, applies a pending change and loads the
    /// AstDB entries; between connects, keeps the job numbers current as agents change.
    pub fn start(&self, shutdown: CancellationToken) {
        let this = self.clone();
        tokio::spawn(async move { this.watch(shutdown).await });
    }

    async fn watch(self, shutdown: CancellationToken) {
        let mut state = self.pbx.client().state();
        // A session that was up before the watcher started counts as a new connect.
        state.mark_changed();
        let mut synced_epoch = 0;
        let mut known_jobs: Option<BTreeMap<String, String>> = None;
        let mut tick = tokio::time::interval(AGENT_SYNC_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = state.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // AstDB and `dialplan reload` need a booted Asterisk (ConnectionState docs).
                    let booted = state.borrow_and_update().booted_epoch();
                    let Some(epoch) = booted else {
                        if !state.borrow().is_connected() {
                            known_jobs = None;
                        }
                        continue;
                    };
                    if epoch != synced_epoch {
                        synced_epoch = epoch;
                        let client = self.pbx.client().clone();
                        let _sole_writer = self.astdb.lock().await;
                        // What Asterisk holds from now on is exactly what this pushed: an
                        // agent created while it ran differs from it and is pushed by the
                        // next tick. (Taking the tick's own first reading as "known" lost
                        // such an agent's job number: issue 16.)
                        known_jobs = match apply_to_asterisk(&client, &self.store).await {
                            Ok(pushed) => {
                                log::info!("call-flow settings applied to Asterisk");
                                Some(pushed)
                            }
                            Err(err) => {
                                log::warn!("cannot apply the call-flow settings: {err}");
                                // Push every job number again at the next tick.
                                Some(BTreeMap::new())
                            }
                        };
                    }
                }
                _ = tick.tick() => {
                    let Some(known) = &known_jobs else {
                        continue;
                    };
                    let _sole_writer = self.astdb.lock().await;
                    let Ok(jobs) = self.store.call(|conn| job_numbers(conn)).await else {
                        continue;
                    };
                    if *known == jobs
                        || sync_job_numbers(self.pbx.client(), known, &jobs).await.is_err()
                    {
                        continue;
                    }
                    known_jobs = Some(jobs);
                }
            }
        }
    }
}

/// A screen pop the agent's page opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScreenPop {
    pub url: String,
    /// The call it is for: the page opens each call's pop once.
    pub uniqueid: String,
    /// `inbound` (a queue call to the agent) or `outbound` (a call the agent dialled).
    pub direction: String,
}

/// Extension → job number of every agent.
fn job_numbers(conn: &rusqlite::Connection) -> rusqlite::Result<BTreeMap<String, String>> {
    Ok(agents::list(conn)?
        .into_iter()
        .map(|a| (a.extension, a.job_number))
        .collect())
}

async fn sync_job_numbers(
    client: &ami::Client,
    before: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> Result<(), CommandError> {
    for extension in before.keys().filter(|e| !now.contains_key(*e)) {
        commands::db_del(client, JOB_FAMILY, extension).await?;
    }
    for (extension, job) in now {
        if before.get(extension) != Some(job) {
            commands::db_put(client, JOB_FAMILY, extension, job).await?;
        }
    }
    Ok(())
}

/// Reloads the dialplan, loads every AstDB entry our dialplan reads, and clears the pending
/// mark. Answers the job numbers it put into AstDB.
async fn apply_to_asterisk(
    client: &ami::Client,
    store: &Store,
) -> Result<BTreeMap<String, String>, CommandError> {
    let pending = store
        .call(|conn| settings::get(conn, PENDING_KEY))
        .await
        .ok()
        .flatten()
        .is_some_and(|v| v == "true");
    let loaded = store
        .call(|conn| {
            let mut interfaces = BTreeMap::new();
            for e in agents::extensions(conn)? {
                interfaces.insert(e.extension, e.interface);
            }
            Ok((
                job_numbers(conn)?,
                customers::assignments(conn)?,
                interfaces,
            ))
        })
        .await;
    let (jobs, assignments, interfaces) = match loaded {
        Ok(values) => values,
        Err(err) => {
            log::error!("cannot read the call-flow data: {err}");
            return Ok(BTreeMap::new());
        }
    };
    commands::db_del_tree(client, JOB_FAMILY).await?;
    sync_job_numbers(client, &BTreeMap::new(), &jobs).await?;
    commands::db_del_tree(client, AGENT_FAMILY).await?;
    for (number, extension) in &assignments {
        let interface = interfaces
            .get(extension)
            .cloned()
            .unwrap_or_else(|| format!("PJSIP/{extension}"));
        commands::db_put(client, AGENT_FAMILY, number, &interface).await?;
    }
    if pending {
        commands::reload_module(client, "pbx_config").await?;
        if let Err(err) = store
            .call(|conn| settings::put(conn, PENDING_KEY, "false"))
            .await
        {
            log::error!("cannot clear the call-flow pending mark: {err}");
        }
    }
    Ok(jobs)
}

// ----- the PBX worker's part -----

/// `UserEvent: CooCenterSurvey` from our survey dialplan: stores the score for the call and
/// the agent who took it (from the event's `Agent`, else the call's recorded answer).
pub async fn on_survey_event(store: &Store, event: &Message, now_ms: i64) {
    let uniqueid = event.get("Uniqueid").unwrap_or("").to_string();
    let queue = event.get("Queue").unwrap_or("").trim().to_string();
    let score = event
        .get("Score")
        .and_then(|s| s.trim().parse::<u8>().ok())
        .filter(|s| (1..=5).contains(s));
    let Some(score) = score else {
        log::warn!("survey event without a score 1-5 for {uniqueid}: ignored");
        return;
    };
    if uniqueid.is_empty() {
        log::warn!("survey event without a Uniqueid: ignored");
        return;
    }
    let agent = event.get("Agent").unwrap_or("").trim().to_string();
    let result = store
        .call(move |conn| {
            let (interface, member_name) = if agent.is_empty() {
                survey::answering_interface(conn, &uniqueid, &queue)?.unwrap_or_default()
            } else {
                (agent.clone(), String::new())
            };
            let extension = super::extension_of(&interface);
            survey::insert(
                conn,
                &survey::NewResult {
                    uniqueid: &uniqueid,
                    queue: &queue,
                    agent_interface: &interface,
                    agent_extension: &extension,
                    member_name: &member_name,
                    score,
                    at: now_ms,
                },
            )
        })
        .await;
    if let Err(err) = result {
        log::error!("cannot store a survey result: {err}");
    }
}

/// `AgentConnect`: with 直呼分配坐席 on, the answering agent becomes the caller's agent when
/// the caller has none, and Asterisk learns it (`DBPut`) so the next call rings them first.
pub async fn on_agent_connect(client: &ami::Client, store: &Store, event: &Message) {
    let caller = event.get("CallerIDNum").unwrap_or("").trim().to_string();
    let interface = event.get("Interface").unwrap_or("").to_string();
    if caller.is_empty() || caller == "<unknown>" || interface.is_empty() {
        return;
    }
    let extension = super::extension_of(&interface);
    let number = caller.clone();
    let assigned = store
        .call(move |conn| {
            let flow = CallFlowSettings::from_stored(settings::get(conn, SETTINGS_KEY)?.as_deref());
            if !flow.direct_assign {
                return Ok(false);
            }
            let Some(agent_id) = agents::holder_of_extension(conn, &extension, None)?.map(|a| a.id)
            else {
                return Ok(false);
            };
            customers::assign_if_unassigned(conn, &number, agent_id)
        })
        .await;
    match assigned {
        Ok(true) => {
            log::info!("customer {caller} assigned to {interface} (直呼分配坐席)");
            if let Err(err) = commands::db_put(client, AGENT_FAMILY, &caller, &interface).await {
                log::warn!("cannot tell Asterisk the agent of {caller}: {err}");
            }
        }
        Ok(false) => {}
        Err(err) => log::error!("cannot assign customer {caller}: {err}"),
    }
}

/// Survey report over `[from, to)` (Unix ms).
pub async fn survey_report(
    store: &Store,
    from: i64,
    to: i64,
) -> Result<Vec<survey::AgentScores>, CallFlowError> {
    Ok(store
        .call(move |conn| survey::report(conn, from, to))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_encodes_every_value() {
        let url = expand_screen_pop(
            "https://crm.example/pop?tel={caller}&q={queue}&agent={job_number}&id={uniqueid}#x",
            &PopValues {
                caller: "+86 138&x=1",
                queue: "222",
                job_number: "8001",
                uniqueid: "1795665603.1",
            },
        );
        assert_eq!(
            url,
            "https://crm.example/pop?tel=%2B86%20138%26x%3D1&q=222&agent=8001&id=1795665603.1#x"
        );
        // Chinese text is UTF-8 percent-encoded; a path placeholder cannot add segments.
        assert_eq!(
            expand_screen_pop(
                "http://h/c/{caller}",
                &PopValues {
                    caller: "张/../x",
                    ..PopValues::default()
                }
            ),
            "http://h/c/%E5%BC%A0%2F..%2Fx"
        );
    }

    #[test]
    fn templates_are_checked() {
        for good in [
            "",
            "http://crm.local/pop?n={caller}",
            "https://10.0.0.5:8443/a/{queue}/{job_number}?u={uniqueid}",
        ] {
            assert!(check_screen_pop("f", good).is_ok(), "{good}");
        }
        let code = |t: &str| match check_screen_pop("f", t) {
            Err(CallFlowError::Invalid { code, .. }) => code,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(code("ftp://x/{caller}"), "screen_pop_invalid");
        assert_eq!(code("crm.local/pop"), "screen_pop_invalid");
        assert_eq!(code("http:///pop"), "screen_pop_invalid");
        assert_eq!(code("http://{caller}.evil/"), "screen_pop_invalid");
        assert_eq!(code("http://h/p?x={agent}"), "placeholder_unknown");
        assert_eq!(code("http://h/p?x={caller"), "screen_pop_invalid");
        assert_eq!(code("http://h/p?x=caller}"), "screen_pop_invalid");
        assert_eq!(code("http://h/p q"), "screen_pop_invalid");
    }

    #[test]
    fn stored_documents_read_leniently() {
        assert_eq!(
            CallFlowSettings::from_stored(None),
            CallFlowSettings::default()
        );
        let s = CallFlowSettings::from_stored(Some(
            r#"{"survey":true,"start_prompt":"","future_field":1}"#,
        ));
        assert!(s.survey);
        assert_eq!(s.start_prompt, None);
        assert_eq!(
            CallFlowSettings::from_stored(Some("not json")),
            CallFlowSettings::default()
        );
        // FIELDS names every field the document has.
        let written = serde_json::to_value(CallFlowSettings::default()).unwrap();
        let mut keys: Vec<&str> = written
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = CallFlowSettings::FIELDS.to_vec();
        keys.sort_unstable();
        fields.sort_unstable();
        assert_eq!(keys, fields);
    }

    #[test]
    fn digits_are_measured_from_wav_and_raw_files_or_estimated() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            DigitDurations::measure(dir.path()).source,
            DigitSource::Estimated
        );
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        for d in 0..10u32 {
            let mut w =
                hound::WavWriter::create(dir.path().join(format!("{d}.wav")), spec).unwrap();
            // digit d lasts (400 + 10·d) ms
            for _ in 0..(8 * (400 + 10 * d)) {
                w.write_sample(0i16).unwrap();
            }
            w.finalize().unwrap();
        }
        // A longer gsm version of 7 (1 s = 1650 bytes) wins: Asterisk may pick either.
        std::fs::write(dir.path().join("7.gsm"), vec![0u8; 1650]).unwrap();
        let digits = DigitDurations::measure(dir.path());
        assert_eq!(digits.source, DigitSource::Measured);
        assert_eq!(digits.per_digit_ms[3], 430);
        assert_eq!(digits.per_digit_ms[7], 1000);
        assert_eq!(digits.say_ms("8001"), 480 + 400 + 400 + 410);
        assert_eq!(digits.say_ms("A1"), ESTIMATED_DIGIT_MS + 410);
    }

    const AGI: &str = DEFAULT_ANSWER_AGI;

    #[test]
    fn all_off_is_a_plain_queue_with_an_empty_answer_gosub() {
        let text =
            render_extensions_include(&CallFlowSettings::default(), &PromptSounds::default(), AGI);
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with(';')).collect();
        assert_eq!(
            body,
            [
                "",
                "[coocenter-queue]",
                "exten => _X.,1,NoOp(CooCenter queue ${EXTEN} for ${CALLERID(num)})",
                " same => n,Set(__COOCENTER_QUEUE=${EXTEN})",
                " same => n,Answer()",
                " same => n,Queue(${EXTEN})",
                " same => n,Hangup()",
                "",
                "[coocenter-answer]",
                "exten => s,1,Return()",
            ]
        );
        // Only the job number, with direct assignment and no survey.
        let settings = CallFlowSettings {
            direct_assign: true,
            play_job_number: true,
            ..CallFlowSettings::default()
        };
        let text = render_extensions_include(&settings, &PromptSounds::default(), AGI);
        // The caller's channel is handed to the prompts: Queue()'s AGI runs there, its gosub
        // (a bare context) on the agent's channel only notes who answered.
        assert!(text.contains(" same => n,Set(__COOCENTER_CALLER=${CHANNEL})\n"));
        assert!(text.contains(
            " same => n(queue),Queue(${EXTEN},,,,,/usr/lib/coocenter/agi/coocenter-answer.agi,coocenter-member)\n"
        ));
        assert!(
            !text.contains("coocenter-answer^s^1"),
            "Dial's U() syntax is no Queue() gosub"
        );
        assert!(text.contains(
            "[coocenter-member]\nexten => s,1,Set(SHARED(COOCENTER_AGENT_EXT,${COOCENTER_CALLER})="
        ));
        assert!(text.contains(" same => n,Dial(${COOCENTER_AGENT},20,G(coocenter-direct^s^1))\n"));
        assert!(text.contains("exten => s,10(caller),Gosub(coocenter-answer,s,1)\n same => n,Bridge(${DIALEDPEERNAME})\n same => n,Hangup()\n"));
        assert!(text.contains(
            "[coocenter-answer]\nexten => s,1,Set(COOCENTER_JOB=${DB(coocenter_job/${SHARED(COOCENTER_AGENT_EXT)})})\n"
        ));
        assert!(!text.contains("Playback("));
        assert!(!text.contains("[coocenter-survey]"));
    }

    #[test]
    fn the_limit_message_has_every_figure() {
        let figures = PlayFigures {
            start_ms: 4200,
            job_number_ms: 3200,
            end_ms: 3000,
            total_ms: 10_400,
            limit_ms: PLAY_LIMIT_MS,
            longest_job_number: Some("8001".into()),
            digit_source: DigitSource::Estimated,
            per_digit_estimate_ms: ESTIMATED_DIGIT_MS,
        };
        let Err(CallFlowError::Invalid { field, code, text }) = check_play_limit(&figures) else {
            panic!("over the limit must be refused");
        };
        assert_eq!((field, code), ("play", "play_too_long"));
        assert_eq!(
            text.zh,
            "开始语音 4.2 秒 + 工号 3.2 秒（最长的工号 8001，按每位数字 0.8 秒估算） + 结束语音 3.0 秒 = 10.4 秒，超过了 10.0 秒的上限，未保存。"
        );
        assert!(
            text.en.contains("= 10.4 s, over the 10.0 s limit"),
            "{}",
            text.en
        );
        let fits = PlayFigures {
            total_ms: 10_000,
            ..figures
        };
        assert!(check_play_limit(&fits).is_ok());
    }
}
