import type { Db } from './db';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// Advisory lock keys (two int4s: "kbops", what) shared by every replica.
export const LOCK_NAMESPACE = 0x6b62; // "kb"
export const MIGRATION_LOCK = 1;
export const JOURNAL_LOCK = 2;
export const REPORT_LEVELS_LOCK = 3;

const ACTIVE = `('running', 'rolling_back')`;

/** Applied in order, each once, each in its own transaction. Never edit one that has shipped: add another. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, approvals, journal, locks',
    sql: `
      CREATE TABLE kbops_runs (
        id               text PRIMARY KEY,
        cluster          text NOT NULL,
        runbook          text NOT NULL,
        plan             jsonb NOT NULL,
        plan_hash        text NOT NULL,
        requester        text NOT NULL,
        state            text NOT NULL,
        next_step        integer NOT NULL DEFAULT 0,
        undo_next        integer,
        owner            text,
        lease_until      timestamptz,
        cancel_requested boolean NOT NULL DEFAULT false,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        expires_at       timestamptz,
        meta             jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      -- claimNext: what a worker may pick up, oldest first.
      CREATE INDEX kbops_runs_claimable ON kbops_runs (created_at, id)
        WHERE state = 'approved' OR (state = 'rolling_back' AND owner IS NULL);
      -- interruptOrphans and expireDue scan only the few runs they may act on.
      CREATE INDEX kbops_runs_active ON kbops_runs (lease_until) WHERE state IN ${ACTIVE};
      CREATE INDEX kbops_runs_expiring ON kbops_runs (expires_at)
        WHERE state IN ('awaiting_approval', 'approved') AND expires_at IS NOT NULL;
      -- listRuns: newest first, per cluster or per state.
      CREATE INDEX kbops_runs_by_cluster ON kbops_runs (cluster, created_at DESC, id DESC);
      CREATE INDEX kbops_runs_by_state ON kbops_runs (state, created_at DESC, id DESC);

      CREATE TABLE kbops_approvals (
        id        bigserial PRIMARY KEY,
        run_id    text NOT NULL REFERENCES kbops_runs (id),
        user_id   text NOT NULL,
        plan_hash text NOT NULL,
        decision  text NOT NULL CHECK (decision IN ('approve', 'reject')),
        at        timestamptz NOT NULL DEFAULT now(),
        UNIQUE (run_id, user_id, plan_hash)
      );

      -- No foreign key to runs: the journal also records runs that were refused and never stored.
      CREATE TABLE kbops_events (
        id     bigserial PRIMARY KEY,
        run_id text,
        cluster text NOT NULL,
        at     timestamptz NOT NULL DEFAULT now(),
        actor  text NOT NULL,
        type   text NOT NULL,
        data   jsonb NOT NULL
      );
      CREATE INDEX kbops_events_by_run ON kbops_events (run_id, id);
      CREATE INDEX kbops_events_by_cluster ON kbops_events (cluster, id);

      CREATE FUNCTION kbops_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'kbops_events is append-only: % is not allowed', TG_OP;
      END
      $$;
      CREATE TRIGGER kbops_events_no_change BEFORE UPDATE OR DELETE ON kbops_events
        FOR EACH ROW EXECUTE FUNCTION kbops_events_append_only();
      CREATE TRIGGER kbops_events_no_truncate BEFORE TRUNCATE ON kbops_events
        FOR EACH STATEMENT EXECUTE FUNCTION kbops_events_append_only();

      -- One lock per cluster. Deferred so createRun can take the lock before it inserts the run.
      CREATE TABLE kbops_locks (
        cluster     text PRIMARY KEY,
        run_id      text NOT NULL REFERENCES kbops_runs (id) DEFERRABLE INITIALLY DEFERRED,
        holder      text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'report schedules, slots, lag history, last levels',
    sql: `
      -- When a bot first saw each schedule: slots before it were never missed.
      CREATE TABLE kbops_report_schedules (
        schedule   text PRIMARY KEY,
        first_seen timestamptz NOT NULL
      );

      -- One row per scheduled slot: the claim that makes it posted by exactly one replica.
      CREATE TABLE kbops_report_slots (
        schedule    text NOT NULL,
        slot_at     timestamptz NOT NULL,
        state       text NOT NULL CHECK (state IN ('claimed', 'posted', 'failed', 'skipped')),
        owner       text,
        lease_until timestamptz,
        attempts    integer NOT NULL DEFAULT 0,
        note        text,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (schedule, slot_at),
        CHECK (state <> 'claimed' OR (owner IS NOT NULL AND lease_until IS NOT NULL))
      );

      -- The lag chart's history. The key makes a sample recorded twice one row, and serves
      -- lagHistory (cluster, at); the index on at serves pruning across clusters.
      CREATE TABLE kbops_lag_samples (
        cluster     text NOT NULL,
        at          timestamptz NOT NULL,
        standby     text NOT NULL,
        lag_bytes   bigint,
        lag_seconds double precision,
        PRIMARY KEY (cluster, at, standby)
      );
      CREATE INDEX kbops_lag_samples_by_at ON kbops_lag_samples (at);

      -- Each cluster's level in a schedule's last posted report ("green again" is said once).
      CREATE TABLE kbops_report_levels (
        schedule text NOT NULL,
        cluster  text NOT NULL,
        level    text NOT NULL CHECK (level IN ('green', 'amber', 'red')),
        at       timestamptz NOT NULL,
        PRIMARY KEY (schedule, cluster)
      );
    `,
  },
];

const LEDGER = `
  CREATE TABLE IF NOT EXISTS kbops_schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/**
 * Brings the schema up to date; returns the versions applied now (none when it already was).
 * The advisory lock makes a second replica starting at the same moment wait, then find nothing to do.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
      await tx.exec(LEDGER);
      const seen = await tx.query('SELECT 1 FROM kbops_schema_migrations WHERE version = $1', [m.version]);
      if (seen.rows.length > 0) return false;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO kbops_schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
