-- gemini_service_nodes: the seed's node registry (same table name and columns, so a seed gateway
-- still reads it) plus ours. Creates the table, or upgrades a seed-made one in place: the seed's
-- gateway created it through SQLAlchemy with loose types, nullable columns and naive timestamps.

CREATE TABLE IF NOT EXISTS gemini_service_nodes (
  node_url text PRIMARY KEY,
  worker_id text NOT NULL,
  weight double precision NOT NULL DEFAULT 1,
  status text NOT NULL DEFAULT 'INIT',
  last_heartbeat timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  dispatched_tasks integer NOT NULL DEFAULT 0,
  current_tasks integer NOT NULL DEFAULT 0
);

ALTER TABLE gemini_service_nodes
  ADD COLUMN IF NOT EXISTS worker_id text,
  ADD COLUMN IF NOT EXISTS weight double precision,
  ADD COLUMN IF NOT EXISTS status text,
  ADD COLUMN IF NOT EXISTS last_heartbeat timestamptz,
  ADD COLUMN IF NOT EXISTS created_at timestamptz,
  ADD COLUMN IF NOT EXISTS dispatched_tasks integer,
  ADD COLUMN IF NOT EXISTS current_tasks integer,
  ADD COLUMN IF NOT EXISTS account text,
  ADD COLUMN IF NOT EXISTS cooldown_until timestamptz,
  ADD COLUMN IF NOT EXISTS cooldown_reason text,
  ADD COLUMN IF NOT EXISTS login_state text,
  ADD COLUMN IF NOT EXISTS version text,
  ADD COLUMN IF NOT EXISTS models text[],
  ADD COLUMN IF NOT EXISTS queue_waiting integer;

-- The seed wrote naive local times from containers running TZ=Asia/Shanghai. Reading them as
-- Shanghai time is right for those; for a seed that ran in UTC it makes rows look older, never
-- newer, so a dead node can never look fresh after the upgrade.
DO $$
DECLARE
  col text;
BEGIN
  FOREACH col IN ARRAY ARRAY['last_heartbeat', 'created_at'] LOOP
    IF EXISTS (
      SELECT 1 FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'gemini_service_nodes'
        AND column_name = col AND data_type = 'timestamp without time zone'
    ) THEN
      EXECUTE format(
        'ALTER TABLE gemini_service_nodes ALTER COLUMN %I TYPE timestamptz USING %I AT TIME ZONE %L',
        col, col, 'Asia/Shanghai');
    END IF;
  END LOOP;
END
$$;

ALTER TABLE gemini_service_nodes
  ALTER COLUMN node_url TYPE text,
  ALTER COLUMN worker_id TYPE text,
  ALTER COLUMN weight TYPE double precision,
  ALTER COLUMN status TYPE text,
  ALTER COLUMN dispatched_tasks TYPE integer,
  ALTER COLUMN current_tasks TYPE integer;

DELETE FROM gemini_service_nodes WHERE node_url IS NULL;

UPDATE gemini_service_nodes SET
  worker_id = coalesce(worker_id, node_url),
  weight = coalesce(weight, 1),
  status = coalesce(status, 'INIT'),
  last_heartbeat = coalesce(last_heartbeat, created_at, now()),
  created_at = coalesce(created_at, last_heartbeat, now()),
  dispatched_tasks = coalesce(dispatched_tasks, 0),
  current_tasks = coalesce(current_tasks, 0),
  login_state = coalesce(login_state, 'unknown'),
  models = coalesce(models, '{}'),
  queue_waiting = coalesce(queue_waiting, 0)
WHERE worker_id IS NULL OR weight IS NULL OR status IS NULL OR last_heartbeat IS NULL
  OR created_at IS NULL OR dispatched_tasks IS NULL OR current_tasks IS NULL
  OR login_state IS NULL OR models IS NULL OR queue_waiting IS NULL;

ALTER TABLE gemini_service_nodes
  ALTER COLUMN node_url SET NOT NULL,
  ALTER COLUMN worker_id SET NOT NULL,
  ALTER COLUMN weight SET DEFAULT 1,
  ALTER COLUMN weight SET NOT NULL,
  ALTER COLUMN status SET DEFAULT 'INIT',
  ALTER COLUMN status SET NOT NULL,
  ALTER COLUMN last_heartbeat SET DEFAULT now(),
  ALTER COLUMN last_heartbeat SET NOT NULL,
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN created_at SET NOT NULL,
  ALTER COLUMN dispatched_tasks SET DEFAULT 0,
  ALTER COLUMN dispatched_tasks SET NOT NULL,
  ALTER COLUMN current_tasks SET DEFAULT 0,
  ALTER COLUMN current_tasks SET NOT NULL,
  ALTER COLUMN login_state SET DEFAULT 'unknown',
  ALTER COLUMN login_state SET NOT NULL,
  ALTER COLUMN models SET DEFAULT '{}',
  ALTER COLUMN models SET NOT NULL,
  ALTER COLUMN queue_waiting SET DEFAULT 0,
  ALTER COLUMN queue_waiting SET NOT NULL;

-- A seed table made without a primary key would break the heartbeat's ON CONFLICT upsert:
-- keep the freshest row of each node_url and add the key.
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_constraint
    WHERE conrelid = 'gemini_service_nodes'::regclass AND contype = 'p'
  ) THEN
    DELETE FROM gemini_service_nodes a USING gemini_service_nodes b
      WHERE a.node_url = b.node_url
        AND (a.last_heartbeat, a.ctid) < (b.last_heartbeat, b.ctid);
    ALTER TABLE gemini_service_nodes ADD PRIMARY KEY (node_url);
  END IF;
END
$$;

CREATE INDEX IF NOT EXISTS gemini_service_nodes_account_idx ON gemini_service_nodes (account);
