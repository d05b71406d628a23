-- Confab schema version 6: what a card, a world book and a chat ask for reaches the
-- model, and a card's chat dictionary waits for the user's review.

-- User messages on a message's path up to and including it: the Author's Note's
-- "every N user messages" without walking the chat.
ALTER TABLE messages ADD COLUMN user_turns INTEGER NOT NULL DEFAULT 0;
-- A message's token count and the tokenizer that counted it (NULL until first needed;
-- reset when its text changes), so a send does not count an unchanged history again.
ALTER TABLE messages ADD COLUMN tokens INTEGER;
ALTER TABLE messages ADD COLUMN tokens_by TEXT;

-- A chat's Author's Note, and a character's default for its chats that have none (JSON).
ALTER TABLE chat_sessions ADD COLUMN authors_note_json TEXT;
ALTER TABLE characters ADD COLUMN authors_note_json TEXT;

-- Messages from earlier versions: count the user messages down each path, through
-- an indexed table so that the update is one lookup per message.
CREATE TEMP TABLE user_turns_of (id TEXT PRIMARY KEY NOT NULL, turns INTEGER NOT NULL);

WITH RECURSIVE tree (id, turns) AS (
    SELECT id, role = 'user' FROM messages WHERE parent_id IS NULL
    UNION ALL
    SELECT m.id, tree.turns + (m.role = 'user') FROM messages m JOIN tree ON m.parent_id = tree.id
)
INSERT INTO user_turns_of (id, turns) SELECT id, turns FROM tree;

UPDATE messages SET user_turns = (SELECT turns FROM user_turns_of t WHERE t.id = messages.id)
WHERE id IN (SELECT id FROM user_turns_of);

DROP TABLE user_turns_of;

-- New messages take their count from their parent, whichever way they are added.
CREATE TRIGGER messages_user_turns AFTER INSERT ON messages BEGIN
    UPDATE messages SET user_turns =
        COALESCE((SELECT p.user_turns FROM messages p WHERE p.id = new.parent_id), 0)
        + (new.role = 'user')
    WHERE id = new.id;
END;

-- A prompt reads the end of a chat by depth ranges rather than walking it message by message.
CREATE INDEX messages_by_session_depth ON messages (session_id, depth);

-- A chat dictionary that arrives inside a character's card waits for the user's
-- review instead of applying at once. Its find and replace rules rewrite every
-- prompt and reply, so a card must never change them unseen; the character's
-- page shows the rules to accept or discard.

CREATE TABLE card_dictionaries_pending (
    character_id TEXT PRIMARY KEY NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    rules_json   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- Saving the character's dictionary is the review: accepting saves it with the
-- card's rules added, discarding saves it as it was. Either way the pending
-- rules are done with, whichever code path saved.
CREATE TRIGGER card_dictionary_reviewed_on_insert
AFTER INSERT ON character_dictionaries
BEGIN
    DELETE FROM card_dictionaries_pending WHERE character_id = NEW.character_id;
END;

CREATE TRIGGER card_dictionary_reviewed_on_update
AFTER UPDATE ON character_dictionaries
BEGIN
    DELETE FROM card_dictionaries_pending WHERE character_id = NEW.character_id;
END;
