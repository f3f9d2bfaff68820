-- Conversation affinity for the gateway: a conversation (by conversation_id, or by the history key
-- of the messages before its last user message) continues on the node and account that hold it.
-- Shared by every gateway replica. Rows are upserted after each successful answer and pruned by
-- age (updated_at), hence the index.
create table if not exists gemini_conversation_bindings (
  key text primary key,
  node_url text not null,
  account text,
  updated_at timestamptz not null default now()
);

create index if not exists gemini_conversation_bindings_updated_at_idx
  on gemini_conversation_bindings (updated_at);
