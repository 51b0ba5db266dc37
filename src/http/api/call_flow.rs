//! `/api/v1/settings/call-flow` (其他设置, manual §9.2) and `/api/v1/reports/survey`
//! (满意度调查 results): read and save the call-flow settings as one document (checked as a
//! whole, saved atomically, audited with before and after, applied to Asterisk or marked
//! pending), and the per-agent survey report over a date range.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use chrono::{Local, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::query::ApiQuery;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::i18n::Text;
use crate::pbx::callflow::{self, CallFlowError, CallFlowSettings, PlayFigures};

/// A prompt that can be chosen, with its length.
#[derive(Serialize, ToSchema)]
pub struct PromptChoice {
    pub name: String,
    pub duration_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CallFlowOut {
    pub settings: CallFlowSettings,
    /// Saved but not yet applied to Asterisk (it was away); applied when it connects.
    pub pending: bool,
    /// The 10 s rule's figures for these settings.
    pub figures: PlayFigures,
    /// What saying the longest job number takes, whether or not 播放工号 is on (for the
    /// page's running total).
    pub job_number_say_ms: u64,
    /// The prompts to choose from (语音管理).
    pub prompts: Vec<PromptChoice>,
    /// The placeholders the screen-pop templates may use.
    pub placeholders: Vec<String>,
}

fn call_flow_error(err: CallFlowError) -> ApiError {
    match err {
        CallFlowError::Invalid { field, code, text } => {
            ApiError::bad_request(code, text).on_field(field)
        }
        CallFlowError::Refused(message) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "pbx_refused",
            Text::owned(
                format!("设置已保存，但 PBX 拒绝重新加载拨号方案：{message}"),
                format!("The settings were saved, but the PBX refused to reload the dialplan: {message}"),
            ),
        ),
        other => ApiError::internal(other),
    }
}

async fn current(state: &AppState) -> Result<CallFlowOut, ApiError> {
    let flow = &state.call_flow;
    let settings = flow.settings().await.map_err(call_flow_error)?;
    out(state, settings).await
}

async fn out(state: &AppState, settings: CallFlowSettings) -> Result<CallFlowOut, ApiError> {
    let flow = &state.call_flow;
    let figures = flow.figures(&settings).await.map_err(call_flow_error)?;
    let job_number_say_ms = if settings.play_job_number {
        figures.job_number_ms
    } else {
        let played = CallFlowSettings {
            play_job_number: true,
            ..settings.clone()
        };
        flow.figures(&played)
            .await
            .map_err(call_flow_error)?
            .job_number_ms
    };
    let pending = flow.pending().await.map_err(call_flow_error)?;
    let prompts = state
        .directory
        .store()
        .call(|conn| crate::store::prompts::list(conn))
        .await?
        .into_iter()
        .map(|p| PromptChoice {
            name: p.name,
            duration_ms: p.duration_ms,
        })
        .collect();
    Ok(CallFlowOut {
        settings,
        pending,
        figures,
        job_number_say_ms,
        prompts,
        placeholders: callflow::PLACEHOLDERS
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect(),
    })
}

/// The call-flow settings.
#[utoipa::path(get, path = "/api/v1/settings/call-flow", tag = "call flow",
    responses((status = 200, body = CallFlowOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<CallFlowOut>, ApiError> {
    Ok(ApiJson(current(&state).await?))
}

/// Save the call-flow settings (the whole document). Refusals (unknown prompt, bad
/// screen-pop template, over 10 s of answer prompts) change nothing.
#[utoipa::path(put, path = "/api/v1/settings/call-flow", tag = "call flow", request_body = CallFlowSettings,
    responses((status = 200, body = CallFlowOut), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn put(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    ApiJson(new): ApiJson<CallFlowSettings>,
) -> Result<ApiJson<CallFlowOut>, ApiError> {
    let before = state.call_flow.settings().await.map_err(call_flow_error)?;
    // A refusal by Asterisk comes after the save: it is audited like any saved change.
    let refused = match state.call_flow.save(new).await {
        Ok(_) => None,
        Err(CallFlowError::Refused(message)) => Some(message),
        Err(other) => return Err(call_flow_error(other)),
    };
    let after = state.call_flow.settings().await.map_err(call_flow_error)?;
    let json = |s: &CallFlowSettings| serde_json::to_string(s).ok();
    audit(
        &state,
        &session.username,
        client,
        "call_flow.updated",
        callflow::SETTINGS_KEY,
        json(&before),
        json(&after),
    )
    .await?;
    if let Some(message) = refused {
        return Err(call_flow_error(CallFlowError::Refused(message)));
    }
    Ok(ApiJson(out(&state, after).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// First day (YYYY-MM-DD, the box's time zone); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day, included; default today.
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SurveyLine {
    pub agent_name: String,
    pub job_number: String,
    pub count: u64,
    /// Average score, two decimals.
    pub average: f64,
    /// Calls that scored 1, 2, 3, 4 and 5.
    pub distribution: [u64; 5],
}

#[derive(Serialize, ToSchema)]
pub struct SurveyReport {
    pub from: String,
    pub to: String,
    pub agents: Vec<SurveyLine>,
    /// All agents together.
    pub total: SurveyLine,
}

fn parse_day(field: &'static str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            "invalid_date",
            Text::fixed(
                "日期格式应为 YYYY-MM-DD。",
                "Dates must be written YYYY-MM-DD.",
            ),
        )
        .on_field(field)
    })
}

fn local_midnight_ms(day: NaiveDate) -> i64 {
    Local
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .map_or(0, |t| t.timestamp_millis())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The survey report: per agent, how many calls were scored, the average, and how many got
/// each score, between two days (both included).
#[utoipa::path(get, path = "/api/v1/reports/survey", tag = "call flow", params(ReportQuery),
    responses((status = 200, body = SurveyReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn survey_report(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<ApiJson<SurveyReport>, ApiError> {
    let to = match query.to.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => parse_day("to", v)?,
        None => Local::now().date_naive(),
    };
    let from = match query.from.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => parse_day("from", v)?,
        None => to - chrono::Days::new(29),
    };
    if from > to {
        return Err(ApiError::bad_request(
            "invalid_range",
            Text::fixed(
                "开始日期不能晚于结束日期。",
                "The first day cannot be after the last day.",
            ),
        )
        .on_field("from"));
    }
    let end = to.succ_opt().unwrap_or(to);
    let lines = callflow::survey_report(
        state.directory.store(),
        local_midnight_ms(from),
        local_midnight_ms(end),
    )
    .await
    .map_err(call_flow_error)?;
    let mut total = SurveyLine {
        agent_name: String::new(),
        job_number: String::new(),
        count: 0,
        average: 0.0,
        distribution: [0; 5],
    };
    let mut sum = 0.0;
    for line in &lines {
        total.count += line.count;
        sum += line.average * line.count as f64;
        for (t, d) in total.distribution.iter_mut().zip(line.distribution) {
            *t += d;
        }
    }
    if total.count > 0 {
        total.average = round2(sum / total.count as f64);
    }
    Ok(ApiJson(SurveyReport {
        from: from.to_string(),
        to: to.to_string(),
        agents: lines
            .into_iter()
            .map(|l| SurveyLine {
                agent_name: l.agent_name,
                job_number: l.job_number,
                count: l.count,
                average: round2(l.average),
                distribution: l.distribution,
            })
            .collect(),
        total,
    }))
}
