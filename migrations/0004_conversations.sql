-- Confab schema version 4: conversations. A session's messages form a tree
-- (each has a parent; siblings are swipes); the session remembers the leaf of
-- its active path and each message the child its path continues through.

ALTER TABLE chat_sessions ADD COLUMN persona_id TEXT REFERENCES personas (id) ON DELETE SET NULL;
ALTER TABLE chat_sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
-- The last message of the active path (kept by the code; NULL for an empty session).
ALTER TABLE chat_sessions ADD COLUMN leaf_id TEXT;
-- Which root message (first message or one of its swipes) the active path starts from.
ALTER TABLE chat_sessions ADD COLUMN active_root_id TEXT;

ALTER TABLE messages ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'complete'
    CHECK (status IN ('complete', 'partial', 'failed', 'cancelled', 'interrupted'));
ALTER TABLE messages ADD COLUMN meta_json TEXT NOT NULL DEFAULT '{}';
-- Messages above it on its path (0 for a first message): paging and counts without walking.
ALTER TABLE messages ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
-- The child the active path continues through (the selected swipe below it).
ALTER TABLE messages ADD COLUMN active_child_id TEXT;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;

CREATE INDEX messages_by_parent_created ON messages (parent_id, created_at);
CREATE INDEX messages_roots ON messages (session_id, created_at) WHERE parent_id IS NULL;

-- Earlier texts of edited messages, oldest first.
CREATE TABLE message_versions (
    id         TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX message_versions_by_message ON message_versions (message_id, created_at);

-- Images attached to user messages (message_id NULL until the message is sent).
CREATE TABLE message_images (
    id         TEXT PRIMARY KEY NOT NULL,
    message_id TEXT REFERENCES messages (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL DEFAULT 0,
    mime       TEXT NOT NULL,
    name       TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX message_images_by_message ON message_images (message_id, position);

CREATE TABLE persona_avatars (
    persona_id TEXT PRIMARY KEY NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    mime       TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    hash       TEXT NOT NULL
) STRICT;

CREATE TABLE character_preferences (
    character_id TEXT PRIMARY KEY NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    prefs_json   TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Every saved primary context; the newest is the current one.
CREATE TABLE primary_context_versions (
    id         TEXT PRIMARY KEY NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Full-text search over every message, kept in step by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO messages_fts (rowid, content) SELECT rowid, content FROM messages;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;

-- Sessions from earlier versions: compute depths, then start each active path
-- at the earliest first message and end it at the newest deepest message.
WITH RECURSIVE tree (id, depth) AS (
    SELECT id, 0 FROM messages WHERE parent_id IS NULL
    UNION ALL
    SELECT m.id, tree.depth + 1 FROM messages m JOIN tree ON m.parent_id = tree.id
)
UPDATE messages SET depth = (SELECT depth FROM tree WHERE tree.id = messages.id)
WHERE id IN (SELECT id FROM tree);

UPDATE chat_sessions SET
    active_root_id = (SELECT id FROM messages m WHERE m.session_id = chat_sessions.id
                      AND m.parent_id IS NULL ORDER BY m.created_at LIMIT 1),
    leaf_id = (SELECT id FROM messages m WHERE m.session_id = chat_sessions.id
               ORDER BY m.depth DESC, m.created_at DESC LIMIT 1);
