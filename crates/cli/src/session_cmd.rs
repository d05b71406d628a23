//! `confab session …`, `confab chat import|export` and `confab prompt`.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use confab_core::files::read_regular_file;
use confab_core::library;
use confab_core::session::service::{self, ChatExportFormat};
use confab_core::session::transcript;
use confab_core::session::Role;
use confab_core::store::{NewMessage, Store};
use confab_core::Error;

use crate::report::Report;
use crate::{file_name, to_json};

#[derive(Debug, Subcommand)]
pub(crate) enum SessionCommand {
    /// Start a session with a character (its greeting comes first).
    New {
        /// The character's id.
        character: String,
    },
    /// Add a message without asking for a reply.
    Say {
        /// The session.
        session: String,
        /// The text.
        text: String,
        /// Who says it.
        #[arg(long, value_enum, default_value = "user")]
        role: CliRole,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CliRole {
    User,
    Assistant,
    System,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChatCommand {
    /// Import a SillyTavern chat (.jsonl) as a new session of a character.
    Import {
        /// The chat file.
        file: PathBuf,
        /// The character's id.
        #[arg(long)]
        character: String,
    },
    /// Export a session.
    Export {
        /// The session.
        session: String,
        /// The format.
        #[arg(long, value_enum, default_value = "sillytavern")]
        format: ChatFormat,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ChatFormat {
    Sillytavern,
    Markdown,
    Json,
}

pub(crate) async fn session(store: &Store, command: SessionCommand) -> Result<Report, Error> {
    Ok(Report::Json(match command {
        SessionCommand::New { character } => {
            to_json(&service::create_session(store, &character).await?)?
        }
        SessionCommand::Say {
            session,
            text,
            role,
        } => {
            let summary = store.session_summary(&session).await?;
            let (role, name) = match role {
                CliRole::User => (
                    Role::User,
                    service::user_name(store, summary.persona_id.as_deref()).await?,
                ),
                CliRole::Assistant => (Role::Assistant, summary.character_name),
                CliRole::System => (Role::System, String::new()),
            };
            let new = NewMessage {
                role,
                name: &name,
                content: &text,
                status: Default::default(),
                image_ids: &[],
                speaker: None,
            };
            to_json(&store.add_message(&session, new).await?)?
        }
    }))
}

pub(crate) async fn chat(store: &Store, command: ChatCommand) -> Result<Report, Error> {
    match command {
        ChatCommand::Import { file, character } => {
            // A link to a device or a FIFO is refused, and a file over the limit is not read whole.
            let bytes = read_regular_file(&file, transcript::MAX_FILE_BYTES as u64)?;
            let summary = service::import_chat(store, &character, &file_name(&file), bytes).await?;
            Ok(Report::Json(to_json(&summary)?))
        }
        ChatCommand::Export {
            session,
            format,
            output,
        } => {
            let format = match format {
                ChatFormat::Sillytavern => ChatExportFormat::SillyTavern,
                ChatFormat::Markdown => ChatExportFormat::Markdown,
                ChatFormat::Json => ChatExportFormat::Json,
            };
            let (_, bytes, _) = service::export_session_bytes(store, &session, format).await?;
            library::write_atomically(&output, &bytes)?;
            Ok(Report::Exported {
                id: session,
                path: output.display().to_string(),
                bytes: bytes.len(),
            })
        }
    }
}
