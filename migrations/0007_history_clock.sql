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
-- On the tick alone: what changed since a tick is few rows, whatever the chat. (An index
-- led by session_id would be picked for other per-chat lookups, such as counting a
-- message's swipes, and scan the whole chat.) The history read names it (INDEXED BY).
CREATE INDEX messages_by_rev ON messages (rev);

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

-- A message's siblings (its swipes) by chat and parent: every "session_id = ? AND
-- parent_id IS ?" lookup (a page's swipe counts, choosing a branch, importing) finds
-- them here. Without it the planner took (session_id, depth) and read the whole chat
-- for each message: a page of a 100,000-message chat took over a second.
CREATE INDEX messages_by_siblings ON messages (session_id, parent_id, created_at);
