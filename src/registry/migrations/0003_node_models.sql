-- What each node's account can use, from model discovery (otAQ7b): its tier, the account status
-- code, the models with their upstream ids, display names and aliases (the gateway routes a
-- request only to nodes that have its model), and the protocol drift the node has counted.
-- `models` (0001) keeps the plain names, so a seed-era reader still sees a list.

ALTER TABLE gemini_service_nodes
  ADD COLUMN IF NOT EXISTS tier text,
  ADD COLUMN IF NOT EXISTS account_status integer,
  ADD COLUMN IF NOT EXISTS model_details jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN IF NOT EXISTS protocol_drift jsonb NOT NULL DEFAULT '{}';
