-- Confab schema version 10: local models done right. Instruct and context
-- templates the user saved (imported from SillyTavern, or a built-in preset
-- edited: a saved template shadows the built-in of the same name), connection
-- profiles (a provider, a model, a template and samplers under one name), and
-- which profile or template a chat or a character is pinned to.
CREATE TABLE templates (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('instruct', 'context')),
    name       TEXT NOT NULL,
    -- The template in SillyTavern's JSON shape.
    json       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (kind, name)
) STRICT;

CREATE TABLE connection_profiles (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    -- NULL: the provider's default model.
    model       TEXT,
    -- The whole ConnectionProfile as JSON (templates, samplers over the provider's own).
    config_json TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- A chat's profile: chosen from its header; wins over its own provider and model.
ALTER TABLE chat_sessions ADD COLUMN profile_id TEXT REFERENCES connection_profiles (id) ON DELETE SET NULL;

-- What a character is pinned to: its chats use this profile unless they chose
-- one of their own, and this instruct template whatever the connection says.
CREATE TABLE character_connection (
    character_id TEXT PRIMARY KEY NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    profile_id   TEXT REFERENCES connection_profiles (id) ON DELETE SET NULL,
    instruct     TEXT
) STRICT;
