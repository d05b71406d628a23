//! `confab memory …`: a chat's summaries, its memory settings, notes for retrieval, searches.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Subcommand, ValueEnum};
use confab_core::chat::{ChatEngine, EngineConfig};
use confab_core::memory::settings::{MemorySettings, ModelChoice};
use confab_core::memory::summary::{MemoryHit, MemoryNote, MemorySummary, MemoryView};
use confab_core::providers;
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::sink::Discard;
use confab_core::store::Store;
use confab_core::Error;

use crate::provider_cmd::resolve;
use crate::report::Report;

/// A chat's memory.
#[derive(Debug, Subcommand)]
pub(crate) enum MemoryCommand {
    /// The chat's summaries (oldest first), what is left unsummarised, its settings and notes.
    Show {
        /// The session.
        session: String,
    },
    /// Replace a summary's text (it is marked edited and no longer stale).
    Edit {
        /// The session.
        session: String,
        /// The summary (see `confab memory show`).
        summary_id: String,
        /// The new text.
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        text: Option<String>,
        /// Read the new text from a file.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Write a summary again now; without an id, summarise now whatever left the window unsummarised.
    Regenerate {
        /// The session.
        session: String,
        /// The summary.
        summary_id: Option<String>,
    },
    /// Pin a summary: kept as written and always sent, never redone on its own.
    Pin {
        /// The session.
        session: String,
        /// The summary.
        summary_id: String,
    },
    /// Unpin a summary.
    Unpin {
        /// The session.
        session: String,
        /// The summary.
        summary_id: String,
    },
    /// Delete a summary: its messages are summarised again after the next reply.
    Delete {
        /// The session.
        session: String,
        /// The summary.
        summary_id: String,
    },
    /// Show or change the chat's memory settings (only the options given change).
    Settings(SettingsArgs),
    /// The chat's passages most similar to TEXT, best first, with their scores.
    Search {
        /// The session.
        session: String,
        /// What to look for.
        text: String,
        /// How many passages at most.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: u32,
    },
    /// Notes attached to the chat for retrieval.
    #[command(subcommand)]
    Note(NoteCommand),
}

/// `confab memory note …`.
#[derive(Debug, Subcommand)]
pub(crate) enum NoteCommand {
    /// Attach a note (embedded in the background once retrieval has a model).
    Add {
        /// The session.
        session: String,
        /// The note.
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        text: Option<String>,
        /// Read the note from a file.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Remove a note.
    Delete {
        /// The session.
        session: String,
        /// The note's id (see `confab memory show`).
        note_id: i64,
    },
}

/// `confab memory settings`.
#[derive(Debug, clap::Args)]
pub(crate) struct SettingsArgs {
    /// The session.
    session: String,
    /// Summarise messages that leave the window.
    #[arg(long, value_enum)]
    summaries: Option<Switch>,
    /// Who writes the summaries: PROVIDER[:MODEL] (id or name), or `chat` for the chat's own connection.
    #[arg(long, value_name = "PROVIDER[:MODEL]|chat")]
    summarizer: Option<String>,
    /// The summary prompt, from a file.
    #[arg(long, conflicts_with = "default_prompt")]
    prompt_file: Option<PathBuf>,
    /// Go back to the default summary prompt.
    #[arg(long)]
    default_prompt: bool,
    /// Retrieve earlier passages relevant to each turn.
    #[arg(long, value_enum)]
    retrieval: Option<Switch>,
    /// The embeddings model: PROVIDER[:MODEL] of an OpenAI-style provider, or `none`.
    #[arg(long, value_name = "PROVIDER[:MODEL]|none")]
    embeddings: Option<String>,
    /// How many chat messages come after the retrieved passages.
    #[arg(long)]
    depth: Option<u32>,
    /// The most passages inserted per turn.
    #[arg(long)]
    count: Option<u32>,
    /// Passages scoring below this (cosine similarity, -1 to 1) are left out.
    #[arg(long, allow_negative_numbers = true)]
    min_score: Option<f32>,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Switch {
    On,
    Off,
}

impl Switch {
    fn on(self) -> bool {
        matches!(self, Switch::On)
    }
}

/// What a memory command did.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum MemoryReport {
    View(Box<MemoryView>),
    Summary(MemorySummary),
    Written(Vec<MemorySummary>),
    Settings(MemorySettings),
    Note(MemoryNote),
    Hits(Vec<MemoryHit>),
    Deleted { deleted: String },
}

/// Runs a `confab memory` command.
pub(crate) async fn memory_cmd(store: &Store, command: MemoryCommand) -> Result<Report, Error> {
    let engine = engine(store)?;
    let report = match command {
        MemoryCommand::Show { session } => {
            MemoryReport::View(Box::new(engine.memory_view(&session).await?))
        }
        MemoryCommand::Edit {
            session,
            summary_id,
            text,
            file,
        } => {
            let text = text_or_file(text, file)?;
            on_path(&engine, &session, &summary_id).await?;
            MemoryReport::Summary(engine.edit_summary(&summary_id, &text).await?)
        }
        MemoryCommand::Regenerate {
            session,
            summary_id: Some(id),
        } => {
            on_path(&engine, &session, &id).await?;
            MemoryReport::Summary(engine.regenerate_summary(&id).await?)
        }
        MemoryCommand::Regenerate {
            session,
            summary_id: None,
        } => MemoryReport::Written(engine.summarize_now(&session).await?),
        MemoryCommand::Pin {
            session,
            summary_id,
        } => {
            on_path(&engine, &session, &summary_id).await?;
            MemoryReport::Summary(engine.pin_summary(&summary_id, true).await?)
        }
        MemoryCommand::Unpin {
            session,
            summary_id,
        } => {
            on_path(&engine, &session, &summary_id).await?;
            MemoryReport::Summary(engine.pin_summary(&summary_id, false).await?)
        }
        MemoryCommand::Delete {
            session,
            summary_id,
        } => {
            on_path(&engine, &session, &summary_id).await?;
            engine.delete_summary(&summary_id).await?;
            MemoryReport::Deleted {
                deleted: summary_id,
            }
        }
        MemoryCommand::Settings(args) => settings(store, &engine, args).await?,
        MemoryCommand::Search {
            session,
            text,
            limit,
        } => MemoryReport::Hits(engine.search_memory(&session, &text, limit).await?),
        MemoryCommand::Note(NoteCommand::Add {
            session,
            text,
            file,
        }) => {
            let text = text_or_file(text, file)?;
            MemoryReport::Note(engine.add_memory_note(&session, &text).await?)
        }
        MemoryCommand::Note(NoteCommand::Delete { session, note_id }) => {
            let view = engine.memory_view(&session).await?;
            if !view.notes.iter().any(|n| n.id == note_id) {
                return Err(Error::NotFound {
                    what: format!("note {note_id} in this chat"),
                });
            }
            engine.delete_memory_note(note_id).await?;
            MemoryReport::Deleted {
                deleted: note_id.to_string(),
            }
        }
    };
    Ok(Report::Memory(report))
}

/// The engine for one command: keys from the environment, no live notices.
fn engine(store: &Store) -> Result<ChatEngine, Error> {
    Ok(ChatEngine::new(
        store.clone(),
        Arc::new(Keys::from_env(store.clone())),
        Arc::new(PromptCaches::default()),
        providers::http_client()?,
        EngineConfig::default(),
        Arc::new(Discard),
    ))
}

/// Refuses a summary that is not on the chat's active path: the session named
/// on the command line is checked, not ignored.
async fn on_path(engine: &ChatEngine, session: &str, summary_id: &str) -> Result<(), Error> {
    let view = engine.memory_view(session).await?;
    if view.summaries.iter().any(|s| s.id == summary_id) {
        Ok(())
    } else {
        Err(Error::NotFound {
            what: format!("summary {summary_id} on this chat's active path"),
        })
    }
}

fn text_or_file(text: Option<String>, file: Option<PathBuf>) -> Result<String, Error> {
    match (text, file) {
        (_, Some(path)) => crate::read_text(&path),
        (Some(text), None) => Ok(text),
        (None, None) => Err(Error::InvalidInput("give the text or --file".into())),
    }
}

/// `PROVIDER[:MODEL]` → the provider's id (by id or name) and the model, if any.
async fn choice(store: &Store, spec: &str) -> Result<ModelChoice, Error> {
    // Provider ids and names have no colon; model names may (`llama3:8b`).
    let (provider, model) = match spec.split_once(':') {
        Some((p, m)) => (p, Some(m.trim()).filter(|m| !m.is_empty())),
        None => (spec, None),
    };
    Ok(ModelChoice {
        provider_id: resolve(store, provider).await?,
        model: model.map(str::to_owned),
    })
}

/// `confab memory settings`: shows them, or changes the options given and shows the result.
async fn settings(
    store: &Store,
    engine: &ChatEngine,
    args: SettingsArgs,
) -> Result<MemoryReport, Error> {
    let mut settings = engine.memory_view(&args.session).await?.settings;
    let before = settings.clone();
    if let Some(on) = args.summaries {
        settings.summaries = on.on();
    }
    if let Some(spec) = &args.summarizer {
        settings.summarizer = match spec.trim() {
            "chat" => None,
            spec => Some(choice(store, spec).await?),
        };
    }
    if let Some(path) = &args.prompt_file {
        settings.summary_prompt = Some(crate::read_text(path)?);
    }
    if args.default_prompt {
        settings.summary_prompt = None;
    }
    if let Some(on) = args.retrieval {
        settings.retrieval = on.on();
    }
    if let Some(spec) = &args.embeddings {
        settings.embeddings = match spec.trim() {
            "none" => None,
            spec => Some(choice(store, spec).await?),
        };
    }
    if let Some(depth) = args.depth {
        settings.retrieval_depth = depth;
    }
    if let Some(count) = args.count {
        settings.retrieval_count = count;
    }
    if let Some(score) = args.min_score {
        settings.retrieval_min_score = score;
    }
    if settings == before {
        return Ok(MemoryReport::Settings(settings));
    }
    Ok(MemoryReport::Settings(
        engine.set_memory_settings(&args.session, settings).await?,
    ))
}

impl std::fmt::Display for MemoryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemoryReport::View(view) => write_view(f, view),
            MemoryReport::Summary(s) => write_summary(f, s),
            MemoryReport::Written(list) if list.is_empty() => {
                write!(
                    f,
                    "nothing to summarise: every message that left the window has a summary"
                )
            }
            MemoryReport::Written(list) => {
                for (i, s) in list.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write_summary(f, s)?;
                }
                Ok(())
            }
            MemoryReport::Settings(s) => write_settings(f, s),
            MemoryReport::Note(n) => write_note(f, n),
            MemoryReport::Hits(hits) if hits.is_empty() => write!(f, "nothing similar found"),
            MemoryReport::Hits(hits) => {
                for (i, hit) in hits.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    let from = match (&hit.message_id, hit.position) {
                        (None, _) => "note".to_owned(),
                        (Some(_), Some(n)) => format!("message {n}"),
                        (Some(_), None) => "another branch".to_owned(),
                    };
                    writeln!(f, "{:.2}  {from}  (passage {})", hit.score, hit.id)?;
                    write!(f, "      {}", indented(&hit.text))?;
                }
                Ok(())
            }
            MemoryReport::Deleted { deleted } => write!(f, "deleted {deleted}"),
        }
    }
}

fn write_view(f: &mut std::fmt::Formatter<'_>, view: &MemoryView) -> std::fmt::Result {
    write_settings(f, &view.settings)?;
    writeln!(f)?;
    if view.summarizing {
        writeln!(f, "writing a summary now")?;
    }
    if view.unsummarized > 0 {
        writeln!(
            f,
            "{} message{} left the window without a summary",
            view.unsummarized,
            if view.unsummarized == 1 { "" } else { "s" }
        )?;
    }
    if let Some(err) = &view.last_error {
        writeln!(f, "the last summary failed: {}", err.message)?;
    }
    if view.summaries.is_empty() {
        write!(f, "no summaries yet")?;
    }
    for (i, s) in view.summaries.iter().enumerate() {
        if i > 0 {
            writeln!(f)?;
        }
        write_summary(f, s)?;
    }
    if !view.notes.is_empty() {
        write!(f, "\nnotes:")?;
        for n in &view.notes {
            write!(f, "\n  ")?;
            write_note(f, n)?;
        }
    }
    Ok(())
}

fn write_summary(f: &mut std::fmt::Formatter<'_>, s: &MemorySummary) -> std::fmt::Result {
    write!(
        f,
        "{}  messages {}–{}",
        s.id, s.first_position, s.last_position
    )?;
    if let Some(tokens) = s.tokens {
        write!(f, "  {tokens} tokens")?;
    }
    let marks: Vec<&str> = [
        (s.stale, "stale"),
        (s.pinned, "pinned"),
        (s.edited, "edited"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if !marks.is_empty() {
        write!(f, "  [{}]", marks.join(", "))?;
    }
    if s.author.is_empty() {
        write!(f, "  by you")?;
    } else {
        write!(f, "  by {}", s.author)?;
    }
    write!(f, "\n      {}", indented(&s.content))
}

fn write_settings(f: &mut std::fmt::Formatter<'_>, s: &MemorySettings) -> std::fmt::Result {
    let who = |c: &Option<ModelChoice>, none: &str| match c {
        None => none.to_owned(),
        Some(ModelChoice {
            provider_id,
            model: Some(model),
        }) => format!("{provider_id}:{model}"),
        Some(ModelChoice { provider_id, .. }) => format!("{provider_id} (its default model)"),
    };
    let on = |b: bool| if b { "on" } else { "off" };
    writeln!(
        f,
        "summaries: {}, by {}",
        on(s.summaries),
        who(&s.summarizer, "the chat's own connection")
    )?;
    writeln!(
        f,
        "summary prompt: {}",
        if s.summary_prompt.is_some() {
            "the chat's own"
        } else {
            "the default"
        }
    )?;
    write!(
        f,
        "retrieval: {}, embeddings {}, {} passages at most, {} messages deep, lowest score {:.2}",
        on(s.retrieval),
        who(&s.embeddings, "not chosen"),
        s.retrieval_count,
        s.retrieval_depth,
        s.retrieval_min_score
    )
}

fn write_note(f: &mut std::fmt::Formatter<'_>, n: &MemoryNote) -> std::fmt::Result {
    write!(f, "{}  {}", n.id, n.text)?;
    if !n.embedded {
        write!(f, "  (not embedded yet)")?;
    }
    Ok(())
}

/// Continuation lines of a text, indented under their heading.
fn indented(text: &str) -> String {
    text.trim().replace('\n', "\n      ")
}
