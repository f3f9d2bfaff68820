-- A node an operator drains (the console's "Drain") takes no new request but finishes the ones in
-- flight; the worker writes the flag with every heartbeat and the gateway skips such nodes.
ALTER TABLE gemini_service_nodes
  ADD COLUMN IF NOT EXISTS draining boolean NOT NULL DEFAULT false;
