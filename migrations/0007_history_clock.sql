-- Confab schema version 7: a change clock for messages. Every message written
-- (added, edited, re-parented, recounted) is stamped with the next tick, so the
-- recent history a prompt is built from can stay in memory between turns and be
-- brought up to date by reading only what changed since (it is the largest read
-- before every reply). Triggers stamp, so no write path can forget to.
CREATE TABLE history_clock (
    id   INTEGER PRIMARY KEY CHECK (id = 0),
    tick INTEGER NOT NULL
) STRICT;
INSERT INTO history_clock (id, tick) VALUES (0, 0);

ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_rev ON messages (session_id, rev);

CREATE TRIGGER messages_rev_insert AFTER INSERT ON messages BEGIN
    UPDATE history_clock SET tick = tick + 1 WHERE id = 0;
    UPDATE messages SET rev = (SELECT tick FROM history_clock WHERE id = 0) WHERE rowid = new.rowid;
END;

-- `rev` itself is not in the list, so the stamp does not fire the trigger again.
CREATE TRIGGER messages_rev_update
AFTER UPDATE OF session_id, parent_id, depth, role, name, content, tokens, tokens_by ON messages BEGIN
    UPDATE history_clock SET tick = tick + 1 WHERE id = 0;
    UPDATE messages SET rev = (SELECT tick FROM history_clock WHERE id = 0) WHERE rowid = new.rowid;
END;
