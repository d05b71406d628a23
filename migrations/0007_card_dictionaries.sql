-- Confab schema version 7: a chat dictionary that arrives inside a character's
-- card waits for the user's review instead of applying at once. Its find and
-- replace rules rewrite every prompt and reply, so a card must never change
-- them unseen; the character's page shows the rules to accept or discard.

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
