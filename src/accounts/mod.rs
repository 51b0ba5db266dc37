//! Console accounts: who may log in, with which password, and what a password must be.
//!
//! Owns the default administrator (manual §1: `admin`/`admin`, usable only to set a new
//! password), argon2id password hashing, the password policy, and the per-address login
//! throttle. Sessions are the HTTP layer's (see `http::session`); this module only answers
//! "are these credentials good" and "may this password replace that one". Calls `store`.

pub mod masking;
pub mod password;
pub mod throttle;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::i18n::Text;
use crate::store::{accounts, audit, Store, StoreError};
use password::PolicyViolation;
use throttle::LoginThrottle;

/// The factory account of the manual.
pub const DEFAULT_ADMIN_USERNAME: &str = "admin";
pub const DEFAULT_ADMIN_PASSWORD: &str = "admin";
pub const ROLE_ADMIN: &str = "admin";
/// An agent (坐席) signing in to their own page with job number or extension.
pub const ROLE_AGENT: &str = "agent";
/// A team leader (组长): an agent who also leads queues.
pub const ROLE_LEADER: &str = "leader";

/// A successful login.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The console account's row (administrators); 0 for agents.
    pub account_id: i64,
    /// The agent's row, for agents and team leaders.
    pub agent_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub must_change_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("locked out for {0:?}")]
    LockedOut(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is wrong")]
    WrongOldPassword,
    #[error("{}", .0.text().en)]
    Policy(PolicyViolation),
    #[error("account no longer exists")]
    NoSuchAccount,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl PasswordChangeError {
    pub fn policy_text(&self) -> Option<Text> {
        match self {
            PasswordChangeError::Policy(violation) => Some(violation.text()),
            _ => None,
        }
    }
}

/// The account service shared by every request.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    throttle: Arc<LoginThrottle>,
    /// argon2id takes ~19 MiB per hash: one at a time keeps memory within the appliance's
    /// budget however many logins arrive at once.
    hashing: Arc<Semaphore>,
}

impl Accounts {
    pub fn new(store: Store, throttle: LoginThrottle) -> Accounts {
        Accounts {
            store,
            throttle: Arc::new(throttle),
            hashing: Arc::new(Semaphore::new(1)),
        }
    }

    /// Creates the administrator when the database has no account yet: with the password set
    /// at factory provisioning (`provisioned_hash`) when there is one, else the manual's
    /// `admin`/`admin`. Either way it must be changed at first login.
    pub async fn ensure_default_admin(
        &self,
        provisioned_hash: Option<String>,
    ) -> Result<(), LoginError> {
        let existing = self.store.call(|conn| accounts::count(conn)).await?;
        if existing > 0 {
            return Ok(());
        }
        let hash = match provisioned_hash {
            Some(hash) => hash,
            None => self.hash(DEFAULT_ADMIN_PASSWORD.to_string()).await?,
        };
        let created = self
            .store
            .call(move |conn| {
                accounts::insert_if_absent(conn, DEFAULT_ADMIN_USERNAME, ROLE_ADMIN, &hash, true)
            })
            .await?;
        if created {
            log::info!("created the default administrator account; it must change its password at first login");
        }
        Ok(())
    }

    /// Checks credentials, applying the per-address throttle. Failures are logged with the
    /// address (never the password) and answered after a growing delay.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        from: IpAddr,
    ) -> Result<Principal, LoginError> {
        let attempt = self
            .throttle
            .begin(from, username)
            .map_err(LoginError::LockedOut)?;
        let name = username.to_string();
        let (account, agent) = self
            .store
            .call(move |conn| {
                let account = accounts::find_by_username(conn, &name)?;
                let agent = match account {
                    Some(_) => None,
                    None => crate::store::agents::find_for_login(conn, &name)?,
                };
                Ok((account, agent))
            })
            .await?;
        if let Some(agent) = agent {
            // Agents sign in with their extension's password. Spend the same time as an
            // administrator's login, so the answer's timing says nothing about who exists.
            self.verify(
                password.to_string(),
                password::unknown_user_hash().to_string(),
            )
            .await?;
            if password::same_secret(password, &agent.extension_password) {
                attempt.succeeded();
                return Ok(Principal {
                    account_id: 0,
                    agent_id: Some(agent.id),
                    username: agent.job_number.clone(),
                    role: if agent.leader {
                        ROLE_LEADER
                    } else {
                        ROLE_AGENT
                    }
                    .to_string(),
                    must_change_password: false,
                });
            }
            return Err(self.failed_login(attempt, username, from).await?);
        }
        // Verify against a fixed hash when the user does not exist, so the answer takes as
        // long either way and does not reveal which usernames exist.
        let hash = account
            .as_ref()
            .map(|a| a.password_hash.clone())
            .unwrap_or_else(|| password::unknown_user_hash().to_string());
        let matches = self.verify(password.to_string(), hash).await?;
        match account {
            Some(account) if matches => {
                attempt.succeeded();
                Ok(Principal {
                    account_id: account.id,
                    agent_id: None,
                    username: account.username,
                    role: account.role,
                    must_change_password: account.must_change_password,
                })
            }
            _ => Err(self.failed_login(attempt, username, from).await?),
        }
    }

    /// Records a failed login (throttle, log, audit on lockout) and waits the failure delay.
    async fn failed_login(
        &self,
        attempt: throttle::Attempt<'_>,
        username: &str,
        from: IpAddr,
    ) -> Result<LoginError, LoginError> {
        let outcome = attempt.failed();
        log::warn!(
            "failed console login for user {:?} from {from} ({} consecutive)",
            username,
            outcome.consecutive_failures
        );
        if let Some(lockout) = outcome.locked_for {
            log::warn!(
                "locking out {from} for {}s after repeated failed logins",
                lockout.as_secs()
            );
            let address = from.to_string();
            let name = username.to_string();
            let detail = format!("{}s", lockout.as_secs());
            self.store
                .call(move |conn| {
                    audit::append(
                        conn,
                        &audit::Record {
                            actor: &name,
                            action: "login.lockout",
                            target: "session",
                            after: Some(&detail),
                            address: Some(&address),
                            ..Default::default()
                        },
                    )
                })
                .await?;
        }
        tokio::time::sleep(outcome.delay).await;
        Ok(LoginError::InvalidCredentials)
    }

    /// Replaces an account's password after checking the old one and the policy. Nothing is
    /// changed on any refusal.
    pub async fn change_password(
        &self,
        account_id: i64,
        old_password: &str,
        new_password: &str,
    ) -> Result<(), PasswordChangeError> {
        let account = self
            .store
            .call(move |conn| accounts::find_by_id(conn, account_id))
            .await?
            .ok_or(PasswordChangeError::NoSuchAccount)?;
        let old_ok = self
            .verify(old_password.to_string(), account.password_hash.clone())
            .await
            .map_err(|e| PasswordChangeError::Hashing(e.to_string()))?;
        if !old_ok {
            return Err(PasswordChangeError::WrongOldPassword);
        }
        password::check_policy(&[&account.username], new_password)
            .map_err(PasswordChangeError::Policy)?;
        let recent = self
            .store
            .call(move |conn| accounts::recent_hashes(conn, account_id))
            .await?;
        for old_hash in recent {
            let reused = self
                .verify(new_password.to_string(), old_hash)
                .await
                .map_err(|e| PasswordChangeError::Hashing(e.to_string()))?;
            if reused {
                return Err(PasswordChangeError::Policy(PolicyViolation::Reused));
            }
        }
        let new_hash = self
            .hash(new_password.to_string())
            .await
            .map_err(|e| PasswordChangeError::Hashing(e.to_string()))?;
        self.store
            .call(move |conn| accounts::set_password(conn, account_id, &new_hash, false))
            .await?;
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    async fn hash(&self, password: String) -> Result<String, LoginError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .expect("semaphore never closed");
        tokio::task::spawn_blocking(move || password::hash(&password))
            .await
            .map_err(|e| LoginError::Hashing(e.to_string()))?
            .map_err(LoginError::Hashing)
    }

    async fn verify(&self, password: String, hash: String) -> Result<bool, LoginError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .expect("semaphore never closed");
        tokio::task::spawn_blocking(move || password::verify(&password, &hash))
            .await
            .map_err(|e| LoginError::Hashing(e.to_string()))
    }
}
