//! The schema, as an append-only list of migrations. Never edit a released step: add one.

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

fn steps() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
        CREATE TABLE accounts (
            id                    INTEGER PRIMARY KEY,
            username              TEXT NOT NULL UNIQUE,
            role                  TEXT NOT NULL CHECK (role IN ('admin')),
            password_hash         TEXT NOT NULL,
            must_change_password  INTEGER NOT NULL,
            created_at            INTEGER NOT NULL,
            password_changed_at   INTEGER
        );
        CREATE TABLE password_history (
            account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            password_hash  TEXT NOT NULL,
            replaced_at    INTEGER NOT NULL
        );
        CREATE INDEX password_history_account ON password_history(account_id, replaced_at);
        CREATE TABLE settings (
            key         TEXT PRIMARY KEY,
            value       TEXT NOT NULL,
            updated_at  INTEGER NOT NULL
        );
        CREATE TABLE oplog (
            id          INTEGER PRIMARY KEY,
            at          INTEGER NOT NULL,
            agent_name  TEXT NOT NULL,
            job_number  TEXT NOT NULL,
            extension   TEXT NOT NULL,
            event_type  TEXT NOT NULL,
            detail      TEXT NOT NULL
        );
        CREATE INDEX oplog_at ON oplog(at);
        CREATE TABLE audit (
            id        INTEGER PRIMARY KEY,
            at        INTEGER NOT NULL,
            actor     TEXT NOT NULL,
            action    TEXT NOT NULL,
            target    TEXT NOT NULL,
            before    TEXT,
            after     TEXT,
            address   TEXT
        );
        CREATE INDEX audit_at ON audit(at);
        "#,
        ),
        M::up(
            r#"
        CREATE TABLE queue_calls (
            id               INTEGER PRIMARY KEY,
            uniqueid         TEXT NOT NULL,
            queue            TEXT NOT NULL,
            caller_number    TEXT NOT NULL,
            caller_name      TEXT NOT NULL,
            joined_at        INTEGER NOT NULL,
            answered_at      INTEGER,
            agent_interface  TEXT,
            agent_name       TEXT,
            ended_at         INTEGER,
            hold_seconds     INTEGER,
            talk_seconds     INTEGER,
            outcome          TEXT CHECK (outcome IN ('answered', 'abandoned', 'timeout', 'other')),
            UNIQUE (uniqueid, queue)
        );
        CREATE INDEX queue_calls_joined ON queue_calls(joined_at);
        CREATE INDEX queue_calls_queue ON queue_calls(queue, joined_at);
        CREATE TABLE queue_stats_epoch (
            queue  TEXT PRIMARY KEY,
            since  INTEGER NOT NULL
        );
        CREATE TABLE recordings (
            id           INTEGER PRIMARY KEY,
            uniqueid     TEXT NOT NULL,
            path         TEXT NOT NULL UNIQUE,
            started_at   INTEGER NOT NULL,
            queue        TEXT
        );
        CREATE INDEX recordings_started ON recordings(started_at);
        "#,
        ),
        M::up(
            r#"
        CREATE TABLE agents (
            id                  INTEGER PRIMARY KEY,
            name                TEXT NOT NULL,
            job_number          TEXT NOT NULL UNIQUE,
            leader              INTEGER NOT NULL DEFAULT 0,
            extension           TEXT NOT NULL UNIQUE,
            extension_password  TEXT NOT NULL,
            extension_type      TEXT NOT NULL CHECK (extension_type IN ('web', 'sip', 'analog')),
            created_at          INTEGER NOT NULL,
            updated_at          INTEGER NOT NULL
        );
        CREATE TABLE pbx_extensions (
            extension   TEXT PRIMARY KEY,
            interface   TEXT NOT NULL,
            technology  TEXT NOT NULL,
            seen_at     INTEGER NOT NULL
        );
        CREATE TABLE queue_settings (
            queue             TEXT PRIMARY KEY,
            display_name      TEXT,
            strategy          TEXT,
            strategy_pending  INTEGER NOT NULL DEFAULT 0,
            updated_at        INTEGER NOT NULL
        );
        CREATE TABLE queue_members (
            queue     TEXT NOT NULL,
            agent_id  INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
            added_at  INTEGER NOT NULL,
            PRIMARY KEY (queue, agent_id)
        );
        CREATE INDEX oplog_agent ON oplog(job_number);
        "#,
        ),
        // Voice prompts (语音管理, branch audio): `name` is the ASCII file stem Asterisk and
        // the call-flow settings refer to, `display_name` what the administrator called it.
        M::up(
            r#"
        CREATE TABLE prompts (
            name           TEXT PRIMARY KEY,
            display_name   TEXT NOT NULL UNIQUE,
            file_name      TEXT NOT NULL UNIQUE,
            source_format  TEXT NOT NULL CHECK (source_format IN ('mp3', 'wav', 'browser', 'tts')),
            size_bytes     INTEGER NOT NULL,
            duration_ms    INTEGER NOT NULL,
            created_at     INTEGER NOT NULL
        );
        "#,
        ),
    ])
}

pub fn apply(conn: &mut Connection) -> Result<(), rusqlite_migration::Error> {
    steps().to_latest(conn)
}

#[cfg(test)]
pub fn validate() {
    steps().validate().unwrap();
}
