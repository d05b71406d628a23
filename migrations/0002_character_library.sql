-- Confab schema version 2: the character library.
-- A character keeps its normalised card (card_json, the V3 `data` object), the
-- original card JSON it was imported from (so unknown fields survive an export),
-- its avatar (original bytes plus a small thumbnail), its assets, tags and collections.

ALTER TABLE characters ADD COLUMN creator TEXT NOT NULL DEFAULT '';
ALTER TABLE characters ADD COLUMN card_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE characters ADD COLUMN original_json TEXT;
ALTER TABLE characters ADD COLUMN spec TEXT NOT NULL DEFAULT 'v3' CHECK (spec IN ('v1', 'v2', 'v3'));
ALTER TABLE characters ADD COLUMN format TEXT NOT NULL DEFAULT 'json';
ALTER TABLE characters ADD COLUMN source_file TEXT NOT NULL DEFAULT '';
-- SHA-256 of the canonical card JSON: an identical card is found, not copied.
ALTER TABLE characters ADD COLUMN content_hash TEXT;
ALTER TABLE characters ADD COLUMN last_used_at INTEGER;

CREATE INDEX characters_by_hash ON characters (content_hash);
CREATE INDEX characters_by_name ON characters (name COLLATE NOCASE);

CREATE TABLE character_avatars (
    character_id TEXT PRIMARY KEY NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    mime         TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    thumb_mime   TEXT,
    thumb        BLOB,
    -- Changes with the image: the UI's cache key.
    hash         TEXT NOT NULL
) STRICT;

CREATE TABLE character_assets (
    id           TEXT PRIMARY KEY NOT NULL,
    character_id TEXT NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    ext          TEXT NOT NULL,
    path         TEXT NOT NULL,
    bytes        BLOB NOT NULL
) STRICT;

CREATE INDEX character_assets_by_character ON character_assets (character_id, position);

CREATE TABLE character_tags (
    character_id TEXT NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    tag          TEXT NOT NULL COLLATE NOCASE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (character_id, tag)
) STRICT;

CREATE INDEX character_tags_by_tag ON character_tags (tag);

CREATE TABLE collections (
    id   TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
) STRICT;

CREATE TABLE character_collections (
    character_id  TEXT NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    PRIMARY KEY (character_id, collection_id)
) STRICT;

CREATE INDEX character_collections_by_collection ON character_collections (collection_id);
