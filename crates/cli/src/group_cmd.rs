//! `confab group …`: start a group chat, add and remove members, mute them,
//! send them out of the scene, and set how the group takes turns.
//!
//! Characters are named by id or by name (exact, any case); a name two
//! characters share is refused with both ids, so nothing acts on a guess.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use confab_core::files::read_regular_file;
use confab_core::library::{CharacterQuery, CharacterSort};
use confab_core::session::group::{self, CardMode, Presence, TurnOrder};
use confab_core::session::{group_files, transcript};
use confab_core::store::Store;
use confab_core::Error;

use crate::report::Report;
use crate::{file_name, to_json};

#[derive(Debug, Subcommand)]
pub(crate) enum GroupCommand {
    /// Start a group chat with two or more characters (each greets in turn).
    New {
        /// The characters, by id or name.
        #[arg(required = true, num_args = 2..)]
        characters: Vec<String>,
    },
    /// Who is in a chat, how it takes turns, and who would speak next.
    Show {
        /// The session.
        session: String,
    },
    /// Add a character to a chat (a 1:1 chat becomes a group).
    Add {
        /// The session.
        session: String,
        /// The character, by id or name.
        character: String,
    },
    /// Remove a member (its messages stay; with one left the chat is 1:1 again).
    Remove {
        /// The session.
        session: String,
        /// The member, by id or name.
        character: String,
    },
    /// Mute a member: in the scene, never chosen to speak (`--off` unmutes).
    Mute {
        /// The session.
        session: String,
        /// The member, by id or name.
        character: String,
        /// Bring it back instead.
        #[arg(long)]
        off: bool,
    },
    /// Send a member out of the scene: its card and books leave the prompt (`--off` brings it back).
    Absent {
        /// The session.
        session: String,
        /// The member, by id or name.
        character: String,
        /// Bring it back instead.
        #[arg(long)]
        off: bool,
    },
    /// Import a SillyTavern group definition (`groups/NAME.json`), with its chat
    /// files when given (each becomes a group chat), else as a new group chat.
    Import {
        /// The group definition.
        definition: PathBuf,
        /// Its chat files (.jsonl), each a group chat.
        #[arg(long = "chat")]
        chats: Vec<PathBuf>,
    },
    /// Write a group chat's SillyTavern group definition (export the chat itself with `confab chat export`).
    Export {
        /// The session.
        session: String,
        /// Where to write it (an existing file is not overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// How the group takes turns.
    Settings {
        /// The session.
        session: String,
        /// Who speaks next.
        #[arg(long, value_enum)]
        order: Option<CliTurnOrder>,
        /// Turns members take on their own after a reply (0 to 100).
        #[arg(long)]
        auto: Option<u32>,
        /// Whose cards a member's prompt carries.
        #[arg(long, value_enum)]
        cards: Option<CliCardMode>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CliTurnOrder {
    Manual,
    Natural,
    List,
    Random,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CliCardMode {
    /// The speaker's card and the other members' descriptions.
    Join,
    /// Only the speaker's card.
    Speaker,
}

pub(crate) async fn group_cmd(store: &Store, command: GroupCommand) -> Result<Report, Error> {
    let state = |session: String| async move {
        Ok::<_, Error>(Report::Json(to_json(
            &group::group_state(store, &session).await?,
        )?))
    };
    match command {
        GroupCommand::New { characters } => {
            let mut ids = Vec::with_capacity(characters.len());
            for c in &characters {
                ids.push(character_id(store, c).await?);
            }
            Ok(Report::Json(to_json(
                &group::create_group(store, &ids).await?,
            )?))
        }
        GroupCommand::Show { session } => state(session).await,
        GroupCommand::Import { definition, chats } => {
            let bytes = read_regular_file(&definition, group_files::MAX_GROUP_FILE_BYTES as u64)?;
            let mut files = Vec::with_capacity(chats.len());
            for chat in &chats {
                files.push((
                    file_name(chat),
                    read_regular_file(chat, transcript::MAX_FILE_BYTES as u64)?,
                ));
            }
            let made = group_files::import_sillytavern_group(
                store,
                &bytes,
                &file_name(&definition),
                files,
            )
            .await?;
            Ok(Report::Json(to_json(&made)?))
        }
        GroupCommand::Export { session, output } => {
            let definition = group_files::sillytavern_group_definition(store, &session).await?;
            let bytes = serde_json::to_vec_pretty(&definition)
                .map_err(|e| Error::Internal(format!("could not write the group: {e}")))?;
            let (path, size) = (output.clone(), bytes.len());
            tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)?;
                file.write_all(&bytes)?;
                file.sync_all()
            })
            .await
            .map_err(|e| Error::Internal(format!("writing the group stopped: {e}")))?
            .map_err(|e| Error::io(&output, e))?;
            Ok(Report::Exported {
                id: session,
                path: output.display().to_string(),
                bytes: size,
            })
        }
        GroupCommand::Add { session, character } => {
            let id = character_id(store, &character).await?;
            store.add_group_member(&session, &id).await?;
            state(session).await
        }
        GroupCommand::Remove { session, character } => {
            let id = character_id(store, &character).await?;
            store.remove_group_member(&session, &id).await?;
            state(session).await
        }
        GroupCommand::Mute {
            session,
            character,
            off,
        } => {
            let id = character_id(store, &character).await?;
            let presence = if off {
                Presence::Present
            } else {
                Presence::Muted
            };
            store.set_member_presence(&session, &id, presence).await?;
            state(session).await
        }
        GroupCommand::Absent {
            session,
            character,
            off,
        } => {
            let id = character_id(store, &character).await?;
            let presence = if off {
                Presence::Present
            } else {
                Presence::Absent
            };
            store.set_member_presence(&session, &id, presence).await?;
            state(session).await
        }
        GroupCommand::Settings {
            session,
            order,
            auto,
            cards,
        } => {
            let mut settings = store.group_settings(&session).await?;
            if let Some(order) = order {
                settings.turn_order = match order {
                    CliTurnOrder::Manual => TurnOrder::Manual,
                    CliTurnOrder::Natural => TurnOrder::Natural,
                    CliTurnOrder::List => TurnOrder::List,
                    CliTurnOrder::Random => TurnOrder::Random,
                };
            }
            if let Some(auto) = auto {
                settings.auto_turns = auto;
            }
            if let Some(cards) = cards {
                settings.card_mode = match cards {
                    CliCardMode::Join => CardMode::Join,
                    CliCardMode::Speaker => CardMode::Speaker,
                };
            }
            store.set_group_settings(&session, &settings).await?;
            state(session).await
        }
    }
}

/// A character's id from its id or its name (exact, any case).
pub(crate) async fn character_id(store: &Store, given: &str) -> Result<String, Error> {
    if store.character_summary(given).await.is_ok() {
        return Ok(given.to_owned());
    }
    let query = CharacterQuery {
        search: given.to_owned(),
        tag: None,
        collection: None,
        sort: CharacterSort::Name,
    };
    let wanted = given.trim().to_lowercase();
    let named: Vec<_> = store
        .character_summaries(&query)
        .await?
        .into_iter()
        .filter(|c| c.name.trim().to_lowercase() == wanted)
        .collect();
    match named.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::NotFound {
            what: format!("character {given}"),
        }),
        many => Err(Error::InvalidInput(format!(
            "{} characters are called {given}; name one by id: {}",
            many.len(),
            many.iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
