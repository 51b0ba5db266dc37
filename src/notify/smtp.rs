//! Sending a mail through the configured SMTP server with lettre (tokio, rustls with ring;
//! server certificates checked against the system's trust store). The answer of the server
//! is reported back, so the 测试 button can show what the server said; every failure is
//! classified (cannot connect, TLS, timed out, refused by the server with its code and
//! words) for a message the user can act on.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use utoipa::ToSchema;

use super::settings::{MailSettings, Security};
use crate::i18n::Text;

/// How long one connection, command or answer may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// What the server answered to the accepted mail.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct SmtpAnswer {
    /// The reply code, e.g. `250`.
    pub code: String,
    /// The reply's text lines.
    pub message: Vec<String>,
}

/// Why a mail did not go out.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The settings cannot make a mail (bad address; checked earlier, so rare).
    #[error("cannot build the mail: {0}")]
    Build(String),
    /// No connection to the server (refused, unreachable, unknown host).
    #[error("cannot connect to {server}: {detail}")]
    Connect { server: String, detail: String },
    #[error("TLS with {server} failed: {detail}")]
    Tls { server: String, detail: String },
    #[error("{server} did not answer in time")]
    Timeout { server: String },
    /// The server refused (bad login, unknown recipient, …) with a reply code.
    #[error("{server} refused: {code} {detail}")]
    Refused {
        server: String,
        code: String,
        detail: String,
    },
    #[error("mail to {server} failed: {detail}")]
    Other { server: String, detail: String },
}

impl SendError {
    /// The message for the user.
    pub fn text(&self) -> Text {
        match self {
            SendError::Build(detail) => Text::owned(
                format!("无法生成邮件：{detail}"),
                format!("The mail could not be built: {detail}"),
            ),
            SendError::Connect { server, detail } => Text::owned(
                format!("无法连接邮件服务器 {server}，请检查地址和端口：{detail}"),
                format!("Cannot connect to the mail server {server}; check the address and port: {detail}"),
            ),
            SendError::Tls { server, detail } => Text::owned(
                format!("与邮件服务器 {server} 建立加密连接失败，请检查加密方式和端口：{detail}"),
                format!("The encrypted connection to {server} failed; check the security setting and port: {detail}"),
            ),
            SendError::Timeout { server } => Text::owned(
                format!("邮件服务器 {server} 未在规定时间内应答，请检查地址、端口和加密方式。"),
                format!("The mail server {server} did not answer in time; check the address, port and security setting."),
            ),
            SendError::Refused { server, code, detail } => Text::owned(
                format!("邮件服务器 {server} 拒绝了邮件（{code}）：{detail}"),
                format!("The mail server {server} refused the mail ({code}): {detail}"),
            ),
            SendError::Other { server, detail } => Text::owned(
                format!("通过 {server} 发送邮件失败：{detail}"),
                format!("Sending through {server} failed: {detail}"),
            ),
        }
    }
}

/// The error and its causes in one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn classify(server: String, err: lettre::transport::smtp::Error) -> SendError {
    if let Some(code) = err.status() {
        // The source of a refusal is the server's own text.
        let detail = std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default();
        return SendError::Refused {
            server,
            code: code.to_string(),
            detail,
        };
    }
    if err.is_timeout() {
        return SendError::Timeout { server };
    }
    let detail = chain(&err);
    if err.is_tls() {
        return SendError::Tls { server, detail };
    }
    if detail.starts_with("Connection error") || detail.starts_with("network error") {
        return SendError::Connect { server, detail };
    }
    SendError::Other { server, detail }
}

/// Sends a plain-text mail to the settings' recipients → the server's answer.
pub async fn send(
    settings: &MailSettings,
    subject: &str,
    body: &str,
) -> Result<SmtpAnswer, SendError> {
    let server = if settings.host.contains(':') {
        format!("[{}]:{}", settings.host, settings.port)
    } else {
        format!("{}:{}", settings.host, settings.port)
    };
    let from: Mailbox = settings
        .sender
        .parse()
        .map_err(|e| SendError::Build(format!("{}: {e}", settings.sender)))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for recipient in &settings.recipients {
        let to: Mailbox = recipient
            .parse()
            .map_err(|e| SendError::Build(format!("{recipient}: {e}")))?;
        builder = builder.to(to);
    }
    let message = builder
        .body(body.to_string())
        .map_err(|e| SendError::Build(e.to_string()))?;

    let tls_parameters = || {
        TlsParameters::new(settings.host.clone()).map_err(|e| SendError::Tls {
            server: server.clone(),
            detail: chain(&e),
        })
    };
    let tls = match settings.security {
        Security::None => Tls::None,
        Security::Starttls => Tls::Required(tls_parameters()?),
        Security::Tls => Tls::Wrapper(tls_parameters()?),
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        .port(settings.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT))
        .hello_name(ClientId::Domain(crate::system::hostname()));
    if !settings.username.is_empty() {
        transport = transport.credentials(Credentials::new(
            settings.username.clone(),
            settings.password.clone(),
        ));
    }
    let transport = transport.build();
    // The whole exchange is bounded too: a server that trickles bytes cannot hold a request.
    let sent = tokio::time::timeout(SMTP_TIMEOUT * 3, transport.send(message))
        .await
        .map_err(|_| SendError::Timeout {
            server: server.clone(),
        })?;
    let response = sent.map_err(|err| classify(server.clone(), err))?;
    Ok(SmtpAnswer {
        code: response.code().to_string(),
        message: response.message().map(str::to_string).collect(),
    })
}
