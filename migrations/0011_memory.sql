-- Confab schema version 11: long chats that remember. Rolling summaries that
-- belong to the path of messages they cover, passages embedded for retrieval,
-- each chat's memory settings, and the cache tokens a request was billed for.

-- A chat's memory settings (MemorySettings as JSON; absent: the defaults).
CREATE TABLE memory_settings (
    session_id    TEXT PRIMARY KEY NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    settings_json TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- A summary of a stretch of one path: from `first_id` down to `last_id`. The
-- tree's ancestry never changes, so a summary applies to exactly the paths that
-- pass through its last message; deleting any covered message deletes the
-- subtree that holds `last_id`, and with it the summary.
CREATE TABLE memory_summaries (
    id          TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    first_id    TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    last_id     TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    -- The covered messages' depths (messages.depth), for ordering without a walk.
    first_depth INTEGER NOT NULL,
    last_depth  INTEGER NOT NULL,
    content     TEXT NOT NULL,
    -- Its tokens as the prompt's counter counts them, when known.
    tokens      INTEGER,
    -- Pinned: kept as it is (never redone on its own) and always sent.
    pinned      INTEGER NOT NULL DEFAULT 0,
    -- Written or changed by the user.
    edited      INTEGER NOT NULL DEFAULT 0,
    -- A covered message changed since it was written.
    stale       INTEGER NOT NULL DEFAULT 0,
    -- Who wrote it: "provider / model", '' for the user.
    author      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX memory_summaries_by_last ON memory_summaries (last_id);
CREATE INDEX memory_summaries_by_first ON memory_summaries (first_id);
CREATE INDEX memory_summaries_by_session ON memory_summaries (session_id, last_depth);

-- Which messages a summary covers: an edit of any of them makes it stale.
CREATE TABLE memory_summary_messages (
    summary_id TEXT NOT NULL REFERENCES memory_summaries (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (summary_id, message_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memory_summary_messages_by_message ON memory_summary_messages (message_id);

-- A trigger, so that no write path can forget to.
CREATE TRIGGER memory_summaries_stale_on_edit
AFTER UPDATE OF content, role, name ON messages
WHEN old.content IS NOT new.content OR old.role IS NOT new.role OR old.name IS NOT new.name BEGIN
    UPDATE memory_summaries SET stale = 1
    WHERE stale = 0 AND id IN (SELECT summary_id FROM memory_summary_messages WHERE message_id = new.id);
END;

-- Text embedded for retrieval: a passage of a message of the chat (a long
-- message is split into several), or a note the user attached to it.
CREATE TABLE memory_passages (
    -- Never reused (AUTOINCREMENT): a search's in-memory index reads only ids past the last it knows.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    -- The message it was taken from; NULL for a note.
    message_id  TEXT REFERENCES messages (id) ON DELETE CASCADE,
    source      TEXT NOT NULL CHECK (source IN ('message', 'note')),
    -- Which passage of the message it is (0 first), in text order.
    chunk       INTEGER NOT NULL DEFAULT 0,
    text        TEXT NOT NULL,
    -- The message's rev when embedded: a message whose rev moved is checked again.
    source_rev  INTEGER NOT NULL DEFAULT 0,
    -- A hash of the message's text when embedded: a rev that moved with the text
    -- unchanged (a token count saved) costs no new embedding; an edit does.
    source_hash INTEGER NOT NULL DEFAULT 0,
    -- Which embeddings model made the vector ("provider id/model"); '' not embedded
    -- yet (then `embedding` is NULL): a model named means a vector, so the
    -- index alone answers which passages a model has.
    model       TEXT NOT NULL DEFAULT '',
    dims        INTEGER NOT NULL DEFAULT 0,
    -- Little-endian f32 x dims; NULL until embedded (a new note).
    embedding   BLOB,
    created_at  INTEGER NOT NULL,
    CHECK ((source = 'note') = (message_id IS NULL)),
    CHECK (embedding IS NULL OR length(embedding) = 4 * dims),
    CHECK ((model = '') = (embedding IS NULL))
) STRICT;
CREATE INDEX memory_passages_by_session ON memory_passages (session_id, model);
CREATE INDEX memory_passages_by_message ON memory_passages (message_id, model);

-- Moves whenever a chat's passages change, so a search's in-memory index knows
-- when to catch up. Triggers, so that no write path (a cascade included) can
-- forget to; no foreign key, as a chat being deleted still moves it.
CREATE TABLE memory_passage_clock (
    session_id TEXT PRIMARY KEY NOT NULL,
    tick       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TRIGGER memory_passages_tick_insert AFTER INSERT ON memory_passages BEGIN
    INSERT INTO memory_passage_clock (session_id, tick) VALUES (new.session_id, 1)
    ON CONFLICT (session_id) DO UPDATE SET tick = tick + 1;
END;
CREATE TRIGGER memory_passages_tick_update AFTER UPDATE OF model, embedding, text ON memory_passages BEGIN
    INSERT INTO memory_passage_clock (session_id, tick) VALUES (new.session_id, 1)
    ON CONFLICT (session_id) DO UPDATE SET tick = tick + 1;
END;
CREATE TRIGGER memory_passages_tick_delete AFTER DELETE ON memory_passages BEGIN
    INSERT INTO memory_passage_clock (session_id, tick) VALUES (old.session_id, 1)
    ON CONFLICT (session_id) DO UPDATE SET tick = tick + 1;
END;

-- What prompt caching did to a request: tokens written to and read from the cache.
ALTER TABLE usage_events ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
-- US dollars the cache saved (reads at the discount minus the writes' premium), when prices are known.
ALTER TABLE usage_events ADD COLUMN cache_saved_usd REAL;
