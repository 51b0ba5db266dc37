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
        M::up(
            r#"
        -- Recordings grow into the searchable index of manual §6. A file is named by its folder
        -- and name (reconcile compares one folder at a time); agent and queue are snapshots
        -- (a deleted agent's recordings keep their name); `available` is 0 while the USB disk
        -- holding the file is unplugged.
        CREATE TABLE recordings_v2 (
            id               INTEGER PRIMARY KEY,
            uniqueid         TEXT NOT NULL,
            dir              TEXT NOT NULL,
            file             TEXT NOT NULL,
            started_at       INTEGER NOT NULL,
            duration_ms      INTEGER,
            customer_number  TEXT NOT NULL DEFAULT '',
            customer_name    TEXT NOT NULL DEFAULT '',
            queue            TEXT,
            agent_job        TEXT,
            agent_name       TEXT,
            call_type        TEXT NOT NULL DEFAULT 'inbound'
                             CHECK (call_type IN ('inbound', 'auto_outbound', 'manual_outbound')),
            size_bytes       INTEGER,
            available        INTEGER NOT NULL DEFAULT 1,
            note             TEXT,
            note_by          TEXT,
            noted_at         INTEGER,
            UNIQUE (dir, file)
        );
        INSERT INTO recordings_v2 (id, uniqueid, dir, file, started_at, queue)
            SELECT id, uniqueid,
                   rtrim(rtrim(path, replace(path, '/', '')), '/'),
                   substr(path, length(rtrim(path, replace(path, '/', ''))) + 1),
                   started_at, queue
            FROM recordings;
        DROP TABLE recordings;
        ALTER TABLE recordings_v2 RENAME TO recordings;
        -- Newest first (a page stops after its rows), and, with queue and agent beside the
        -- time, the date range of a team leader's search counted from the index alone.
        CREATE INDEX recordings_started ON recordings(started_at, id);
        CREATE INDEX recordings_started_scope ON recordings(started_at, queue, agent_job);
        CREATE INDEX recordings_queue ON recordings(queue, started_at);
        CREATE INDEX recordings_agent ON recordings(agent_job, started_at);
        CREATE INDEX recordings_number ON recordings(customer_number, started_at);
        CREATE INDEX recordings_name ON recordings(customer_name, started_at);
        CREATE INDEX recordings_type ON recordings(call_type, started_at);
        CREATE INDEX recordings_uniqueid ON recordings(uniqueid);

        -- Fuzzy 客户 search: trigram full-text over number and name (substring matches).
        CREATE VIRTUAL TABLE recordings_fts USING fts5(
            customer_number, customer_name, content = 'recordings', content_rowid = 'id',
            tokenize = 'trigram'
        );
        INSERT INTO recordings_fts (rowid, customer_number, customer_name)
            SELECT id, customer_number, customer_name FROM recordings;
        CREATE TRIGGER recordings_fts_insert AFTER INSERT ON recordings BEGIN
            INSERT INTO recordings_fts (rowid, customer_number, customer_name)
            VALUES (new.id, new.customer_number, new.customer_name);
        END;
        CREATE TRIGGER recordings_fts_delete AFTER DELETE ON recordings BEGIN
            INSERT INTO recordings_fts (recordings_fts, rowid, customer_number, customer_name)
            VALUES ('delete', old.id, old.customer_number, old.customer_name);
        END;
        CREATE TRIGGER recordings_fts_update AFTER UPDATE OF customer_number, customer_name
        ON recordings BEGIN
            INSERT INTO recordings_fts (recordings_fts, rowid, customer_number, customer_name)
            VALUES ('delete', old.id, old.customer_number, old.customer_name);
            INSERT INTO recordings_fts (rowid, customer_number, customer_name)
            VALUES (new.id, new.customer_number, new.customer_name);
        END;

        -- Fuzzy 客户 search for one or two characters (a Chinese name is often two: 王芳),
        -- which trigrams cannot find: each name's characters and character pairs as tokens
        -- (`name_grams` in store::recordings), in a contentless table keyed by recording id.
        CREATE VIRTUAL TABLE recordings_names USING fts5(
            grams, content = '', contentless_delete = 1, tokenize = 'unicode61'
        );
        CREATE TRIGGER recordings_names_delete AFTER DELETE ON recordings BEGIN
            DELETE FROM recordings_names WHERE rowid = old.id;
        END;

        -- Which agents have recordings in which queue ('' = direct, no queue), kept by
        -- triggers: the filter lists and the leaders' 【删除】 entries come from this small
        -- table instead of a scan of a million rows, and so does the dashboard's count.
        CREATE TABLE recording_pairs (
            queue       TEXT NOT NULL,
            agent_job   TEXT NOT NULL,
            agent_name  TEXT NOT NULL,
            n           INTEGER NOT NULL,
            PRIMARY KEY (queue, agent_job)
        ) WITHOUT ROWID;
        INSERT INTO recording_pairs (queue, agent_job, agent_name, n)
            SELECT coalesce(queue, ''), coalesce(agent_job, ''), coalesce(max(agent_name), ''), COUNT(*)
            FROM recordings GROUP BY 1, 2;
        CREATE TRIGGER recording_pairs_insert AFTER INSERT ON recordings BEGIN
            INSERT INTO recording_pairs (queue, agent_job, agent_name, n)
            VALUES (coalesce(new.queue, ''), coalesce(new.agent_job, ''), coalesce(new.agent_name, ''), 1)
            ON CONFLICT (queue, agent_job) DO UPDATE SET n = n + 1,
                agent_name = CASE WHEN excluded.agent_name = '' THEN agent_name ELSE excluded.agent_name END;
        END;
        CREATE TRIGGER recording_pairs_delete AFTER DELETE ON recordings BEGIN
            UPDATE recording_pairs SET n = n - 1
            WHERE queue = coalesce(old.queue, '') AND agent_job = coalesce(old.agent_job, '');
            DELETE FROM recording_pairs WHERE n <= 0;
        END;
        CREATE TRIGGER recording_pairs_update AFTER UPDATE OF queue, agent_job, agent_name
        ON recordings BEGIN
            UPDATE recording_pairs SET n = n - 1
            WHERE queue = coalesce(old.queue, '') AND agent_job = coalesce(old.agent_job, '');
            DELETE FROM recording_pairs WHERE n <= 0;
            INSERT INTO recording_pairs (queue, agent_job, agent_name, n)
            VALUES (coalesce(new.queue, ''), coalesce(new.agent_job, ''), coalesce(new.agent_name, ''), 1)
            ON CONFLICT (queue, agent_job) DO UPDATE SET n = n + 1,
                agent_name = CASE WHEN excluded.agent_name = '' THEN agent_name ELSE excluded.agent_name END;
        END;

        -- Each recordings folder's modification time at the last reconcile: a folder whose
        -- time has not changed gained and lost no file, and is not listed again.
        CREATE TABLE recording_dirs (
            dir       TEXT PRIMARY KEY,
            mtime_ns  INTEGER NOT NULL
        ) WITHOUT ROWID;
        "#,
        ),
        // CRM: the custom table's attribute definitions (manual §9.3), the
        // customers they describe, outbound plans and service records (the data 删除数据
        // clears, §9.2), and the free-space alert state of the mail notification.
        M::up(
            r#"
        CREATE TABLE custom_fields (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            kind        TEXT NOT NULL CHECK (kind IN ('input', 'radio', 'checkbox', 'select', 'date', 'time', 'text')),
            options     TEXT NOT NULL DEFAULT '[]',
            priority    INTEGER NOT NULL,
            remark      TEXT NOT NULL DEFAULT '',
            visible     INTEGER NOT NULL DEFAULT 1,
            created_at  INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL
        );
        CREATE INDEX custom_fields_priority ON custom_fields(priority, id);
        CREATE TABLE customers (
            number             TEXT PRIMARY KEY,
            name               TEXT NOT NULL DEFAULT '',
            assigned_agent_id  INTEGER REFERENCES agents(id) ON DELETE SET NULL,
            attributes         TEXT NOT NULL DEFAULT '{}',
            created_at         INTEGER,
            updated_at         INTEGER
        );
        CREATE INDEX customers_agent ON customers(assigned_agent_id);
        CREATE TABLE outbound_plans (
            id             INTEGER PRIMARY KEY,
            queue          TEXT NOT NULL,
            number         TEXT NOT NULL,
            customer_name  TEXT NOT NULL DEFAULT '',
            scheduled_at   INTEGER,
            status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'called', 'failed')),
            created_at     INTEGER NOT NULL
        );
        CREATE INDEX outbound_plans_queue ON outbound_plans(queue, status);
        CREATE TABLE service_records (
            id               INTEGER PRIMARY KEY,
            uniqueid         TEXT,
            customer_number  TEXT NOT NULL,
            agent_id         INTEGER REFERENCES agents(id) ON DELETE SET NULL,
            queue            TEXT,
            content          TEXT NOT NULL DEFAULT '',
            created_at       INTEGER NOT NULL
        );
        CREATE INDEX service_records_customer ON service_records(customer_number, created_at);
        CREATE TABLE disk_alerts (
            mount        TEXT PRIMARY KEY,
            low          INTEGER NOT NULL,
            notified     INTEGER NOT NULL,
            changed_at   INTEGER NOT NULL
        );
        "#,
        ),
        // 满意度调查 results, one row per surveyed call (manual §9.2).
        M::up(
            r#"
        CREATE TABLE survey_results (
            id               INTEGER PRIMARY KEY,
            uniqueid         TEXT NOT NULL UNIQUE,
            queue            TEXT NOT NULL,
            agent_interface  TEXT NOT NULL,
            agent_id         INTEGER REFERENCES agents(id) ON DELETE SET NULL,
            agent_name       TEXT NOT NULL,
            job_number       TEXT NOT NULL,
            score            INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
            at               INTEGER NOT NULL
        );
        CREATE INDEX survey_results_at ON survey_results(at);
        "#,
        ),
        // Voice prompts (语音管理): `name` is the ASCII file stem Asterisk and the call-flow
        // settings refer to, `display_name` what the administrator called it.
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

/// Brings the schema to `version` only (tests of a later step's data migration).
#[cfg(test)]
pub fn apply_to(conn: &mut Connection, version: usize) {
    steps().to_version(conn, version).unwrap();
}

#[cfg(test)]
pub fn validate() {
    steps().validate().unwrap();
}
