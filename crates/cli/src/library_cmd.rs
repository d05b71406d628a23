//! `confab card`, `confab persona`, `confab preferences`, `confab context`, and import progress.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use confab_core::library::{ExportFormat, ImportEvent, ImportOutcome, ImportStatus};
use confab_core::session::service;
use confab_core::session::CharacterPreferences;
use confab_core::sink::Sink;
use confab_core::store::Store;
use confab_core::Error;

use crate::report::Report;
use crate::{read_json, read_text, to_json};

#[derive(Debug, Subcommand)]
pub(crate) enum CardCommand {
    /// Print a card file as normalised Character Card V3, without importing it.
    Inspect {
        /// A PNG, JSON, CHARX, YAML, Markdown, text, WEBP or JPEG file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PersonaCommand {
    /// List personas.
    List,
    /// Add a persona (the first becomes the default).
    Add {
        /// Its name.
        name: String,
        /// Its description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Make a persona the default.
    Default {
        /// The persona's id.
        id: String,
    },
    /// Delete a persona.
    Delete {
        /// The persona's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PreferencesCommand {
    /// Show a character's preferences.
    Get {
        /// The character's id.
        character: String,
    },
    /// Set a character's preferences from a JSON file
    /// ({"relationship","customRelationship","speech":[],"behaviour":[],"summary"}).
    Set {
        /// The character's id.
        character: String,
        /// The preferences JSON.
        file: PathBuf,
    },
    /// Remove a character's preferences.
    Delete {
        /// The character's id.
        character: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContextCommand {
    /// Show the primary context in force.
    Get,
    /// Save a new version from a text file.
    Set {
        /// The text file.
        file: PathBuf,
    },
    /// List saved versions, newest first.
    Versions,
    /// Make an older version the newest.
    Restore {
        /// The version's id.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Png,
    Json,
    JsonV2,
    Charx,
}

impl From<Format> for ExportFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Png => ExportFormat::Png,
            Format::Json => ExportFormat::Json,
            Format::JsonV2 => ExportFormat::JsonV2,
            Format::Charx => ExportFormat::Charx,
        }
    }
}

pub(crate) async fn persona(store: &Store, command: PersonaCommand) -> Result<Report, Error> {
    Ok(Report::Json(match command {
        PersonaCommand::List => to_json(&store.personas().await?)?,
        PersonaCommand::Add { name, description } => {
            to_json(&store.create_persona(&name, &description).await?)?
        }
        PersonaCommand::Default { id } => to_json(&store.set_default_persona(&id).await?)?,
        PersonaCommand::Delete { id } => {
            store.delete_persona(&id).await?;
            serde_json::json!({"deleted": id})
        }
    }))
}

pub(crate) async fn preferences(
    store: &Store,
    command: PreferencesCommand,
) -> Result<Report, Error> {
    Ok(Report::Json(match command {
        PreferencesCommand::Get { character } => to_json(&store.preferences(&character).await?)?,
        PreferencesCommand::Set { character, file } => {
            let prefs: CharacterPreferences = read_json(&file)?;
            confab_core::prompt::validate_preferences(&prefs)?;
            store.set_preferences(&character, &prefs).await?;
            to_json(&prefs)?
        }
        PreferencesCommand::Delete { character } => {
            store.delete_preferences(&character).await?;
            serde_json::json!({"deleted": character})
        }
    }))
}

pub(crate) async fn context(store: &Store, command: ContextCommand) -> Result<Report, Error> {
    Ok(Report::Json(match command {
        ContextCommand::Get => {
            let current = store.context_versions().await?.into_iter().next();
            serde_json::json!({
                "current": current,
                "text": service::primary_context_text(store).await?,
                "postHistory": store.post_history().await?,
            })
        }
        ContextCommand::Set { file } => {
            let text = read_text(&file)?;
            to_json(&store.save_primary_context(&text).await?)?
        }
        ContextCommand::Versions => to_json(&store.context_versions().await?)?,
        ContextCommand::Restore { id } => to_json(&store.restore_context_version(&id).await?)?,
    }))
}

/// Prints each file's result as it lands: a JSON line, or a readable line.
pub(crate) struct ImportPrinter {
    /// One JSON line per file instead of text.
    pub json: bool,
}

impl Sink<ImportEvent> for ImportPrinter {
    fn send(&self, event: ImportEvent) {
        let ImportEvent::Progress { outcome, .. } = event else {
            return;
        };
        if self.json {
            if let Ok(line) = serde_json::to_string(&outcome) {
                println!("{line}");
            }
        } else {
            println!("{}", describe(&outcome));
        }
    }
}

pub(crate) fn describe(outcome: &ImportOutcome) -> String {
    let name = outcome.name.as_deref().unwrap_or("?");
    match (&outcome.status, &outcome.error) {
        (ImportStatus::Imported, _) => format!("imported      {} ({name})", outcome.file),
        (ImportStatus::AlreadyInLibrary, _) => {
            format!("already there {} ({name})", outcome.file)
        }
        (ImportStatus::Failed, Some(e)) => format!("failed        {}: {}", outcome.file, e.message),
        (ImportStatus::Failed, None) => format!("failed        {}", outcome.file),
    }
}
