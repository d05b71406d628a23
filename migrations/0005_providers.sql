-- Confab schema version 5: providers, their model lists, the session's model,
-- keys kept encrypted (only when the user chose that fallback), and usage.
-- API keys are never stored here in the clear: they live in the OS keyring.

CREATE TABLE providers (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('openRouter', 'openAi', 'anthropic', 'openAiCompatible')),
    -- The whole ProviderConfig as JSON (base URL, default model, headers, generation settings).
    config_json TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The last model list fetched from a provider's models endpoint.
CREATE TABLE provider_models (
    provider_id TEXT PRIMARY KEY NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    models_json TEXT NOT NULL,
    fetched_at  INTEGER NOT NULL
) STRICT;

-- Models the user pinned on top of the picker.
CREATE TABLE favourite_models (
    provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    model_id    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (provider_id, model_id)
) STRICT;

-- The provider and model a session replies with (NULL: the default provider and its model).
ALTER TABLE chat_sessions ADD COLUMN provider_id TEXT REFERENCES providers (id) ON DELETE SET NULL;
ALTER TABLE chat_sessions ADD COLUMN model TEXT;

-- API keys the user chose to keep encrypted in the database because no keyring
-- was reachable: an AEAD ciphertext under a key derived from CONFAB_ENCRYPTION_KEY.
CREATE TABLE encrypted_secrets (
    account    TEXT PRIMARY KEY NOT NULL,
    salt       BLOB NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- One row per finished request: what it cost and how it ended.
CREATE TABLE usage_events (
    id                INTEGER PRIMARY KEY,
    -- UTC day, YYYY-MM-DD: usage is summed per provider, model and day.
    day               TEXT NOT NULL,
    provider_id       TEXT,
    provider_name     TEXT NOT NULL,
    model             TEXT NOT NULL,
    -- done, failed, cancelled or interrupted.
    outcome           TEXT NOT NULL CHECK (outcome IN ('done', 'failed', 'cancelled', 'interrupted')),
    -- The error code of a failure or the reason of a cancellation; '' when done.
    reason            TEXT NOT NULL DEFAULT '',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    -- US dollars, when the provider publishes prices for the model.
    cost_usd          REAL,
    created_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX usage_events_by_day ON usage_events (day, provider_name, model);

-- Replies still streaming (or left so by a crash): found at start without a scan.
CREATE INDEX messages_partial ON messages (status) WHERE status = 'partial';
