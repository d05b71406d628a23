//! SillyTavern's group files: the group definition (`groups/NAME.json`:
//! members by avatar file, activation strategy, generation mode, disabled
//! members) read into a Confab group, and written back from one.
//!
//! Members are found in the library by the card file they came from, else by
//! the name the file is called after; a member the library does not have is
//! named in the error, and nothing is stored.

use serde::{Deserialize, Serialize};

use super::group::{CardMode, GroupSettings, Presence, TurnOrder};
use super::service::{import_group_chat, user_name};
use super::SessionSummary;
use crate::error::{Error, Result};
use crate::library::{CharacterQuery, CharacterSort};
use crate::store::{ImportedGroup, Store};

/// The largest group definition read (a real one is a few hundred bytes).
pub const MAX_GROUP_FILE_BYTES: usize = 1024 * 1024;

/// SillyTavern's group definition, as far as Confab uses it; unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SillyTavernGroup {
    /// The group's id (its chats' folder).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Members by avatar file name (`Seraphina.png`).
    pub members: Vec<String>,
    /// Muted members, by avatar file name.
    pub disabled_members: Vec<String>,
    /// 0 natural, 1 list, 2 manual, 3 pooled.
    pub activation_strategy: u32,
    /// 0 swap cards, 1 join cards, 2 join cards of muted members too.
    pub generation_mode: u32,
    /// Whether a member may answer itself.
    pub allow_self_responses: bool,
    /// The group's current chat.
    pub chat_id: String,
    /// Its chats.
    pub chats: Vec<String>,
    /// Seconds between auto-mode turns.
    pub auto_mode_delay: u32,
    /// Favourite.
    pub fav: bool,
    /// The group's avatar.
    pub avatar_url: String,
}

impl SillyTavernGroup {
    /// Reads a definition file; a bad one is refused with what is wrong.
    pub fn read(bytes: &[u8], file_name: &str) -> Result<SillyTavernGroup> {
        if bytes.len() > MAX_GROUP_FILE_BYTES {
            return Err(Error::TooLarge {
                what: file_name.to_owned(),
                limit: "1 MB".into(),
            });
        }
        let group: SillyTavernGroup =
            serde_json::from_slice(bytes).map_err(|e| Error::UnsupportedFormat {
                file: file_name.to_owned(),
                detail: format!("not a SillyTavern group definition: {e}"),
            })?;
        if group.members.len() < 2 {
            return Err(Error::UnsupportedFormat {
                file: file_name.to_owned(),
                detail: "a group definition names at least two members".into(),
            });
        }
        Ok(group)
    }

    /// How the group takes turns in Confab's words (pooled order has no twin: natural).
    pub fn settings(&self) -> GroupSettings {
        GroupSettings {
            turn_order: match self.activation_strategy {
                1 => TurnOrder::List,
                2 => TurnOrder::Manual,
                _ => TurnOrder::Natural,
            },
            auto_turns: 0,
            card_mode: if self.generation_mode == 0 {
                CardMode::Speaker
            } else {
                CardMode::Join
            },
        }
    }
}

/// The library character a member's avatar file names: the card imported from
/// that file, else the one whose name is the file's stem.
async fn member_id(store: &Store, avatar: &str) -> Result<Option<String>> {
    if let Some(id) = store.character_from_file(avatar).await? {
        return Ok(Some(id));
    }
    let stem = std::path::Path::new(avatar)
        .file_stem()
        .map(|s| s.to_string_lossy().trim().to_owned())
        .unwrap_or_default();
    let query = CharacterQuery {
        search: stem.clone(),
        tag: None,
        collection: None,
        sort: CharacterSort::Name,
    };
    let wanted = stem.to_lowercase();
    Ok(store
        .character_summaries(&query)
        .await?
        .into_iter()
        .find(|c| c.name.trim().to_lowercase() == wanted)
        .map(|c| c.id))
}

/// Imports a SillyTavern group: with its chat files, each becomes a group
/// chat (speakers found by name); without, one new group chat starts with the
/// members' greetings. Members, muted ones and turn settings come along.
pub async fn import_sillytavern_group(
    store: &Store,
    definition: &[u8],
    file_name: &str,
    chats: Vec<(String, Vec<u8>)>,
) -> Result<Vec<SessionSummary>> {
    let st = SillyTavernGroup::read(definition, file_name)?;
    let mut members = Vec::new();
    let mut missing = Vec::new();
    let mut muted = Vec::new();
    for avatar in &st.members {
        match member_id(store, avatar).await? {
            Some(id) if !members.contains(&id) => {
                if st.disabled_members.contains(avatar) {
                    muted.push(id.clone());
                }
                members.push(id);
            }
            Some(_) => {}
            None => missing.push(avatar.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::InvalidInput(format!(
            "these members are not in the library: {}; import their cards first",
            missing.join(", ")
        )));
    }
    let group = ImportedGroup {
        members,
        muted,
        settings: st.settings(),
    };
    let mut made = Vec::new();
    if chats.is_empty() {
        let name = user_name(store, None).await?;
        let id = store
            .create_group_session(&group.members, None, &name)
            .await?;
        store.set_group_settings(&id, &group.settings).await?;
        for m in &group.muted {
            store.set_member_presence(&id, m, Presence::Muted).await?;
        }
        if !st.name.trim().is_empty() {
            store.rename_session(&id, &st.name).await?;
        }
        made.push(store.session_summary(&id).await?);
    } else {
        for (name, bytes) in chats {
            made.push(import_group_chat(store, &group, &name, bytes).await?);
        }
    }
    Ok(made)
}

/// A group chat's definition as SillyTavern writes it: members by card file
/// (the one each was imported from, else `NAME.png`), muted ones disabled.
pub async fn sillytavern_group_definition(
    store: &Store,
    session_id: &str,
) -> Result<SillyTavernGroup> {
    let session = store.session_summary(session_id).await?;
    let members = store.group_members(session_id).await?;
    if members.is_empty() {
        return Err(Error::InvalidInput(
            "this chat is not a group: add a character to it first".into(),
        ));
    }
    let settings = store.group_settings(session_id).await?;
    let mut files = Vec::with_capacity(members.len());
    let mut disabled = Vec::new();
    for m in &members {
        let detail = store.character_detail(&m.character_id).await?;
        let file = if detail.source_file.to_ascii_lowercase().ends_with(".png") {
            detail.source_file.clone()
        } else {
            format!("{}.png", m.name)
        };
        if m.presence != Presence::Present {
            disabled.push(file.clone());
        }
        files.push(file);
    }
    Ok(SillyTavernGroup {
        id: session_id.to_owned(),
        name: session.title,
        members: files,
        disabled_members: disabled,
        activation_strategy: match settings.turn_order {
            TurnOrder::Natural | TurnOrder::Random => 0,
            TurnOrder::List => 1,
            TurnOrder::Manual => 2,
        },
        generation_mode: match settings.card_mode {
            CardMode::Speaker => 0,
            CardMode::Join => 1,
        },
        allow_self_responses: false,
        chat_id: session_id.to_owned(),
        chats: vec![session_id.to_owned()],
        auto_mode_delay: 5,
        fav: false,
        avatar_url: String::new(),
    })
}

/// Imports a SillyTavern group chat file as a new chat of the same group as
/// `session_id` (its members, muted ones and turn settings).
pub async fn import_chat_into_group(
    store: &Store,
    session_id: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<SessionSummary> {
    let members = store.group_members(session_id).await?;
    if members.is_empty() {
        return Err(Error::InvalidInput(
            "that chat is not a group: import into a character instead".into(),
        ));
    }
    let group = ImportedGroup {
        muted: members
            .iter()
            .filter(|m| m.presence != Presence::Present)
            .map(|m| m.character_id.clone())
            .collect(),
        members: members.into_iter().map(|m| m.character_id).collect(),
        settings: store.group_settings(session_id).await?,
    };
    import_group_chat(store, &group, file_name, bytes).await
}
