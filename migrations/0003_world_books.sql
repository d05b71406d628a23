-- Confab schema version 3: world books with their entries, links to characters,
-- chat dictionaries, and the per-session state of timed lore effects.

ALTER TABLE world_books ADD COLUMN settings_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE world_books ADD COLUMN extensions_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE world_books ADD COLUMN is_global INTEGER NOT NULL DEFAULT 0 CHECK (is_global IN (0, 1));
-- Bumped on every change: the key under which a compiled book is cached.
ALTER TABLE world_books ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- The character whose card embedded this book; exporting the card writes it back.
ALTER TABLE world_books ADD COLUMN source_character_id TEXT REFERENCES characters (id) ON DELETE SET NULL;
ALTER TABLE world_books ADD COLUMN source_file TEXT NOT NULL DEFAULT '';

-- One row per entry: the whole Entry as JSON, plus the columns lists filter on.
CREATE TABLE world_book_entries (
    book_id    TEXT NOT NULL REFERENCES world_books (id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL CHECK (uid >= 0),
    position   INTEGER NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    constant   INTEGER NOT NULL CHECK (constant IN (0, 1)),
    comment    TEXT NOT NULL,
    entry_json TEXT NOT NULL,
    PRIMARY KEY (book_id, uid)
) STRICT;

CREATE INDEX world_book_entries_by_position ON world_book_entries (book_id, position);

CREATE TABLE character_world_books (
    character_id TEXT NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    book_id      TEXT NOT NULL REFERENCES world_books (id) ON DELETE CASCADE,
    PRIMARY KEY (character_id, book_id)
) STRICT;

CREATE INDEX character_world_books_by_book ON character_world_books (book_id);

-- Chat dictionaries: one rule list per character; the global list lives in settings.
CREATE TABLE character_dictionaries (
    character_id TEXT PRIMARY KEY NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    rules_json   TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Sticky, cooldown and delay state of lore entries, per chat session.
CREATE TABLE lore_timed_state (
    session_id TEXT PRIMARY KEY NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    state_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
