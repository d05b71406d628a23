-- Confab schema version 8: group chats. A session with member rows is a group;
-- without them it is the 1:1 chat it always was (chat_sessions.character_id),
-- so no existing row is rewritten. In a group, chat_sessions.character_id is
-- the first member: it keeps the recent list's joins and the foreign key.
CREATE TABLE session_members (
    session_id   TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    character_id TEXT NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    -- The member list's order (list-order turns, the member bar).
    position     INTEGER NOT NULL,
    -- muted: in the scene but never chosen to speak; absent: out of the scene,
    -- its card, books and notes leave the prompt until it returns.
    presence     TEXT NOT NULL DEFAULT 'present' CHECK (presence IN ('present', 'muted', 'absent')),
    PRIMARY KEY (session_id, character_id)
) STRICT;

CREATE INDEX session_members_by_character ON session_members (character_id);

-- How a group chooses its next speaker, and how many turns members may take
-- on their own after a reply (0: none).
ALTER TABLE chat_sessions ADD COLUMN turn_order TEXT NOT NULL DEFAULT 'natural'
    CHECK (turn_order IN ('manual', 'natural', 'list', 'random'));
ALTER TABLE chat_sessions ADD COLUMN auto_turns INTEGER NOT NULL DEFAULT 0 CHECK (auto_turns BETWEEN 0 AND 100);
-- join: the other present members' cards go in beside the speaker's; speaker: only the speaker's.
ALTER TABLE chat_sessions ADD COLUMN card_mode TEXT NOT NULL DEFAULT 'join'
    CHECK (card_mode IN ('join', 'speaker'));

-- Who wrote a reply in a group (NULL: the session's character, as before groups).
ALTER TABLE messages ADD COLUMN character_id TEXT REFERENCES characters (id) ON DELETE SET NULL;

-- Who joined, left, was muted or stepped out, and after which message: the
-- history stays explainable ("why did she stop answering?").
CREATE TABLE member_events (
    id              TEXT PRIMARY KEY NOT NULL,
    session_id      TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    character_id    TEXT NOT NULL,
    character_name  TEXT NOT NULL,
    change          TEXT NOT NULL CHECK (change IN ('joined', 'left', 'muted', 'absent', 'present')),
    -- The last message of the active path when it happened (NULL: before any).
    after_message_id TEXT,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX member_events_by_session ON member_events (session_id, created_at);
