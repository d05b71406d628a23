-- Confab schema version 1: the seed of each aggregate.
-- Later issues extend these tables with new migrations; a released migration is
-- never edited (sqlx checks its checksum).
-- Ids are UUID strings; times are Unix milliseconds (UTC).

CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE characters (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE personas (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_default  INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- At most one default persona.
CREATE UNIQUE INDEX personas_one_default ON personas (is_default) WHERE is_default = 1;

CREATE TABLE world_books (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE chat_sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    character_id TEXT NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    title        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX chat_sessions_by_character ON chat_sessions (character_id, updated_at DESC);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    parent_id  TEXT REFERENCES messages (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_by_session ON messages (session_id, created_at);
CREATE INDEX messages_by_parent ON messages (parent_id);
