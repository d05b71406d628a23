-- Confab schema version 9: text-completion providers (KoboldCpp's native API,
-- llama.cpp's /completion, OpenAI-style /v1/completions) join the kinds a
-- provider may be. SQLite cannot change a CHECK constraint in place, so the
-- providers table is rebuilt. Migrations run in a transaction with foreign keys
-- on, where dropping the old table would cascade to what refers to it (model
-- lists, favourites, sessions' own provider): those rows are set aside first
-- and put back after, unchanged.
CREATE TEMP TABLE keep_provider_models AS SELECT * FROM provider_models;
CREATE TEMP TABLE keep_favourite_models AS SELECT * FROM favourite_models;
CREATE TEMP TABLE keep_session_providers AS
    SELECT id, provider_id FROM chat_sessions WHERE provider_id IS NOT NULL;

CREATE TABLE providers_new (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('openRouter', 'openAi', 'anthropic', 'openAiCompatible',
                                              'koboldCpp', 'llamaCpp', 'textCompletions')),
    -- The whole ProviderConfig as JSON (base URL, default model, headers, generation settings).
    config_json TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
INSERT INTO providers_new (id, name, kind, config_json, position, created_at, updated_at)
    SELECT id, name, kind, config_json, position, created_at, updated_at FROM providers;
DROP TABLE providers;
ALTER TABLE providers_new RENAME TO providers;

INSERT INTO provider_models SELECT * FROM keep_provider_models;
INSERT INTO favourite_models SELECT * FROM keep_favourite_models;
UPDATE chat_sessions
    SET provider_id = (SELECT k.provider_id FROM keep_session_providers k WHERE k.id = chat_sessions.id)
    WHERE id IN (SELECT id FROM keep_session_providers);
DROP TABLE keep_provider_models;
DROP TABLE keep_favourite_models;
DROP TABLE keep_session_providers;
