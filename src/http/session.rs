//! Console sessions: a random token in a `Secure; HttpOnly; SameSite=Strict` cookie, mapped
//! server-side to the account it belongs to. Sessions live in memory (a restart logs everyone
//! out, which is what an appliance owner expects after a reboot), end after an idle timeout
//! or at logout, and are capped in number so memory stays bounded.
//!
//! The extractors are how handlers demand a login: [`AnySession`] also admits a session that
//! must still change its password (the session itself and the password change use it),
//! [`ActiveSession`] any role that has set its password, [`AdminSession`] and
//! [`AgentSession`] a role on top. One account holds at most 16 sessions, and a full table
//! never evicts an administrator's session for another's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AppState;
use crate::accounts::{Principal, ROLE_ADMIN, ROLE_AGENT, ROLE_LEADER};

pub const COOKIE_NAME: &str = "coocenter_session";

/// Most live sessions. When a new one would pass it, the least recently used session that
/// is not an administrator's goes: logging in again and again as an agent never logs the
/// owner out (issue 10, item 7).
const MAX_SESSIONS: usize = 256;
/// Most live sessions of one account or agent; its own least recently used goes first.
const MAX_SESSIONS_PER_OWNER: usize = 16;

#[derive(Debug, Clone)]
pub struct Session {
    /// The administrator account's row; 0 for agents.
    pub account_id: i64,
    /// The agent's row for agents and team leaders.
    pub agent_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub must_change_password: bool,
    /// The key of this session in the table (the SHA-256 of its token).
    key: String,
    last_seen: Instant,
}

pub struct Sessions {
    idle_timeout: Duration,
    table: Mutex<HashMap<String, Session>>,
}

/// Removes the least recently used session matching `which`; whether there was one.
fn evict_least_recent(
    table: &mut HashMap<String, Session>,
    which: impl Fn(&Session) -> bool,
) -> bool {
    let oldest = table
        .values()
        .filter(|s| which(s))
        .min_by_key(|s| s.last_seen)
        .map(|s| s.key.clone());
    match oldest {
        Some(key) => table.remove(&key).is_some(),
        None => false,
    }
}

/// Sessions are looked up by the hash of their token, so the table itself (a core dump, a
/// debugger) never holds a usable cookie.
fn key_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Sessions {
    pub fn new(idle_timeout: Duration) -> Sessions {
        Sessions {
            idle_timeout,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session and returns its token (32 random bytes, base64url).
    pub fn create(&self, principal: &Principal) -> String {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let key = key_of(&token);
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.retain(|_, s| now.duration_since(s.last_seen) < self.idle_timeout);
        let same_owner =
            |s: &Session| s.account_id == principal.account_id && s.agent_id == principal.agent_id;
        if table.values().filter(|s| same_owner(s)).count() >= MAX_SESSIONS_PER_OWNER {
            evict_least_recent(&mut table, same_owner);
        }
        if table.len() >= MAX_SESSIONS
            && !evict_least_recent(&mut table, |s: &Session| s.role != ROLE_ADMIN)
        {
            evict_least_recent(&mut table, |_: &Session| true);
        }
        table.insert(
            key.clone(),
            Session {
                account_id: principal.account_id,
                agent_id: principal.agent_id,
                username: principal.username.clone(),
                role: principal.role.clone(),
                must_change_password: principal.must_change_password,
                key,
                last_seen: now,
            },
        );
        token
    }

    /// The live session for a token, touched; `None` when unknown or idle too long.
    pub fn get(&self, token: &str) -> Option<Session> {
        let key = key_of(token);
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let expired = match table.get_mut(&key) {
            None => return None,
            Some(session) if now.duration_since(session.last_seen) >= self.idle_timeout => true,
            Some(session) => {
                session.last_seen = now;
                return Some(session.clone());
            }
        };
        if expired {
            table.remove(&key);
        }
        None
    }

    /// Whether a session is still live, counting this as activity (a console left open on the
    /// dashboard keeps its session).
    pub fn touch(&self, session: &Session) -> bool {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        match table.get_mut(&session.key) {
            Some(live) if now.duration_since(live.last_seen) < self.idle_timeout => {
                live.last_seen = now;
                true
            }
            _ => false,
        }
    }

    pub fn end(&self, session: &Session) {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.remove(&session.key);
    }

    /// After a password change: this session may now use the console, and every other session
    /// of the account ends (someone who knew the old password is logged out).
    pub fn password_changed(&self, session: &Session) {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.retain(|key, s| s.account_id != session.account_id || *key == session.key);
        if let Some(current) = table.get_mut(&session.key) {
            current.must_change_password = false;
        }
    }
}

/// The `Set-Cookie` value that starts a session.
pub fn cookie_for(token: &str) -> String {
    format!("{COOKIE_NAME}={token}; Path=/; Secure; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` value that removes it from the browser.
pub fn clearing_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn token_from(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

/// Any logged-in session, including one that must still change its password.
pub struct AnySession(pub Session);

impl FromRequestParts<Arc<AppState>> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        token_from(parts)
            .and_then(|token| state.sessions.get(token))
            .map(AnySession)
            .ok_or_else(ApiError::not_logged_in)
    }
}

/// A logged-in session of any role that has set its own password: what every route but
/// the session itself and the password change asks for (an unchanged factory password
/// opens nothing else, recordings included).
pub struct ActiveSession(pub Session);

impl FromRequestParts<Arc<AppState>> for ActiveSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let AnySession(session) = AnySession::from_request_parts(parts, state).await?;
        if session.must_change_password {
            return Err(ApiError::password_change_required());
        }
        Ok(ActiveSession(session))
    }
}

/// 403 for a role the route is not for.
fn forbidden(zh: &'static str, en: &'static str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "forbidden",
        crate::i18n::Text::fixed(zh, en),
    )
}

/// The refusal of a change only the administrator and team leaders may make: given by
/// [`LeaderOrAdminSession`], and by a handler that finds the leader demoted since login.
pub fn leaders_only() -> ApiError {
    forbidden(
        "只有管理员和组长可以进行此操作。",
        "Only the administrator and team leaders may do this.",
    )
}

/// A logged-in administrator who has set their own password.
pub struct AdminSession(pub Session);

impl FromRequestParts<Arc<AppState>> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let ActiveSession(session) = ActiveSession::from_request_parts(parts, state).await?;
        if session.role != ROLE_ADMIN {
            return Err(forbidden(
                "没有权限执行此操作。",
                "You are not allowed to do this.",
            ));
        }
        Ok(AdminSession(session))
    }
}

/// A logged-in administrator or team leader who has set their own password: changes an
/// ordinary agent may not make (deleting and annotating recordings). Checked before the
/// request's body is read, like every other role.
pub struct LeaderOrAdminSession(pub Session);

impl FromRequestParts<Arc<AppState>> for LeaderOrAdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let ActiveSession(session) = ActiveSession::from_request_parts(parts, state).await?;
        if session.role != ROLE_ADMIN && session.role != ROLE_LEADER {
            return Err(leaders_only());
        }
        Ok(LeaderOrAdminSession(session))
    }
}

/// A logged-in agent or team leader (their own page: state, 置忙, 置闲).
pub struct AgentSession(pub Session, pub i64);

impl FromRequestParts<Arc<AppState>> for AgentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let ActiveSession(session) = ActiveSession::from_request_parts(parts, state).await?;
        match (session.role.as_str(), session.agent_id) {
            (ROLE_AGENT | ROLE_LEADER, Some(agent_id)) => Ok(AgentSession(session, agent_id)),
            _ => Err(forbidden(
                "此页面仅供坐席登录使用。",
                "This page is for agents signed in with their job number or extension.",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(id: i64) -> Principal {
        Principal {
            account_id: id,
            agent_id: None,
            username: format!("user{id}"),
            role: ROLE_ADMIN.into(),
            must_change_password: true,
        }
    }

    #[test]
    fn tokens_are_random_and_end_at_logout() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let a = sessions.create(&principal(1));
        let b = sessions.create(&principal(1));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let session = sessions.get(&a).unwrap();
        sessions.end(&session);
        assert!(sessions.get(&a).is_none());
        assert!(sessions.get(&b).is_some());
        assert!(sessions.get("forged").is_none());
    }

    #[test]
    fn agents_logging_in_again_and_again_never_evict_the_admin() {
        let sessions = Sessions::new(Duration::from_secs(600));
        let admin = sessions.create(&principal(1));
        let agents: Vec<String> = (0..300)
            .map(|n| {
                sessions.create(&Principal {
                    account_id: 0,
                    agent_id: Some(1 + n % 40),
                    username: format!("agent{n}"),
                    role: ROLE_AGENT.into(),
                    must_change_password: false,
                })
            })
            .collect();
        assert!(sessions.get(&admin).is_some(), "the admin's session stays");
        let table = sessions.table.lock().unwrap();
        assert!(table.len() <= MAX_SESSIONS);
        for agent in 1..=40 {
            let of_agent = table.values().filter(|s| s.agent_id == Some(agent)).count();
            assert!(of_agent <= MAX_SESSIONS_PER_OWNER);
        }
        drop(table);
        assert!(
            sessions.get(agents.last().unwrap()).is_some(),
            "the newest stays"
        );
        // One agent alone keeps at most its share.
        let one = Principal {
            account_id: 0,
            agent_id: Some(99),
            username: "8099".into(),
            role: ROLE_AGENT.into(),
            must_change_password: false,
        };
        let first = sessions.create(&one);
        for _ in 0..MAX_SESSIONS_PER_OWNER {
            sessions.create(&one);
        }
        assert!(sessions.get(&first).is_none(), "its own oldest went");
    }

    #[test]
    fn idle_sessions_expire() {
        let sessions = Sessions::new(Duration::from_millis(30));
        let token = sessions.create(&principal(1));
        std::thread::sleep(Duration::from_millis(50));
        assert!(sessions.get(&token).is_none());
    }

    #[test]
    fn password_change_ends_the_other_sessions_of_the_account() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let mine = sessions.create(&principal(1));
        let stolen = sessions.create(&principal(1));
        let someone_else = sessions.create(&principal(2));
        sessions.password_changed(&sessions.get(&mine).unwrap());
        assert!(!sessions.get(&mine).unwrap().must_change_password);
        assert!(sessions.get(&stolen).is_none());
        assert!(sessions.get(&someone_else).is_some());
    }

    #[test]
    fn table_is_capped() {
        let sessions = Sessions::new(Duration::from_secs(60));
        for n in 0..(MAX_SESSIONS + 10) {
            sessions.create(&principal(n as i64));
        }
        assert_eq!(sessions.table.lock().unwrap().len(), MAX_SESSIONS);
    }
}
