//! Group chats: who is in the scene, and who speaks next.
//!
//! A session with members is a group. Each member is present, muted (in the
//! scene, never chosen to speak) or absent (out of the scene: its card, books
//! and notes leave the prompt). [`next_speaker`] is a pure function of the
//! members, the last message and a seed, so a preview and the send after it
//! choose the same member, and tests can pin every mode.

use serde::{Deserialize, Serialize};

#[cfg(feature = "specta")]
use crate::TsNumber;

use crate::card::CardData;
use crate::error::{Error, Result};
use crate::rng::SplitMix64;
use crate::session::service::user_name;
use crate::session::SessionSummary;
use crate::store::Store;

/// How a group chooses who speaks next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TurnOrder {
    /// The user picks; without a pick, the member who spoke last speaks again.
    Manual,
    /// A member named in the last message; otherwise by talkativeness (SillyTavern's natural order).
    #[default]
    Natural,
    /// Members in list order, each after the one before.
    List,
    /// Any present member but the one who just spoke.
    Random,
}

impl TurnOrder {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TurnOrder::Manual => "manual",
            TurnOrder::Natural => "natural",
            TurnOrder::List => "list",
            TurnOrder::Random => "random",
        }
    }

    /// From its stored name (unknown: natural).
    pub fn parse(s: &str) -> TurnOrder {
        match s {
            "manual" => TurnOrder::Manual,
            "list" => TurnOrder::List,
            "random" => TurnOrder::Random,
            _ => TurnOrder::Natural,
        }
    }
}

/// Whose cards a member's prompt carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum CardMode {
    /// The speaker's card, then the other present members' descriptions (SillyTavern's "join cards").
    #[default]
    Join,
    /// Only the speaker's card (SillyTavern's "swap cards").
    Speaker,
}

impl CardMode {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CardMode::Join => "join",
            CardMode::Speaker => "speaker",
        }
    }

    /// From its stored name (unknown: join).
    pub fn parse(s: &str) -> CardMode {
        if s == "speaker" {
            CardMode::Speaker
        } else {
            CardMode::Join
        }
    }
}

/// Whether a member is in the scene and may speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Presence {
    /// In the scene, speaks when chosen.
    #[default]
    Present,
    /// In the scene (its card stays in the prompt), never chosen to speak.
    Muted,
    /// Out of the scene: its card, books and notes leave the prompt until it returns.
    Absent,
}

impl Presence {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Present => "present",
            Presence::Muted => "muted",
            Presence::Absent => "absent",
        }
    }

    /// From its stored name (unknown: present).
    pub fn parse(s: &str) -> Presence {
        match s {
            "muted" => Presence::Muted,
            "absent" => Presence::Absent,
            _ => Presence::Present,
        }
    }

    /// Whether the member's card and books are in the prompt.
    pub fn in_scene(self) -> bool {
        self != Presence::Absent
    }
}

/// A member of a group chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    /// The character.
    pub character_id: String,
    /// Its name.
    pub name: String,
    /// Its avatar key (see `CharacterSummary::avatar_key`).
    pub avatar_key: Option<String>,
    /// Whether it is in the scene and may speak.
    pub presence: Presence,
    /// How likely it speaks unprompted in natural order, 0 to 1 (the card's `talkativeness`, 0.5 by default).
    pub talkativeness: f64,
}

/// How a group takes turns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupSettings {
    /// Who speaks next.
    pub turn_order: TurnOrder,
    /// Turns members take on their own after a reply (0: none; at most [`MAX_AUTO_TURNS`]).
    pub auto_turns: u32,
    /// Whose cards a member's prompt carries.
    pub card_mode: CardMode,
}

/// Most turns members take on their own in a row.
pub const MAX_AUTO_TURNS: u32 = 100;

/// Most members a group holds (each brings its card and books to every prompt).
pub const MAX_MEMBERS: usize = 32;

/// What happened to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum MemberChange {
    /// Added to the chat.
    Joined,
    /// Removed from the chat (its messages stay).
    Left,
    /// Muted.
    Muted,
    /// Stepped out of the scene.
    Absent,
    /// Back in the scene and speaking.
    Present,
}

impl MemberChange {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberChange::Joined => "joined",
            MemberChange::Left => "left",
            MemberChange::Muted => "muted",
            MemberChange::Absent => "absent",
            MemberChange::Present => "present",
        }
    }

    /// From its stored name (unknown: present).
    pub fn parse(s: &str) -> MemberChange {
        match s {
            "joined" => MemberChange::Joined,
            "left" => MemberChange::Left,
            "muted" => MemberChange::Muted,
            "absent" => MemberChange::Absent,
            _ => MemberChange::Present,
        }
    }

    /// The change a presence is reached by.
    pub fn to(presence: Presence) -> MemberChange {
        match presence {
            Presence::Present => MemberChange::Present,
            Presence::Muted => MemberChange::Muted,
            Presence::Absent => MemberChange::Absent,
        }
    }
}

/// A recorded change of who is in the chat, shown in its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MemberEvent {
    /// UUID.
    pub id: String,
    /// The character.
    pub character_id: String,
    /// Its name when it happened.
    pub character_name: String,
    /// What happened.
    pub change: MemberChange,
    /// The last message of the active path when it happened (`None`: before any).
    pub after_message_id: Option<String>,
    /// When, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub created_at: f64,
}

/// A chat's cast as the member bar shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupState {
    /// Whether the chat is a group (a 1:1 chat lists its one character as the only member).
    pub is_group: bool,
    /// Members in list order.
    pub members: Vec<GroupMember>,
    /// How the group takes turns.
    pub settings: GroupSettings,
    /// Presence changes, oldest first (the newest [`MAX_EVENTS_SHOWN`]).
    pub events: Vec<MemberEvent>,
    /// Who would speak next without a pick (`None` when no member may speak).
    pub next_speaker: Option<String>,
}

/// Presence changes a chat's state carries at most.
pub const MAX_EVENTS_SHOWN: u32 = 500;

/// The talkativeness SillyTavern assumes when a card names none.
pub const DEFAULT_TALKATIVENESS: f64 = 0.5;

/// A card's `extensions.talkativeness` (a number or, as SillyTavern writes it, a string), within 0 to 1.
pub fn talkativeness(card: &CardData) -> f64 {
    let value = match card.extensions.get("talkativeness") {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    value
        .filter(|v| v.is_finite())
        .map_or(DEFAULT_TALKATIVENESS, |v| v.clamp(0.0, 1.0))
}

/// The message the next speaker answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct LastMessage<'a> {
    /// Its text (names in it call on members in natural order).
    pub text: &'a str,
    /// The member who wrote it (`None`: the user, a narrator, or nothing yet).
    pub speaker: Option<&'a str>,
    /// The member who spoke last anywhere on the path (list order continues after it).
    pub last_member: Option<&'a str>,
    /// Whether the user wrote the text: then a member it names answers even if
    /// that member also spoke last (`speaker` is still passed over otherwise).
    pub from_user: bool,
}

/// Who speaks next in `order`, among the present members (muted and absent
/// ones never), answering `last`; draws come from `seed`. `None` when no member may speak.
pub fn next_speaker(
    order: TurnOrder,
    members: &[GroupMember],
    last: LastMessage<'_>,
    seed: u64,
) -> Option<String> {
    let speaking: Vec<&GroupMember> = members
        .iter()
        .filter(|m| m.presence == Presence::Present)
        .collect();
    if speaking.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let chosen = match order {
        TurnOrder::Manual => last
            .last_member
            .and_then(|id| speaking.iter().find(|m| m.character_id == id))
            .or(speaking.first())
            .copied(),
        TurnOrder::List => {
            // The next present member after the last one who spoke, in list order.
            let after = last
                .last_member
                .and_then(|id| members.iter().position(|m| m.character_id == id));
            match after {
                Some(at) => members
                    .iter()
                    .cycle()
                    .skip(at + 1)
                    .take(members.len())
                    .find(|m| m.presence == Presence::Present),
                None => speaking.first().copied(),
            }
        }
        TurnOrder::Random => {
            let others: Vec<&GroupMember> = speaking
                .iter()
                .copied()
                .filter(|m| Some(m.character_id.as_str()) != last.speaker)
                .collect();
            let pool = if others.is_empty() {
                &speaking
            } else {
                &others
            };
            pool.get(rng.below(pool.len() as u64) as usize).copied()
        }
        TurnOrder::Natural => natural(&speaking, last, &mut rng),
    };
    chosen.map(|m| m.character_id.clone())
}

/// SillyTavern's natural order, one speaker: the first member a word of the
/// last message names (never the member who wrote it); else, in a shuffled
/// order, the first whose roll falls under its talkativeness; else any member
/// with some talkativeness; else anyone.
fn natural<'m>(
    speaking: &[&'m GroupMember],
    last: LastMessage<'_>,
    rng: &mut SplitMix64,
) -> Option<&'m GroupMember> {
    let candidates: Vec<&GroupMember> = speaking
        .iter()
        .copied()
        .filter(|m| Some(m.character_id.as_str()) != last.speaker)
        .collect();
    let candidates = if candidates.is_empty() {
        speaking.to_vec()
    } else {
        candidates
    };
    let callable = if last.from_user {
        speaking
    } else {
        &candidates[..]
    };
    let named: Vec<(&GroupMember, Vec<String>)> =
        callable.iter().map(|m| (*m, words(&m.name))).collect();
    for word in words(last.text) {
        if let Some((m, _)) = named.iter().find(|(_, name)| name.contains(&word)) {
            return Some(m);
        }
    }
    let mut shuffled = candidates.clone();
    // Fisher-Yates with the seeded generator.
    for i in (1..shuffled.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        shuffled.swap(i, j);
    }
    for m in &shuffled {
        let roll = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if m.talkativeness > 0.0 && m.talkativeness >= roll {
            return Some(m);
        }
    }
    let chatty: Vec<&GroupMember> = candidates
        .iter()
        .copied()
        .filter(|m| m.talkativeness > 0.0)
        .collect();
    let pool = if chatty.is_empty() {
        &candidates
    } else {
        &chatty
    };
    pool.get(rng.below(pool.len() as u64) as usize).copied()
}

/// Lower-case words (letters, digits, `_`), as names are matched in text.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The other present members a speaker's prompt shows, for the "join cards" choice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupScene {
    /// Every member in the scene (present or muted), in list order: `{{group}}`.
    pub members: Vec<String>,
    /// The other members in the scene, with their cards (empty when only the speaker's card goes).
    pub others: Vec<CardData>,
}

/// A seed for the speaker drawn after a path of `length` messages: the same for
/// a preview and the send after it, different at every turn.
pub fn speaker_seed(session_id: &str, length: u32) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("speaker:{session_id}:{length}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

/// The member who writes a group chat's next reply: `forced` when given (any
/// member in the scene, muted ones too), else the one the turn order picks,
/// answering `new_message` when the user just wrote one. `Ok(None)` for a 1:1
/// chat (its character speaks) or when no member may speak.
pub async fn speaker_for(
    store: &Store,
    session_id: &str,
    forced: Option<&str>,
    new_message: Option<&str>,
) -> Result<Option<GroupMember>> {
    let members = store.group_members(session_id).await?;
    if members.is_empty() {
        return match forced {
            Some(id) if id != store.session_cast(session_id).await?.character_id => {
                Err(Error::InvalidInput(
                    "only the chat's character speaks in a 1:1 chat; add a character to make it a group".into(),
                ))
            }
            _ => Ok(None),
        };
    }
    if let Some(id) = forced {
        let member = members
            .into_iter()
            .find(|m| m.character_id == id)
            .ok_or_else(|| {
                Error::InvalidInput("that character is not a member of this group chat".into())
            })?;
        if member.presence == Presence::Absent {
            return Err(Error::InvalidInput(format!(
                "{} is out of the scene: bring them back before they speak",
                member.name
            )));
        }
        return Ok(Some(member));
    }
    let (settings, end) =
        tokio::try_join!(store.group_settings(session_id), store.path_end(session_id))?;
    let last = match new_message {
        // The member who spoke last does not answer again unprompted even after
        // the user writes (unless alone), so the composer's "next: NAME" holds
        // for a send too, unless the text names a member.
        Some(text) => LastMessage {
            text,
            speaker: end.last_speaker.as_deref(),
            last_member: end.last_member.as_deref(),
            from_user: true,
        },
        None => LastMessage {
            text: &end.last_text,
            speaker: end.last_speaker.as_deref(),
            last_member: end.last_member.as_deref(),
            from_user: false,
        },
    };
    let seed = speaker_seed(session_id, end.length);
    let chosen = next_speaker(settings.turn_order, &members, last, seed);
    Ok(chosen.and_then(|id| members.into_iter().find(|m| m.character_id == id)))
}

/// A chat's cast for the member bar: members, turn settings, presence changes and the next speaker.
pub async fn group_state(store: &Store, session_id: &str) -> Result<GroupState> {
    let (members, settings, events) = tokio::try_join!(
        store.group_members(session_id),
        store.group_settings(session_id),
        store.member_events(session_id, MAX_EVENTS_SHOWN),
    )?;
    if members.is_empty() {
        let cast = store.session_cast(session_id).await?;
        let card = store.character_card(&cast.character_id).await?;
        let summary = store.character_summary(&cast.character_id).await?;
        return Ok(GroupState {
            is_group: false,
            next_speaker: Some(cast.character_id.clone()),
            members: vec![GroupMember {
                character_id: cast.character_id,
                name: cast.character_name,
                avatar_key: summary.avatar_key,
                presence: Presence::Present,
                talkativeness: talkativeness(&card),
            }],
            settings,
            events,
        });
    }
    let next = speaker_for(store, session_id, None, None).await?;
    Ok(GroupState {
        is_group: true,
        members,
        settings,
        events,
        next_speaker: next.map(|m| m.character_id),
    })
}

/// Starts a group chat with `character_ids` (each member's greetings first), as the default persona.
pub async fn create_group(store: &Store, character_ids: &[String]) -> Result<SessionSummary> {
    let name = user_name(store, None).await?;
    let id = store
        .create_group_session(character_ids, None, &name)
        .await?;
    store.session_summary(&id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, name: &str, presence: Presence, talk: f64) -> GroupMember {
        GroupMember {
            character_id: id.into(),
            name: name.into(),
            avatar_key: None,
            presence,
            talkativeness: talk,
        }
    }

    #[test]
    fn words_are_unicode_and_lower_case() {
        assert_eq!(words("Hi, Рокси! mira_2"), ["hi", "рокси", "mira_2"]);
    }

    #[test]
    fn talkativeness_reads_strings_numbers_and_defaults() {
        let mut card = CardData::default();
        assert_eq!(talkativeness(&card), 0.5);
        card.extensions
            .insert("talkativeness".into(), serde_json::json!("0.9"));
        assert_eq!(talkativeness(&card), 0.9);
        card.extensions
            .insert("talkativeness".into(), serde_json::json!(7));
        assert_eq!(talkativeness(&card), 1.0);
        card.extensions
            .insert("talkativeness".into(), serde_json::json!("NaN"));
        assert_eq!(talkativeness(&card), 0.5);
    }

    #[test]
    fn nobody_speaks_when_everyone_is_muted_or_absent() {
        let members = [
            member("a", "Ann", Presence::Muted, 1.0),
            member("b", "Bo", Presence::Absent, 1.0),
        ];
        for order in [
            TurnOrder::Manual,
            TurnOrder::Natural,
            TurnOrder::List,
            TurnOrder::Random,
        ] {
            assert_eq!(
                next_speaker(order, &members, LastMessage::default(), 1),
                None
            );
        }
    }
}
