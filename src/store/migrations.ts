import { sql, type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { StoreDialect } from './db.ts';

/**
 * One schema for SQLite and PostgreSQL. Migrations are written once with Kysely's schema builder;
 * only the append-only triggers differ by dialect.
 */
function migrations(dialect: StoreDialect): Record<string, Migration> {
  return {
    '0001_foundation': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('orgs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('time_zone', 'text', (c) => c.notNull())
          .addColumn('currency', 'text', (c) => c.notNull())
          .addColumn('country_code', 'text', (c) => c.notNull())
          .addColumn('zgid', 'text', (c) => c.notNull().unique())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createTable('profiles')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('is_admin', 'integer', (c) => c.notNull())
          .addColumn('custom', 'integer', (c) => c.notNull())
          .addColumn('permissions', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('modified_at', 'bigint', (c) => c.notNull())
          .addColumn('created_by', 'text')
          .addColumn('modified_by', 'text')
          .addUniqueConstraint('profiles_org_name', ['org_id', 'name'])
          .execute();
        await db.schema.createTable('roles')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('reporting_to', 'text')
          .addColumn('share_with_peers', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('modified_at', 'bigint', (c) => c.notNull())
          .addColumn('created_by', 'text')
          .addColumn('modified_by', 'text')
          .addUniqueConstraint('roles_org_name', ['org_id', 'name'])
          .execute();
        await db.schema.createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('first_name', 'text')
          .addColumn('last_name', 'text', (c) => c.notNull())
          .addColumn('email', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('role_id', 'text', (c) => c.notNull())
          .addColumn('profile_id', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text')
          .addColumn('time_zone', 'text', (c) => c.notNull())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('modified_at', 'bigint', (c) => c.notNull())
          .addColumn('created_by', 'text')
          .addColumn('modified_by', 'text')
          .addUniqueConstraint('users_org_email', ['org_id', 'email'])
          .execute();
        await db.schema.createTable('records')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('module', 'text', (c) => c.notNull())
          .addColumn('name', 'text')
          .addColumn('owner_id', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('parent_module', 'text')
          .addColumn('parent_id', 'text')
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('modified_by', 'text', (c) => c.notNull())
          .addColumn('modified_at', 'bigint', (c) => c.notNull())
          .addColumn('deleted_at', 'bigint')
          .addColumn('deleted_by', 'text')
          .addColumn('delete_batch', 'text')
          .execute();
        await db.schema.createIndex('records_org_module_id').on('records').columns(['org_id', 'module', 'id']).execute();
        await db.schema.createIndex('records_org_module_modified').on('records')
          .columns(['org_id', 'module', 'modified_at']).execute();
        await db.schema.createIndex('records_parent').on('records').columns(['org_id', 'parent_id']).execute();
        await db.schema.createTable('audit_entries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('audited_at', 'bigint', (c) => c.notNull())
          .addColumn('actor_type', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text')
          .addColumn('actor_name', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('module', 'text')
          .addColumn('record_id', 'text')
          .addColumn('record_name', 'text')
          .addColumn('parent_module', 'text')
          .addColumn('parent_id', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('batch_id', 'text')
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addUniqueConstraint('audit_entries_org_seq', ['org_id', 'seq'])
          .execute();
        await db.schema.createIndex('audit_org_time').on('audit_entries').columns(['org_id', 'audited_at', 'seq']).execute();
        await db.schema.createIndex('audit_org_record').on('audit_entries').columns(['org_id', 'record_id', 'seq']).execute();
        await db.schema.createIndex('audit_org_actor').on('audit_entries').columns(['org_id', 'actor_id', 'audited_at', 'seq']).execute();
        await db.schema.createIndex('audit_org_parent').on('audit_entries').columns(['org_id', 'parent_id', 'seq']).execute();
        await db.schema.createTable('audit_heads')
          .addColumn('org_id', 'text', (c) => c.primaryKey())
          .addColumn('last_seq', 'bigint', (c) => c.notNull())
          .addColumn('last_hash', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('audit_purge_permits')
          .addColumn('org_id', 'text', (c) => c.primaryKey())
          .addColumn('granted_at', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createTable('oauth_clients')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull().unique())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('redirect_uri', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .execute();
        await db.schema.createTable('oauth_tokens')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('refresh_hash', 'text')
          .addColumn('expires_at', 'bigint')
          .addColumn('revoked_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createTable('kv')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('oauth_tokens_refresh').on('oauth_tokens').column('refresh_hash').execute();

        // Invariant 2: the database itself refuses to change or remove audit entries. Only the
        // retention purge may delete, and only while it holds a permit row for that organisation.
        if (dialect === 'sqlite') {
          await sql`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END`.execute(db);
          await sql`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
            WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permits p WHERE p.org_id = OLD.org_id)
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END`.execute(db);
        } else {
          await sql`CREATE FUNCTION audit_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_purge_permits p WHERE p.org_id = OLD.org_id) THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION 'audit entries are append-only';
            END $$`.execute(db);
          await sql`CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION audit_entries_guard()`.execute(db);
          await sql`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
            FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_guard()`.execute(db);
        }
      },
    },
    '0002_integrity': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('integrity_keys')
          .addColumn('key_id', 'text', (c) => c.primaryKey())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createTable('audit_checkpoints')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('cutoff', 'bigint', (c) => c.notNull())
          .addColumn('purged', 'bigint', (c) => c.notNull())
          .addColumn('prev_signature', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('key_id', 'text', (c) => c.notNull())
          .addColumn('signature', 'text', (c) => c.notNull())
          .addUniqueConstraint('audit_checkpoints_org_seq', ['org_id', 'seq'])
          .execute();
      },
    },
    '0003_jobs_exports': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('run_after', 'bigint', (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_expires_at', 'bigint')
          .addColumn('progress_done', 'bigint', (c) => c.notNull())
          .addColumn('progress_total', 'bigint')
          .addColumn('result', 'text')
          .addColumn('error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('jobs_claim').on('jobs').columns(['status', 'run_after']).execute();
        await db.schema.createTable('audit_exports')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('criteria', 'text')
          .addColumn('resolved', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('started_at', 'bigint')
          .addColumn('finished_at', 'bigint')
          .addColumn('expires_at', 'bigint')
          .addColumn('files', 'text')
          .addColumn('entry_count', 'bigint')
          .addColumn('truncated', 'integer', (c) => c.notNull())
          .addColumn('removed_at', 'bigint')
          .execute();
        await db.schema.createIndex('audit_exports_org').on('audit_exports').columns(['org_id', 'created_at']).execute();
        await db.schema.createTable('blobs')
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('chunk', 'integer', (c) => c.notNull())
          .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
          .addPrimaryKeyConstraint('blobs_pk', ['key', 'chunk'])
          .execute();
      },
    },
    '0004_recycle_bin': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('records').addColumn('converted_at', 'bigint').execute();
        await db.schema.alterTable('records').addColumn('converted_by', 'text').execute();
        await db.schema.createIndex('records_org_deleted').on('records').columns(['org_id', 'deleted_at']).execute();
        await db.schema.createIndex('records_org_batch').on('records').columns(['org_id', 'delete_batch']).execute();
        await db.schema.createTable('tombstones')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('module', 'text', (c) => c.notNull())
          .addColumn('deleted_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('tombstones_org_module').on('tombstones').columns(['org_id', 'module', 'deleted_at']).execute();
      },
    },
    '0005_signed_heads': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('signed_heads')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('signed_at', 'bigint', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text', (c) => c.notNull())
          .addColumn('signature', 'text', (c) => c.notNull())
          .execute();
        if (dialect === 'postgres') {
          await sql`CREATE FUNCTION append_only_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`.execute(db);
        }
        await db.schema.createIndex('signed_heads_org_seq').on('signed_heads').columns(['org_id', 'seq']).execute();
        // Signed heads and retention checkpoints vouch for the chain: like the entries, the
        // database refuses to change or remove them.
        for (const table of ['signed_heads', 'audit_checkpoints']) {
          if (dialect === 'sqlite') {
            await sql.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
              BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END`).execute(db);
            await sql.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
              BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END`).execute(db);
          } else {
            await sql.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
              FOR EACH ROW EXECUTE FUNCTION append_only_guard()`).execute(db);
            await sql.raw(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
              FOR EACH STATEMENT EXECUTE FUNCTION append_only_guard()`).execute(db);
          }
        }
      },
    },
    '0006_abuse_limits': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('rate_limits')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('window_start', 'bigint', (c) => c.notNull())
          .addColumn('count', 'bigint', (c) => c.notNull())
          .addColumn('locked_until', 'bigint')
          .execute();
        await db.schema.createIndex('rate_limits_window').on('rate_limits').column('window_start').execute();
        await db.schema.createTable('login_failure_tallies')
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('minute_start', 'bigint', (c) => c.notNull())
          .addColumn('attempts', 'bigint', (c) => c.notNull())
          .addColumn('last_ip', 'text')
          .addPrimaryKeyConstraint('login_failure_tallies_pk', ['org_id', 'client_id', 'minute_start'])
          .execute();
      },
    },
    '0007_console_sessions': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('console_sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('csrf_token', 'text', (c) => c.notNull())
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .execute();
        await db.schema.createIndex('console_sessions_user').on('console_sessions').columns(['org_id', 'user_id']).execute();
      },
    },
    '0008_tombstone_names': {
      async up(db: Kysely<unknown>) {
        for (const column of ['name', 'deleted_by', 'created_by']) {
          await db.schema.alterTable('tombstones').addColumn(column, 'text').execute();
        }
        // What earlier versions dropped, the audit log still knows: the permanent deletion's entry
        // names the record and who removed it (a merge's entry names the surviving record instead).
        await sql`UPDATE tombstones SET
          name = (SELECT e.record_name FROM audit_entries e WHERE e.org_id = tombstones.org_id AND e.record_id = tombstones.id
            AND e.action = 'permanently_deleted' ORDER BY e.seq DESC LIMIT 1),
          deleted_by = (SELECT e.actor_id FROM audit_entries e WHERE e.org_id = tombstones.org_id AND e.record_id = tombstones.id
            AND e.action = 'permanently_deleted' ORDER BY e.seq DESC LIMIT 1)`.execute(db);
      },
    },
    '0012_findings': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('findings')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          // The detector's name for the finding (kind and first entry): a later scan extends the same row.
          .addColumn('finding_key', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('user_name', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint', (c) => c.notNull())
          .addColumn('explanation', 'text', (c) => c.notNull())
          .addColumn('entry_ids', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('acknowledged_at', 'bigint')
          .addColumn('acknowledged_by', 'text')
          .addColumn('acknowledged_by_name', 'text')
          .addColumn('acknowledgement_note', 'text')
          .addUniqueConstraint('findings_org_key', ['org_id', 'finding_key'])
          .execute();
        await db.schema.createIndex('findings_org_started').on('findings').columns(['org_id', 'started_at']).execute();
        // Per organisation: the detectors' baselines and open episodes (JSON), and the last entry scanned.
        await db.schema.createTable('finding_detector_state')
          .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id'))
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('finding_scan_cursor', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createTable('finding_settings')
          .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id'))
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0011_reports': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('saved_reports')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('owner_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('query', 'text', (c) => c.notNull())
          .addColumn('schedule', 'text')
          .addColumn('schedule_set_at', 'bigint')
          .addColumn('delivery', 'text', (c) => c.notNull())
          .addColumn('webhook_secret', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('saved_reports_org').on('saved_reports').columns(['org_id', 'owner_id']).execute();
        await db.schema.createTable('report_runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('report_id', 'text', (c) => c.notNull())
          .addColumn('period_start', 'bigint', (c) => c.notNull())
          .addColumn('range_from', 'bigint', (c) => c.notNull())
          .addColumn('range_to', 'bigint', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('row_count', 'bigint')
          .addColumn('delivery', 'text', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .execute();
        // One run per report and period, however many workers or retries.
        await db.schema.createIndex('report_runs_period').on('report_runs').columns(['org_id', 'report_id', 'period_start']).unique().execute();
      },
    },
    '0010_alerts': {
      async up(db: Kysely<unknown>) {
        // Where each consumer of the chain (alerts, later findings and streams) has got to in each
        // organisation: the last sequence number it processed, advanced in the transaction that
        // records what it produced.
        await db.schema.createTable('consumer_cursors')
          .addColumn('consumer', 'text', (c) => c.notNull())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('last_seq', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('consumer_cursors_pk', ['consumer', 'org_id'])
          .execute();
        await db.schema.createTable('alert_rules')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('conditions', 'text', (c) => c.notNull())
          .addColumn('actions', 'text', (c) => c.notNull())
          .addColumn('quiet_minutes', 'integer')
          .addColumn('secret', 'text')
          .addColumn('owner_id', 'text')
          .addColumn('created_seq', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('modified_at', 'bigint', (c) => c.notNull())
          .addColumn('created_by', 'text')
          .addColumn('modified_by', 'text')
          .addUniqueConstraint('alert_rules_org_name', ['org_id', 'name'])
          .execute();
        await db.schema.createTable('alert_deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('rule_id', 'text', (c) => c.notNull())
          .addColumn('entry_id', 'text')
          .addColumn('entry_seq', 'bigint')
          .addColumn('action_index', 'integer', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('idempotency_key', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('test', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .execute();
        await db.schema.createIndex('alert_deliveries_due').on('alert_deliveries').columns(['status', 'next_attempt_at']).execute();
        await db.schema.createIndex('alert_deliveries_org').on('alert_deliveries').columns(['org_id', 'created_at']).execute();
        await db.schema.createTable('alert_notifications')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('rule_id', 'text', (c) => c.notNull())
          .addColumn('owner_id', 'text')
          .addColumn('entry_id', 'text')
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('read_at', 'bigint')
          .execute();
        await db.schema.createIndex('alert_notifications_org').on('alert_notifications').columns(['org_id', 'created_at']).execute();
        // The last time a rule fired for a user: its quiet period runs from there.
        await db.schema.createTable('alert_quiet')
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('rule_id', 'text', (c) => c.notNull())
          .addColumn('user_key', 'text', (c) => c.notNull())
          .addColumn('fired_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('alert_quiet_pk', ['rule_id', 'user_key'])
          .execute();
      },
    },
    '0013_streams': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('streams')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
          .addColumn('owner_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('secrets', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('cursor_seq', 'bigint', (c) => c.notNull())
          .addColumn('last_sent_seq', 'bigint')
          .addColumn('delivered_count', 'bigint', (c) => c.notNull())
          .addColumn('last_delivered_at', 'bigint')
          .addColumn('failures', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('last_error_at', 'bigint')
          .addColumn('next_attempt_at', 'bigint')
          .addColumn('gap_from', 'bigint')
          .addColumn('gap_to', 'bigint')
          .addColumn('gap_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('modified_at', 'bigint', (c) => c.notNull())
          .addColumn('modified_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('streams_org').on('streams').columns(['org_id', 'created_at']).execute();
      },
    },
    // A delivery's payload (the entry as JSON, a kilobyte or more) moves to a table of its own: a
    // delivery row is updated twice (its claim, its outcome), and SQLite and PostgreSQL both
    // rewrite the whole row each time. The claim's order (due time, id) gets an index that serves
    // it, instead of sorting every due delivery on each claim.
    '0014_alert_delivery_payloads': {
      // Each step may run again: SQLite runs no DDL in a transaction here, so a process killed
      // half-way leaves some steps done, and the next start finishes the others.
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('alert_delivery_payloads').ifNotExists()
          .addColumn('delivery_id', 'text', (c) => c.primaryKey())
          .addColumn('payload', 'text', (c) => c.notNull())
          .execute();
        const table = (await db.introspection.getTables()).find((t) => t.name === 'alert_deliveries');
        if (table?.columns.some((c) => c.name === 'payload')) {
          await sql`INSERT INTO alert_delivery_payloads (delivery_id, payload) SELECT id, payload FROM alert_deliveries
            WHERE id NOT IN (SELECT delivery_id FROM alert_delivery_payloads)`.execute(db);
          await db.schema.alterTable('alert_deliveries').dropColumn('payload').execute();
        }
        await db.schema.dropIndex('alert_deliveries_due').ifExists().execute();
        await db.schema.createIndex('alert_deliveries_due').ifNotExists().on('alert_deliveries').columns(['status', 'next_attempt_at', 'id']).execute();
      },
    },
  };
}

const MIGRATION_TABLE = 'auditrail_migrations';

function migrator(db: Kysely<unknown>, dialect: StoreDialect) {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // Migrations are numbered per feature branch and may land out of order (0011 released before
  // 0010): a database that ran the later one must still apply the earlier one when it arrives.
  // Each migration touches only its own tables, so the order between branches does not matter.
  return new Migrator({ db, provider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: 'auditrail_migrations_lock',
    allowUnorderedMigrations: true });
}

/** Brings the database to the current schema; returns the names of the migrations applied. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: StoreDialect): Promise<string[]> {
  const { error, results } = await migrator(db, dialect).migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Brings the database up to and including the named migration (tests of a migration's data changes). */
export async function migrateTo(db: Kysely<unknown>, dialect: StoreDialect, name: string): Promise<void> {
  const { error } = await migrator(db, dialect).migrateTo(name);
  if (error) throw error;
}

export interface SchemaStatus {
  /** Migrations this version has that the database has not run, oldest first. */
  pending: string[];
  /** Migrations the database has run that this version does not know (a newer auditrail wrote it). */
  unknown: string[];
}

/** Compares the database's schema with this version's, changing nothing (not even the migration tables). */
export async function schemaStatus(db: Kysely<unknown>, dialect: StoreDialect): Promise<SchemaStatus> {
  const known = await migrator(db, dialect).getMigrations();
  const pending = known.filter((m) => !m.executedAt).map((m) => m.name);
  if (pending.length === known.length) return { pending, unknown: [] };
  // Some ran, so the table exists: read it for names this version has never heard of.
  const names = new Set(known.map((m) => m.name));
  const ran = await (db as Kysely<Record<string, { name: string }>>).selectFrom(MIGRATION_TABLE).select('name').execute();
  return { pending, unknown: ran.map((r) => r.name).filter((n) => !names.has(n)) };
}
