//! The call center's configuration, kept in our database as the source of truth and applied
//! to Asterisk: agents (manual §4) on the PBX's extensions, queue members and strategies
//! (manual §5). Every refusal names the field and the reason in both languages and changes
//! nothing. Changes Asterisk cannot take right now (it is away) are saved and applied by the
//! PBX worker's reconcile at the next connect.

use std::path::PathBuf;

use crate::accounts::password;
use crate::i18n::Text;
use crate::store::agents::{self, Agent, AgentFields, PbxExtension};
use crate::store::{self, oplog, queues, Store, StoreError};

use super::commands::{self, CommandError};
use super::pauses;
use super::Pbx;

/// Asterisk's ring strategies (queues.conf `strategy=`).
pub const STRATEGIES: &[&str] = &[
    "ringall",
    "leastrecent",
    "fewestcalls",
    "random",
    "rrmemory",
    "rrordered",
    "linear",
    "wrandom",
];

/// The extension types of manual §4 (分机类型).
pub const EXTENSION_TYPES: &[&str] = &["web", "sip", "analog"];

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// A field of the request is wrong; nothing was changed.
    #[error("{field}: {}", text.en)]
    Invalid {
        field: &'static str,
        code: &'static str,
        text: Text,
    },
    #[error("{}", .0.en)]
    NotFound(Text),
    #[error("Asterisk is not reachable")]
    PbxUnavailable,
    #[error("Asterisk refused: {0}")]
    Refused(String),
    /// Saved, but Asterisk does not do it (what it does instead is in the text).
    #[error("{}", .0.en)]
    NotApplied(Text),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the Asterisk include: {0}")]
    Io(String),
}

impl From<CommandError> for DirectoryError {
    fn from(err: CommandError) -> DirectoryError {
        match err {
            CommandError::Unavailable(_) => DirectoryError::PbxUnavailable,
            CommandError::Refused(message) => DirectoryError::Refused(message),
        }
    }
}

fn invalid(field: &'static str, code: &'static str, zh: &str, en: &str) -> DirectoryError {
    DirectoryError::Invalid {
        field,
        code,
        text: Text::owned(zh.to_string(), en.to_string()),
    }
}

/// An agent as the console edits it. `password: None` on an edit keeps the current one.
#[derive(Debug, Clone)]
pub struct AgentInput {
    pub name: String,
    pub job_number: String,
    pub leader: bool,
    pub extension: String,
    pub password: Option<String>,
    pub extension_type: String,
}

/// A queue as the console manages it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueView {
    pub queue: String,
    pub name: String,
    /// The strategy we want (ours when set, otherwise what Asterisk reports).
    pub strategy: String,
    /// The strategy change is saved but has not reached Asterisk yet.
    pub pending: bool,
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub agent_id: i64,
    pub name: String,
    pub job_number: String,
    pub extension: String,
}

#[derive(Clone)]
pub struct Directory {
    store: Store,
    pbx: Pbx,
    queues_include: PathBuf,
}

const MAX_NAME: usize = 32;
const MAX_JOB_NUMBER: usize = 16;
const MAX_PASSWORD: usize = 64;

impl Directory {
    pub fn new(store: Store, pbx: Pbx, queues_include: PathBuf) -> Directory {
        Directory {
            store,
            pbx,
            queues_include,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The PBX's extensions: read from Asterisk when it is reachable (and cached), else the
    /// list last read.
    pub async fn extensions(&self) -> Result<Vec<PbxExtension>, DirectoryError> {
        if self.pbx.is_connected() {
            match commands::list_extensions(self.pbx.client()).await {
                Ok(list) => {
                    let cached = list.clone();
                    self.store
                        .call(move |conn| agents::replace_extensions(conn, &cached))
                        .await?;
                    return Ok(list);
                }
                Err(err) => log::warn!("cannot list the PBX's extensions: {err}"),
            }
        }
        Ok(self.store.call(|conn| agents::extensions(conn)).await?)
    }

    pub async fn agents(&self) -> Result<Vec<(Agent, Vec<String>)>, DirectoryError> {
        Ok(self
            .store
            .call(|conn| {
                let mut out = vec![];
                for agent in agents::list(conn)? {
                    let queues = queues::queues_of(conn, agent.id)?;
                    out.push((agent, queues));
                }
                Ok(out)
            })
            .await?)
    }

    pub async fn agent(&self, id: i64) -> Result<Agent, DirectoryError> {
        self.store
            .call(move |conn| agents::get(conn, id))
            .await?
            .ok_or_else(no_such_agent)
    }

    /// Checks an agent's fields; on success returns the PBX extension it is on.
    async fn validate(
        &self,
        input: &AgentInput,
        editing: Option<i64>,
    ) -> Result<PbxExtension, DirectoryError> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(invalid(
                "name",
                "name_required",
                "请填写坐席名。",
                "Enter the agent's name.",
            ));
        }
        if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(invalid(
                "name",
                "name_invalid",
                "坐席名不能超过 32 个字符，且不能包含控制字符。",
                "The agent's name must be at most 32 characters, without control characters.",
            ));
        }
        let job = input.job_number.trim();
        if job.is_empty() {
            return Err(invalid(
                "job_number",
                "job_number_required",
                "请填写工号。",
                "Enter the job number.",
            ));
        }
        if job.len() > MAX_JOB_NUMBER
            || !job
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "job_number",
                "job_number_invalid",
                "工号只能包含字母、数字、“-”和“_”，最多 16 个字符。",
                "The job number may only contain letters, digits, '-' and '_', at most 16 characters.",
            ));
        }
        if job.eq_ignore_ascii_case(crate::accounts::DEFAULT_ADMIN_USERNAME) {
            return Err(invalid(
                "job_number",
                "job_number_reserved",
                "“admin”是管理员账号，不能用作工号。",
                "“admin” is the administrator's account and cannot be a job number.",
            ));
        }
        if !EXTENSION_TYPES.contains(&input.extension_type.as_str()) {
            return Err(invalid(
                "extension_type",
                "extension_type_invalid",
                "分机类型只能是 web 分机、sip 分机或模拟分机。",
                "The extension type must be web, SIP or analog.",
            ));
        }
        match &input.password {
            None if editing.is_none() => {
                return Err(invalid("password", "password_required", "请填写分机密码。", "Enter the extension's password."))
            }
            Some(p) if p.is_empty() => {
                return Err(invalid("password", "password_required", "请填写分机密码。", "Enter the extension's password."))
            }
            Some(p) if p.chars().count() > MAX_PASSWORD || p.chars().any(|c| c.is_control() || c.is_whitespace()) => {
                return Err(invalid(
                    "password",
                    "password_invalid",
                    "分机密码最多 64 个字符，且不能包含空格或控制字符。",
                    "The extension's password must be at most 64 characters, without spaces or control characters.",
                ))
            }
            Some(p) => {
                // The extension's password is also the agent's console password: the same
                // policy as the administrator's, with both of the agent's login names.
                password::check_policy(&[job, input.extension.trim()], p).map_err(|violation| {
                    DirectoryError::Invalid {
                        field: "password",
                        code: "weak_password",
                        text: violation.text(),
                    }
                })?;
            }
            None => {}
        }
        let extension = input.extension.trim().to_string();
        if extension.is_empty() {
            return Err(invalid(
                "extension",
                "extension_required",
                "请选择分机。",
                "Choose an extension.",
            ));
        }
        let (job_taken, extension_taken) = {
            let (job, ext) = (job.to_string(), extension.clone());
            self.store
                .call(move |conn| {
                    Ok((
                        agents::holder_of_job_number(conn, &job, editing)?,
                        agents::holder_of_extension(conn, &ext, editing)?,
                    ))
                })
                .await?
        };
        if let Some(other) = job_taken {
            return Err(DirectoryError::Invalid {
                field: "job_number",
                code: "job_number_taken",
                text: Text::owned(
                    format!("工号 {job} 已被坐席“{}”使用。", other.name),
                    format!(
                        "Job number {job} is already used by agent “{}”.",
                        other.name
                    ),
                ),
            });
        }
        if let Some(other) = extension_taken {
            return Err(DirectoryError::Invalid {
                field: "extension",
                code: "extension_taken",
                text: Text::owned(
                    format!("分机 {extension} 已被坐席“{}”使用。", other.name),
                    format!(
                        "Extension {extension} is already used by agent “{}”.",
                        other.name
                    ),
                ),
            });
        }
        let offered = self.extensions().await?;
        let Some(pbx_extension) = offered.into_iter().find(|e| e.extension == extension) else {
            return Err(DirectoryError::Invalid {
                field: "extension",
                code: "extension_unknown",
                text: Text::owned(
                    format!("PBX 中没有分机 {extension}，请先在 PBX 设置中创建。"),
                    format!("The PBX has no extension {extension}; create it in the PBX settings first."),
                ),
            });
        };
        let analog = pbx_extension.technology == "DAHDI";
        if analog != (input.extension_type == "analog") {
            return Err(invalid(
                "extension_type",
                "extension_type_mismatch",
                if analog {
                    "该分机是模拟分机，分机类型请选择“模拟分机”。"
                } else {
                    "该分机不是模拟分机，请选择 web 分机或 sip 分机。"
                },
                if analog {
                    "This extension is analog: choose the analog type."
                } else {
                    "This extension is not analog: choose web or SIP."
                },
            ));
        }
        Ok(pbx_extension)
    }

    pub async fn create_agent(&self, input: AgentInput) -> Result<Agent, DirectoryError> {
        self.validate(&input, None).await?;
        let id = self
            .store
            .call(move |conn| {
                agents::insert(
                    conn,
                    &AgentFields {
                        name: input.name.trim(),
                        job_number: input.job_number.trim(),
                        leader: input.leader,
                        extension: input.extension.trim(),
                        extension_password: input.password.as_deref().unwrap_or(""),
                        extension_type: &input.extension_type,
                    },
                )
            })
            .await?;
        self.agent(id).await
    }

    /// Edits an agent; returns (before, after). Memberships follow a new name or extension.
    pub async fn update_agent(
        &self,
        id: i64,
        input: AgentInput,
    ) -> Result<(Agent, Agent), DirectoryError> {
        let before = self.agent(id).await?;
        let pbx_extension = self.validate(&input, Some(id)).await?;
        let password = input
            .password
            .clone()
            .unwrap_or_else(|| before.extension_password.clone());
        self.store
            .call(move |conn| {
                agents::update(
                    conn,
                    id,
                    &AgentFields {
                        name: input.name.trim(),
                        job_number: input.job_number.trim(),
                        leader: input.leader,
                        extension: input.extension.trim(),
                        extension_password: &password,
                        extension_type: &input.extension_type,
                    },
                )
            })
            .await?;
        let after = self.agent(id).await?;
        if before.extension != after.extension || before.name != after.name {
            let memberships = self
                .store
                .call(move |conn| queues::queues_of(conn, id))
                .await?;
            let old_interface = self.interface_of(&before.extension).await?;
            if self.pbx.is_connected() {
                for queue in &memberships {
                    if let Some(old) = &old_interface {
                        commands::remove_member(self.pbx.client(), queue, old).await?;
                    }
                    commands::add_member(
                        self.pbx.client(),
                        queue,
                        &pbx_extension.interface,
                        &after.name,
                    )
                    .await?;
                }
            }
        }
        Ok((before, after))
    }

    /// Deletes an agent and takes it out of its queues.
    pub async fn delete_agent(&self, id: i64) -> Result<Agent, DirectoryError> {
        let agent = self.agent(id).await?;
        let memberships = self
            .store
            .call(move |conn| queues::queues_of(conn, id))
            .await?;
        if let (Some(interface), true) = (
            self.interface_of(&agent.extension).await?,
            self.pbx.is_connected(),
        ) {
            for queue in &memberships {
                commands::remove_member(self.pbx.client(), queue, &interface).await?;
            }
        }
        self.store
            .call(move |conn| agents::delete(conn, id))
            .await?;
        Ok(agent)
    }

    async fn interface_of(&self, extension: &str) -> Result<Option<String>, DirectoryError> {
        let extension = extension.to_string();
        Ok(self
            .store
            .call(move |conn| agents::extension(conn, &extension))
            .await?
            .map(|e| e.interface))
    }

    /// The queues Asterisk has, with our names, strategies and members.
    pub async fn queues(&self) -> Result<Vec<QueueView>, DirectoryError> {
        let live = self.pbx.live().borrow().clone();
        let (settings, desired, agents) = self
            .store
            .call(|conn| {
                Ok((
                    queues::all_settings(conn)?,
                    queues::desired_members(conn)?,
                    agents::list(conn)?,
                ))
            })
            .await?;
        let mut names: Vec<String> = live.queues.iter().map(|q| q.queue.clone()).collect();
        for s in &settings {
            if !names.contains(&s.queue) && desired.iter().any(|d| d.queue == s.queue) {
                names.push(s.queue.clone());
            }
        }
        names.sort();
        Ok(names
            .into_iter()
            .map(|queue| {
                let ours = settings.iter().find(|s| s.queue == queue);
                let reported = live
                    .queues
                    .iter()
                    .find(|q| q.queue == queue)
                    .map(|q| q.strategy.clone())
                    .unwrap_or_default();
                QueueView {
                    name: ours
                        .and_then(|s| s.display_name.clone())
                        .unwrap_or_else(|| queue.clone()),
                    strategy: ours.and_then(|s| s.strategy.clone()).unwrap_or(reported),
                    pending: ours.is_some_and(|s| s.strategy_pending),
                    members: desired
                        .iter()
                        .filter(|d| d.queue == queue)
                        .map(|d| MemberView {
                            agent_id: d.agent_id,
                            name: d.name.clone(),
                            job_number: agents
                                .iter()
                                .find(|a| a.id == d.agent_id)
                                .map(|a| a.job_number.clone())
                                .unwrap_or_default(),
                            extension: d.extension.clone(),
                        })
                        .collect(),
                    queue,
                }
            })
            .collect())
    }

    pub async fn queue(&self, queue: &str) -> Result<QueueView, DirectoryError> {
        self.queues()
            .await?
            .into_iter()
            .find(|q| q.queue == queue)
            .ok_or_else(|| no_such_queue(queue))
    }

    /// Renames a queue (our display name only; 队列号 never changes).
    pub async fn rename_queue(&self, queue: &str, name: &str) -> Result<(), DirectoryError> {
        self.queue(queue).await?;
        let name = name.trim().to_string();
        if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(invalid(
                "name",
                "queue_name_invalid",
                "队列名不能超过 32 个字符，且不能包含控制字符。",
                "The queue name must be at most 32 characters, without control characters.",
            ));
        }
        let queue = queue.to_string();
        let stored = (!name.is_empty()).then_some(name);
        self.store
            .call(move |conn| queues::set_display_name(conn, &queue, stored.as_deref()))
            .await?;
        Ok(())
    }

    /// Sets a queue's strategy: written to the generated include, taken over from
    /// queues.conf's own section ([`super::queues_conf`]), applied with `QueueReload` and
    /// checked with `QueueStatus`. Our counts restart when Asterisk's strategy really changed
    /// (manual §3: 若期间修改振铃策略则会清空数据重新记录; Asterisk keeps its own). When Asterisk
    /// is away the change is saved as pending. Returns whether it is still pending.
    pub async fn set_strategy(&self, queue: &str, strategy: &str) -> Result<bool, DirectoryError> {
        self.queue(queue).await?;
        if !STRATEGIES.contains(&strategy) {
            return Err(invalid(
                "strategy",
                "strategy_invalid",
                "不支持的振铃策略。",
                "Unknown ring strategy.",
            ));
        }
        let (q, s) = (queue.to_string(), strategy.to_string());
        self.store
            .call(move |conn| queues::set_strategy(conn, &q, &s, true))
            .await?;
        self.write_queues_include().await?;
        self.apply_pending_strategy(queue, strategy).await
    }

    /// Applies a queue's saved strategy if Asterisk is there; returns whether it is still
    /// pending.
    async fn apply_pending_strategy(
        &self,
        queue: &str,
        strategy: &str,
    ) -> Result<bool, DirectoryError> {
        if !self.pbx.is_connected() {
            return Ok(true);
        }
        let queues_conf = self.queues_conf();
        match apply_strategy(
            self.pbx.client(),
            &self.store,
            &queues_conf,
            queue,
            strategy,
            true,
        )
        .await
        {
            Ok(applied) => {
                self.pbx.refresh_stats();
                self.pbx.queue_params_changed();
                Ok(applied == StrategyApplied::AfterRestart)
            }
            Err(DirectoryError::PbxUnavailable) => Ok(true),
            Err(err) => Err(err),
        }
    }

    /// The PBX UI's queues.conf, beside our include.
    fn queues_conf(&self) -> PathBuf {
        queues_conf_beside(&self.queues_include)
    }

    /// Writes `queues_coocenter.conf` from the stored strategies (temp file, fsync, rename).
    pub async fn write_queues_include(&self) -> Result<(), DirectoryError> {
        let settings = self.store.call(|conn| queues::all_settings(conn)).await?;
        let text = render_queues_include(&settings);
        let path = self.queues_include.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            crate::fs_atomic::write(&path, text.as_bytes(), 0o644).map_err(|e| format!("{e:#}"))
        })
        .await
        .map_err(|e| DirectoryError::Io(e.to_string()))?
        .map_err(DirectoryError::Io)
    }

    pub async fn add_member(&self, queue: &str, agent_id: i64) -> Result<(), DirectoryError> {
        self.queue(queue).await?;
        let agent = self.agent(agent_id).await?;
        let (q, id) = (queue.to_string(), agent_id);
        let added = self
            .store
            .call(move |conn| queues::add_member(conn, &q, id))
            .await?;
        if !added {
            return Err(invalid(
                "agent_id",
                "already_member",
                "该坐席已在此队列中。",
                "The agent is already in this queue.",
            ));
        }
        if let (Some(interface), true) = (
            self.interface_of(&agent.extension).await?,
            self.pbx.is_connected(),
        ) {
            if let Err(err) =
                commands::add_member(self.pbx.client(), queue, &interface, &agent.name).await
            {
                // Asterisk refused (not merely away): undo, so nothing half-applied remains.
                if let CommandError::Refused(_) = err {
                    let q = queue.to_string();
                    self.store
                        .call(move |conn| queues::remove_member(conn, &q, id))
                        .await?;
                }
                return Err(err.into());
            }
        }
        Ok(())
    }

    pub async fn remove_member(&self, queue: &str, agent_id: i64) -> Result<(), DirectoryError> {
        let agent = self.agent(agent_id).await?;
        let (q, id) = (queue.to_string(), agent_id);
        let removed = self
            .store
            .call(move |conn| queues::remove_member(conn, &q, id))
            .await?;
        if !removed {
            return Err(DirectoryError::NotFound(Text::fixed(
                "该坐席不在此队列中。",
                "The agent is not in this queue.",
            )));
        }
        if let (Some(interface), true) = (
            self.interface_of(&agent.extension).await?,
            self.pbx.is_connected(),
        ) {
            commands::remove_member(self.pbx.client(), queue, &interface).await?;
        }
        Ok(())
    }

    /// Pauses (置忙) or unpauses (置闲) an agent in all of its queues, and writes the
    /// operation log's row before answering: the agent's next action (logging out, say) is
    /// then logged after it. The events Asterisk sends for it add no second row
    /// ([`super::pauses`]).
    pub async fn pause(
        &self,
        agent: &Agent,
        paused: bool,
        reason: &str,
    ) -> Result<(), DirectoryError> {
        let interface = self
            .interface_of(&agent.extension)
            .await?
            .ok_or(DirectoryError::PbxUnavailable)?;
        if !self.pbx.is_connected() {
            return Err(DirectoryError::PbxUnavailable);
        }
        let now = pauses::state(paused, reason);
        let log = self.pbx.pause_log();
        // Asterisk answers with one QueueMemberPause per queue the member is in.
        let queues: std::collections::HashSet<String> = self
            .pbx
            .live()
            .borrow()
            .agents
            .iter()
            .filter(|row| row.extension == agent.extension)
            .map(|row| row.queue.clone())
            .collect();
        let claimed = log.claim(&agent.extension, now.clone());
        log.expect_echoes(&agent.extension, &now, queues);
        if let Err(err) = commands::pause(self.pbx.client(), &interface, paused, reason).await {
            log.cancel_echoes(&agent.extension);
            if let Some(previous) = claimed {
                log.restore(&agent.extension, previous);
            }
            return Err(err.into());
        }
        if claimed.is_some() {
            pauses::write(&self.store, oplog::Actor::of(agent), now).await;
            self.pbx.refresh_stats();
        }
        Ok(())
    }

    pub fn pbx(&self) -> &Pbx {
        &self.pbx
    }
}

fn no_such_agent() -> DirectoryError {
    DirectoryError::NotFound(Text::fixed("坐席不存在。", "No such agent."))
}

fn no_such_queue(queue: &str) -> DirectoryError {
    DirectoryError::NotFound(Text::owned(
        format!("队列 {queue} 不存在。"),
        format!("There is no queue {queue}."),
    ))
}

/// `queues.conf` in the folder of our include.
pub fn queues_conf_beside(include: &std::path::Path) -> PathBuf {
    include
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(super::queues_conf::FILE_NAME)
}

/// What applying a strategy achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyApplied {
    /// Asterisk rings with it now; the pending mark is cleared.
    Now,
    /// Asterisk took it, but `linear` and `rrordered` need the ordered member list app_queue
    /// only builds when it creates the queue: it rings in order from the next restart. Stays
    /// pending until a session after that shows it.
    AfterRestart,
}

/// Strategies whose member order app_queue keeps only in a queue created with them.
fn needs_ordered_members(strategy: &str) -> bool {
    matches!(strategy, "linear" | "rrordered")
}

/// Makes Asterisk ring `queue` with `wanted`, which the include already says: takes the
/// line over from queues.conf, `QueueReload`s the queue and reads back what Asterisk rings
/// with. Refuses (the change stays saved and pending) when Asterisk still says otherwise.
///
/// `owner_changed_it`: the console's strategy was changed (now, or while Asterisk was
/// away). Only then do our counts restart (manual §3); putting back a strategy Asterisk lost
/// is no change of the owner's.
pub async fn apply_strategy(
    client: &crate::ami::Client,
    store: &Store,
    queues_conf: &std::path::Path,
    queue: &str,
    wanted: &str,
    owner_changed_it: bool,
) -> Result<StrategyApplied, DirectoryError> {
    let before = commands::queue_strategy(client, queue).await?;
    take_strategy_over(queues_conf, queue).await?;
    commands::reload_queue(client, queue).await?;
    let now = commands::queue_strategy(client, queue).await?;
    if now.as_deref() != Some(wanted) {
        let actual = now.unwrap_or_else(|| "?".into());
        log::warn!("queue {queue}: asked for strategy {wanted}, Asterisk rings with {actual}");
        return Err(DirectoryError::NotApplied(Text::owned(
            format!(
                "已保存，但 Asterisk 重载后仍按 {actual} 振铃：请确认 queues.conf 包含 #include queues_coocenter.conf，且队列 {queue} 的设置中没有其他 strategy。"
            ),
            format!(
                "Saved, but after the reload Asterisk still rings with {actual}: check that queues.conf has #include queues_coocenter.conf and no other strategy for queue {queue}."
            ),
        )));
    }
    let changed = before.as_deref() != Some(wanted);
    let after_restart = changed
        && needs_ordered_members(wanted)
        && !before.as_deref().is_some_and(needs_ordered_members);
    let q = queue.to_string();
    let at = store::now_millis();
    store
        .call(move |conn| {
            if !after_restart {
                queues::clear_pending(conn, &q)?;
            }
            if changed && owner_changed_it {
                store::calls::reset_epoch(conn, &q, at)?;
            }
            Ok(())
        })
        .await?;
    Ok(if after_restart {
        StrategyApplied::AfterRestart
    } else {
        StrategyApplied::Now
    })
}

/// Comments out queues.conf's own `strategy` lines for `queue` ([`super::queues_conf`]).
async fn take_strategy_over(
    queues_conf: &std::path::Path,
    queue: &str,
) -> Result<(), DirectoryError> {
    let path = queues_conf.to_path_buf();
    let queue = queue.to_string();
    tokio::task::spawn_blocking(move || -> Result<(), String> {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(format!("{}: {err}", path.display())),
        };
        let Some(edited) = super::queues_conf::hand_over_strategy(&text, &queue) else {
            return Ok(());
        };
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o644)
        };
        crate::fs_atomic::write(&path, edited.as_bytes(), mode).map_err(|e| format!("{e:#}"))?;
        log::info!(
            "queue {queue}: took the strategy over from {} (lines {:?} commented out)",
            path.display(),
            super::queues_conf::strategy_lines(&text, &queue)
        );
        Ok(())
    })
    .await
    .map_err(|e| DirectoryError::Io(e.to_string()))?
    .map_err(DirectoryError::Io)
}

/// The generated queues include: one `[queue](+)` section per queue with a strategy of ours.
/// queues.conf includes it last, so these lines add to the PBX UI's own queue definitions;
/// they count only because [`apply_strategy`] takes the section's own `strategy` line over.
pub fn render_queues_include(settings: &[queues::QueueSettings]) -> String {
    let mut text = String::from(
        "; Generated by coocenterd from the console's queue settings. Do not edit: it is\n\
         ; rewritten on every change. queues.conf includes it last (#include queues_coocenter.conf).\n",
    );
    for s in settings {
        if let Some(strategy) = &s.strategy {
            text.push_str(&format!("\n[{}](+)\nstrategy={strategy}\n", s.queue));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_has_one_appending_section_per_queue_with_a_strategy() {
        let settings = vec![
            queues::QueueSettings {
                queue: "222".into(),
                display_name: Some("售后".into()),
                strategy: Some("rrmemory".into()),
                strategy_pending: false,
            },
            queues::QueueSettings {
                queue: "333".into(),
                display_name: Some("销售".into()),
                strategy: None,
                strategy_pending: false,
            },
            queues::QueueSettings {
                queue: "444".into(),
                display_name: None,
                strategy: Some("linear".into()),
                strategy_pending: true,
            },
        ];
        let text = render_queues_include(&settings);
        let sections: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with(';') && !l.is_empty())
            .collect();
        assert_eq!(
            sections,
            [
                "[222](+)",
                "strategy=rrmemory",
                "[444](+)",
                "strategy=linear"
            ]
        );
    }
}
