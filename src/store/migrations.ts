/**
 * Numbered schema migrations, applied in order at start inside one transaction each.
 * Never edit a released migration: add the next number.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'jobs, events, allocations, logs',
    sql: `
      CREATE TABLE jobs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT    NOT NULL,
        user            TEXT    NOT NULL,
        state           TEXT    NOT NULL,
        reason          TEXT    NOT NULL DEFAULT 'None',
        partition       TEXT    NOT NULL,
        description     TEXT    NOT NULL,   -- JSON JobDescription without script/environment
        script          TEXT    NOT NULL,
        argv            TEXT    NOT NULL,   -- JSON string[]
        runtime         TEXT    NOT NULL,
        environment     TEXT    NOT NULL,   -- JSON object
        submit_time     INTEGER NOT NULL,
        start_time      INTEGER,
        end_time        INTEGER,
        time_limit      INTEGER,            -- minutes; NULL = UNLIMITED
        nice            INTEGER NOT NULL DEFAULT 0,
        backend_id      TEXT,
        node_list       TEXT,
        num_nodes       INTEGER NOT NULL DEFAULT 0,
        exit_code       INTEGER,
        exit_signal     TEXT,
        end_intent      TEXT,
        command_line    TEXT,               -- JSON string[]
        updated_time    INTEGER NOT NULL
      );
      CREATE INDEX jobs_state ON jobs(state, submit_time);
      CREATE INDEX jobs_user ON jobs(user, submit_time);
      CREATE INDEX jobs_end_time ON jobs(end_time);

      CREATE TABLE job_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        time        INTEGER NOT NULL,
        from_state  TEXT,
        to_state    TEXT,
        reason      TEXT    NOT NULL,
        actor       TEXT    NOT NULL
      );
      CREATE INDEX job_events_job ON job_events(job_id, id);

      CREATE TABLE allocations (
        job_id       INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
        backend      TEXT    NOT NULL,
        backend_id   TEXT    NOT NULL,
        partition    TEXT    NOT NULL,
        node_list    TEXT    NOT NULL,
        nodes        TEXT    NOT NULL,      -- JSON AllocatedNode[]
        granted_time INTEGER NOT NULL,
        end_time     INTEGER,               -- backend's end (time limit); NULL = none
        released_time INTEGER
      );

      CREATE TABLE log_lines (
        id      INTEGER PRIMARY KEY,
        job_id  INTEGER NOT NULL,
        seq     INTEGER NOT NULL,
        ts      INTEGER NOT NULL,
        source  TEXT    NOT NULL,
        line    TEXT    NOT NULL
      );
      CREATE UNIQUE INDEX log_lines_job_seq ON log_lines(job_id, seq);

      -- where each tailed file was read up to, stored in the same transaction as its lines
      CREATE TABLE log_offsets (
        job_id  INTEGER NOT NULL,
        source  TEXT    NOT NULL,
        path    TEXT    NOT NULL,
        offset  INTEGER NOT NULL,
        PRIMARY KEY (job_id, source)
      );
    `,
  },
  {
    version: 2,
    name: 'log levels, line-id floor for the search index',
    sql: `
      -- 1 error, 2 warn, 3 info, 4 debug; NULL when the line has no recognisable marker
      -- (derived at ingest by log-store.ts lineLevel; lines stored before this migration stay NULL)
      ALTER TABLE log_lines ADD COLUMN level INTEGER;

      -- the first error-like lines of a job (report) without scanning all its lines
      CREATE INDEX log_lines_errors ON log_lines(job_id, seq) WHERE level = 1 OR source = 'stderr';

      -- key/value counters of the log store. 'id_floor': the highest log_lines.id ever used,
      -- kept when retention deletes lines, so ids are never reused (the search index is keyed
      -- by id and indexes ids above a high-water mark: a reused id would be missed or misfiled)
      CREATE TABLE log_meta (
        key    TEXT PRIMARY KEY,
        value  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'the pending queue as indexes: eligibility, begin times, dependents, arrays',
    sql: `
      -- NULL: the job may be dispatched; else the GRM reason it waits on without being
      -- looked at by a pass (JobHeldUser, JobHeldAdmin, BeginTime, Dependency,
      -- DependencyNeverSatisfied): a pass reads only the head of the eligible queue.
      ALTER TABLE jobs ADD COLUMN blocked TEXT;
      -- --begin (ms), --dependency and -H as columns: the queue never parses a description.
      ALTER TABLE jobs ADD COLUMN begin_time INTEGER;
      ALTER TABLE jobs ADD COLUMN dependency TEXT;
      -- arrays: a task row has array_job_id = the array's id and its index; the array's own
      -- row (id = array_job_id) holds the indices not yet started until one is left, then it
      -- becomes that last task, as slurmctld's meta record does.
      ALTER TABLE jobs ADD COLUMN array_job_id INTEGER;
      ALTER TABLE jobs ADD COLUMN array_task_id INTEGER;
      ALTER TABLE jobs ADD COLUMN array_tasks TEXT;
      ALTER TABLE jobs ADD COLUMN array_max_running INTEGER;
      ALTER TABLE jobs ADD COLUMN array_task_count INTEGER;

      UPDATE jobs SET
        dependency = json_extract(description, '$.dependency'),
        begin_time = CAST((julianday(json_extract(description, '$.begin_time')) - 2440587.5) * 86400000 AS INTEGER)
      WHERE state = 'PENDING';
      -- pending jobs of an older daemon are re-checked by the first pass (Dependency is
      -- re-evaluated at start; a passed begin time is released by the begin-time sweep)
      UPDATE jobs SET blocked = CASE
          WHEN begin_time IS NOT NULL THEN 'BeginTime'
          WHEN dependency IS NOT NULL THEN 'Dependency'
        END
      WHERE state = 'PENDING';

      -- the eligible queue in priority order: the head is one index seek away
      CREATE INDEX jobs_ready ON jobs(nice, submit_time, id) WHERE state = 'PENDING' AND blocked IS NULL;
      -- begin-time wake-ups: the earliest is the first entry (the timer heap, on disk)
      CREATE INDEX jobs_begin ON jobs(begin_time) WHERE state = 'PENDING' AND blocked = 'BeginTime';
      -- jobs waiting on dependencies, found from the job they wait on
      CREATE TABLE job_dependencies (
        depends_on INTEGER NOT NULL,
        job_id     INTEGER NOT NULL,
        PRIMARY KEY (depends_on, job_id)
      ) WITHOUT ROWID;
      -- singleton dependencies and the active jobs they wait for
      CREATE INDEX jobs_user_name ON jobs(user, name);
      CREATE INDEX jobs_array ON jobs(array_job_id, state) WHERE array_job_id IS NOT NULL;
      CREATE INDEX jobs_state_id ON jobs(state, id);
    `,
  },
  {
    version: 4,
    name: 'requeue: how many times a job went back to the queue',
    sql: `
      -- scontrol requeue: SLURM's Restarts, and SLURM_RESTART_COUNT for the next run
      ALTER TABLE jobs ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 5,
    name: 'users, their tokens (hashes only), the audit log',
    sql: `
      CREATE TABLE users (
        name          TEXT    PRIMARY KEY,
        role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
        accounts      TEXT    NOT NULL DEFAULT '[]',  -- JSON string[]; the first is the default
        enabled       INTEGER NOT NULL DEFAULT 1,
        uid           INTEGER,                        -- run-as mapping; NULL = unmapped
        gid           INTEGER,
        groups        TEXT,                           -- JSON number[] (supplementary gids)
        created_time  INTEGER NOT NULL,
        created_by    TEXT    NOT NULL
      );

      -- a token is never stored: only the hex SHA-256 of its text (see src/users/tokens.ts)
      CREATE TABLE user_tokens (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        user            TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        hash            TEXT    NOT NULL UNIQUE,
        created_time    INTEGER NOT NULL,
        expires_time    INTEGER,                      -- NULL = never
        revoked_time    INTEGER,
        last_used_time  INTEGER
      );
      CREATE INDEX user_tokens_user ON user_tokens(user, id);

      -- authentication failures (coalesced: see src/users/audit-log.ts) and admin actions
      CREATE TABLE audit (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        time       INTEGER NOT NULL,
        last_time  INTEGER NOT NULL,
        count      INTEGER NOT NULL DEFAULT 1,
        actor      TEXT,                              -- NULL: not authenticated
        action     TEXT    NOT NULL,
        target     TEXT,
        outcome    TEXT    NOT NULL,
        remote     TEXT
      );
      CREATE INDEX audit_failures ON audit(id) WHERE action = 'auth.fail';
    `,
  },
  {
    version: 6,
    name: 'training metrics read from job output',
    sql: `
      -- written in the transaction of the log lines they were read from (src/store/log-store.ts):
      -- after a crash, a tail resumes past both, so no point is lost or doubled. Kept when
      -- retention drops the lines: a curve is small and outlives its log.
      CREATE TABLE job_metrics (
        id      INTEGER PRIMARY KEY,
        job_id  INTEGER NOT NULL,
        name    TEXT    NOT NULL,
        step    INTEGER NOT NULL,
        rank    INTEGER NOT NULL,
        value   REAL    NOT NULL,
        ts      INTEGER NOT NULL
      );
      CREATE INDEX job_metrics_job ON job_metrics(job_id, id);
    `,
  },
  {
    version: 7,
    name: "log lines' task rank (srun --label)",
    sql: `
      -- NULL: a line no task rank was read from (GRM's own lines, output without a label)
      ALTER TABLE log_lines ADD COLUMN rank INTEGER;
      CREATE INDEX log_lines_rank ON log_lines(job_id, rank, seq) WHERE rank IS NOT NULL;
    `,
  },
  {
    version: 8,
    name: 'queue policy: job priority in the queue order, decayed fair-share usage',
    sql: `
      -- src/policy/priority.ts; 1 = every weight 0 (the default): the order is then nice, submit time
      ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
      DROP INDEX jobs_ready;
      CREATE INDEX jobs_ready ON jobs(priority DESC, nice, submit_time, id) WHERE state = 'PENDING' AND blocked IS NULL;
      -- CPU-seconds charged to an association ("account/user") or account, valued at as_of
      CREATE TABLE fairshare_usage (
        assoc TEXT PRIMARY KEY,
        value REAL NOT NULL,
        as_of INTEGER NOT NULL
      );
      -- when the running jobs were last charged (one row): a restart charges them from here
      CREATE TABLE policy_state (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        charged_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'queue policy: limits changed at run time (sacctmgr modify)',
    sql: `
      -- the whole limit set of an account, a user association ("account/user") or a QOS, as last
      -- set by an admin; it replaces the configuration's for that scope
      CREATE TABLE policy_limits (
        kind   TEXT NOT NULL CHECK (kind IN ('account', 'user', 'qos')),
        name   TEXT NOT NULL,
        limits TEXT NOT NULL,
        PRIMARY KEY (kind, name)
      );
    `,
  },
  {
    version: 10,
    name: 'jobs by state and partition (/metrics)',
    sql: `
      -- a covering index: a scrape counts every job by state and partition without reading a row
      -- (100,000 jobs: 20 ms instead of 90-200 ms, src/store/stats-store.ts)
      CREATE INDEX jobs_state_partition ON jobs(state, partition);
    `,
  },
  {
    version: 11,
    name: "log lines' run (a requeued job's runs kept apart)",
    sql: `
      -- the job's restart count when the line was stored: run 0 is the first run
      ALTER TABLE log_lines ADD COLUMN run INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 12,
    name: "the simulator's node states (drained, down) across restarts",
    sql: `
      CREATE TABLE node_states (
        name   TEXT PRIMARY KEY,
        state  TEXT NOT NULL CHECK (state IN ('drained', 'down')),
        reason TEXT
      );
    `,
  },
];
