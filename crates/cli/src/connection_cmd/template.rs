//! `confab template …`: list, import, export, show, delete and pin instruct
//! and context templates.

use std::io::Write;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use confab_core::connection::{self, CharacterPins, TemplateKind};
use confab_core::session::turn::{DEFAULT_CONTEXT, FALLBACK_INSTRUCT};
use confab_core::session::Role;
use confab_core::store::Store;
use confab_core::template::{
    context_preset, instruct_preset, render_text_prompt, ContextTemplate, InstructTemplate,
    StoryFields, TextPromptInput, Turn,
};
use confab_core::Error;

use crate::{file_name, group_cmd, read_text};

use super::{known_template, ConnectionReport, ShownTemplate};

#[derive(Debug, Subcommand)]
pub(crate) enum TemplateCommand {
    /// The instruct and context templates: Confab's presets and the ones you saved.
    List {
        /// Only this kind.
        #[arg(long, value_enum)]
        kind: Option<CliTemplateKind>,
    },
    /// Import SillyTavern instruct, context or master-export JSON files (a
    /// saved template replaces one of the same name; a bad file does not stop the others).
    Import {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// A template as SillyTavern JSON (the saved one of that name, else the preset).
    Export {
        /// instruct or context.
        #[arg(value_enum)]
        kind: CliTemplateKind,
        /// Its name (see `confab template list`).
        name: String,
        /// Write it to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A template's fields, and a short sample conversation rendered through it.
    Show {
        /// instruct or context.
        #[arg(value_enum)]
        kind: CliTemplateKind,
        /// Its name.
        name: String,
    },
    /// Pin a character's prompts to an instruct template, whatever its
    /// connection says (`none` unpins it).
    Pin {
        /// The instruct template's name, or `none`.
        name: String,
        /// The character, by id or name.
        #[arg(long)]
        character: String,
    },
    /// Delete a saved template (the preset of its name, if any, is used again).
    Delete {
        /// instruct or context.
        #[arg(value_enum)]
        kind: CliTemplateKind,
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CliTemplateKind {
    /// How turns are wrapped.
    Instruct,
    /// How the card's fields open the prompt (the story string).
    Context,
}

impl From<CliTemplateKind> for TemplateKind {
    fn from(k: CliTemplateKind) -> Self {
        match k {
            CliTemplateKind::Instruct => TemplateKind::Instruct,
            CliTemplateKind::Context => TemplateKind::Context,
        }
    }
}

pub(crate) async fn template_cmd(
    store: &Store,
    command: TemplateCommand,
    json: bool,
) -> Result<ConnectionReport, Error> {
    match command {
        TemplateCommand::List { kind } => {
            let kind = kind.map(TemplateKind::from);
            let list = connection::template_catalog(store)
                .await?
                .into_iter()
                .filter(|t| kind.is_none_or(|k| k == t.kind))
                .collect();
            Ok(ConnectionReport::Templates(list))
        }
        TemplateCommand::Import { files } => import(store, &files, json).await,
        TemplateCommand::Export { kind, name, out } => {
            let text = connection::export_template(store, kind.into(), &name).await?;
            match out {
                Some(path) => {
                    let mut bytes = text.into_bytes();
                    bytes.push(b'\n');
                    confab_core::library::write_atomically(&path, &bytes)?;
                    Ok(ConnectionReport::Done(serde_json::json!({
                        "wrote": path.display().to_string(),
                    })))
                }
                None => {
                    // The file itself, with --json or without.
                    let mut stdout = std::io::stdout().lock();
                    let _ = writeln!(stdout, "{text}");
                    Ok(ConnectionReport::Printed)
                }
            }
        }
        TemplateCommand::Show { kind, name } => show(store, kind.into(), &name).await,
        TemplateCommand::Pin { name, character } => {
            let character = group_cmd::character_id(store, &character).await?;
            let instruct = if name.trim().eq_ignore_ascii_case("none") {
                None
            } else {
                known_template(store, TemplateKind::Instruct, &name).await?;
                Some(name.trim().to_owned())
            };
            let pins = store.character_pins(&character).await?;
            let pins =
                connection::pin_character(store, &character, CharacterPins { instruct, ..pins })
                    .await?;
            Ok(ConnectionReport::Done(serde_json::json!({
                "character": character,
                "profileId": pins.profile_id,
                "instruct": pins.instruct,
            })))
        }
        TemplateCommand::Delete { kind, name } => {
            let kind = TemplateKind::from(kind);
            connection::delete_template(store, kind, &name).await?;
            let builtin = match kind {
                TemplateKind::Instruct => instruct_preset(&name).is_some(),
                TemplateKind::Context => context_preset(&name).is_some(),
            };
            Ok(ConnectionReport::Done(serde_json::json!({
                "deleted": name,
                "kind": kind.as_str(),
                "presetRestored": builtin,
            })))
        }
    }
}

/// Imports each file, printing what it saved (or why not) as it goes; the
/// first bad file's error is the command's, once every file was tried.
async fn import(store: &Store, files: &[PathBuf], json: bool) -> Result<ConnectionReport, Error> {
    let mut first_error = None;
    let mut failed = 0;
    for path in files {
        let saved = match read_text(path) {
            Ok(text) => connection::import_templates(store, &text).await,
            Err(e) => Err(e),
        };
        let file = path.display().to_string();
        match saved {
            Ok(saved) => {
                if json {
                    println!("{}", serde_json::json!({ "file": file, "saved": saved }));
                } else {
                    for t in &saved {
                        println!(
                            "{}: saved {} template \"{}\"{}",
                            file_name(path),
                            t.kind.as_str(),
                            t.name,
                            if t.builtin {
                                " (used instead of the preset of that name)"
                            } else {
                                ""
                            }
                        );
                    }
                }
            }
            Err(e) => {
                if json {
                    let error = serde_json::json!({ "code": e.code(), "message": e.to_string() });
                    println!("{}", serde_json::json!({ "file": file, "error": error }));
                } else {
                    eprintln!("confab: {}: {} [{}]", file_name(path), e, e.code());
                }
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        // A bad file: each was named above, so the ending only counts them.
        Some(Error::InvalidInput(_)) => Err(Error::InvalidInput(format!(
            "{failed} of {} template files could not be imported",
            files.len()
        ))),
        // Anything else (a missing file, a full disk) keeps its own code.
        Some(e) => Err(e),
        None => Ok(ConnectionReport::Printed),
    }
}

async fn show(store: &Store, kind: TemplateKind, name: &str) -> Result<ConnectionReport, Error> {
    let text = connection::export_template(store, kind, name).await?;
    let summary = connection::template_catalog(store)
        .await?
        .into_iter()
        .find(|t| t.kind == kind && t.name == name);
    let (instruct, context) = match kind {
        TemplateKind::Instruct => (
            InstructTemplate::from_st_json(&text)?,
            preset_context(DEFAULT_CONTEXT)?,
        ),
        TemplateKind::Context => (
            preset_instruct(FALLBACK_INSTRUCT)?,
            ContextTemplate::from_st_json(&text)?,
        ),
    };
    let sample = render_text_prompt(&instruct, &context, &sample_input())?.text;
    let template: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Internal(format!("an exported template is not JSON: {e}")))?;
    Ok(ConnectionReport::Shown(Box::new(ShownTemplate {
        kind,
        name: name.to_owned(),
        builtin: summary.as_ref().is_some_and(|s| s.builtin),
        saved: summary.as_ref().is_some_and(|s| s.saved),
        template,
        sample,
    })))
}

fn preset_instruct(name: &str) -> Result<InstructTemplate, Error> {
    instruct_preset(name)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("the {name} preset is missing")))
}

fn preset_context(name: &str) -> Result<ContextTemplate, Error> {
    context_preset(name)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("the {name} context preset is missing")))
}

/// A system prompt and a two-turn exchange (the user, the character, the
/// user again), ending where the character's reply would start.
fn sample_input() -> TextPromptInput {
    let (char_name, user_name) = ("Mira", "Alex");
    TextPromptInput {
        story: StoryFields {
            system: "You are Mira, a ship's navigator. Stay in character.".into(),
            description: "Mira reads the stars for a living.".into(),
            ..StoryFields::default()
        },
        history: vec![
            Turn::new(Role::User, user_name, "Where are we headed?"),
            Turn::new(Role::Assistant, char_name, "South, past the reef."),
            Turn::new(Role::User, user_name, "And if the reef moves?"),
        ],
        char_name: char_name.into(),
        user_name: user_name.into(),
        ..TextPromptInput::default()
    }
}
