//! `confab lore …`: world books from the terminal, and activation tests.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use confab_core::files::read_regular_file;
use confab_core::library;
use confab_core::lore::{
    books, compile, formats, scan, ActivationReason, BookSettings, MatchedIn, ScanInput,
    ScanMessage, ScanSources, TimedState, Trigger, WorldBookFormat,
};
use confab_core::offload;
use confab_core::session::turn::session_scan_input;
use confab_core::tokens::default_counter;
use confab_core::Error;

use crate::report::Report;
use crate::{file_name, open_store, read_json};

#[derive(Debug, Subcommand)]
pub(crate) enum LoreCommand {
    /// Import a world-book file (SillyTavern, character book, NovelAI, Agnai, RisuAI).
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Export a world book from the library.
    Export {
        /// The book's id (see `confab lore list`).
        id: String,
        /// SillyTavern world info or a character book.
        #[arg(long, value_enum, default_value = "sillytavern")]
        format: BookFileFormat,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// List the world books in the library.
    List,
    /// Show which entries a chat activates, in order, and which were dropped and why.
    ///
    /// The chat is a JSON file (--chat), or a real session (--session), scanned
    /// as its next turn would be: its persona, the card's description,
    /// personality, scenario, depth prompt and creator notes as match sources,
    /// its character for entries' filters, and its sticky/cooldown state.
    Test {
        /// A world-book file, or the id of a book in the library.
        book: String,
        /// A JSON array of {"role","name","content"}, oldest first.
        #[arg(long, required_unless_present = "session", conflicts_with = "session")]
        chat: Option<PathBuf>,
        /// A session in the library (see `confab sessions`).
        #[arg(long)]
        session: Option<String>,
        /// With --session: a new user message, as if it were being sent.
        #[arg(long, requires = "session")]
        message: Option<String>,
        /// The kind of generation (entries' triggers are matched against it).
        #[arg(long, value_enum, default_value = "normal")]
        trigger: CliTrigger,
        /// A JSON object overriding the book's settings (scanDepth, recursive, ...).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Seed for probability and inclusion-group draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The model's context window in tokens (the budget is a percent of it).
        #[arg(long, default_value_t = 8192)]
        context: u32,
    },
}

/// A generation type, as SillyTavern names them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CliTrigger {
    Normal,
    Continue,
    Impersonate,
    Swipe,
    Regenerate,
    Quiet,
}

impl From<CliTrigger> for Trigger {
    fn from(t: CliTrigger) -> Self {
        match t {
            CliTrigger::Normal => Trigger::Normal,
            CliTrigger::Continue => Trigger::Continue,
            CliTrigger::Impersonate => Trigger::Impersonate,
            CliTrigger::Swipe => Trigger::Swipe,
            CliTrigger::Regenerate => Trigger::Regenerate,
            CliTrigger::Quiet => Trigger::Quiet,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum BookFileFormat {
    Sillytavern,
    CharacterBook,
}

pub(crate) async fn lore(command: LoreCommand) -> Result<Option<Report>, Error> {
    match command {
        LoreCommand::Import { file } => {
            let bytes = read_regular_file(&file, formats::MAX_BOOK_FILE_BYTES as u64)?;
            let name = file_name(&file);
            let store = open_store().await?;
            let summary = books::import_book_bytes(&store, &name, bytes).await;
            store.close().await;
            Ok(Some(Report::Book(summary?)))
        }
        LoreCommand::Export { id, format, output } => {
            let store = open_store().await?;
            let format = match format {
                BookFileFormat::Sillytavern => WorldBookFormat::SillyTavern,
                BookFileFormat::CharacterBook => WorldBookFormat::CharacterBook,
            };
            let exported = books::export_book_bytes(&store, &id, format).await;
            store.close().await;
            let (_, bytes) = exported?;
            library::write_atomically(&output, &bytes)?;
            Ok(Some(Report::Exported {
                id,
                path: output.display().to_string(),
                bytes: bytes.len(),
            }))
        }
        LoreCommand::List => {
            let store = open_store().await?;
            let list = store.world_book_summaries().await;
            store.close().await;
            Ok(Some(Report::Books(list?)))
        }
        LoreCommand::Test {
            book,
            chat,
            session,
            message,
            trigger,
            settings,
            seed,
            context,
        } => {
            let settings_override = match &settings {
                Some(path) => Some(read_settings_override(path)?),
                None => None,
            };
            let path = PathBuf::from(&book);
            // A path that exists is a file to read (refused unless regular); anything else is a book id.
            let mut loaded = if path.symlink_metadata().is_ok() {
                let bytes = read_regular_file(&path, formats::MAX_BOOK_FILE_BYTES as u64)?;
                formats::read_book(&bytes, &file_name(&path))?.0
            } else {
                let store = open_store().await?;
                let found = store.world_book(&book).await;
                store.close().await;
                found?.0
            };
            if let Some(patch) = settings_override {
                loaded.settings = patch.apply(&loaded.settings)?;
            }
            let (input, mut timed) = match (chat, session) {
                (Some(chat), _) => {
                    let messages: Vec<ScanMessage> = read_json(&chat)?;
                    let input = ScanInput {
                        messages,
                        sources: ScanSources::default(),
                        context_tokens: context,
                        settings: None,
                        trigger: trigger.into(),
                        character: None,
                    };
                    (input, TimedState::default())
                }
                (None, Some(session)) => {
                    let store = open_store().await?;
                    let read = async {
                        tokio::try_join!(
                            session_scan_input(&store, &session, trigger.into(), message),
                            store.lore_timed_state(&session),
                        )
                    }
                    .await;
                    store.close().await;
                    read?
                }
                (None, None) => {
                    return Err(Error::InvalidInput(
                        "say which chat to scan: --chat FILE or --session ID".into(),
                    ))
                }
            };
            // Compiling and scanning are CPU work: off the async workers, as in the app.
            let report = offload::run("the world-info test", move || {
                let compiled = compile(&loaded, &loaded.name, default_counter())?;
                Ok::<_, Error>(scan(&[&compiled], &input, &mut timed, seed))
            })
            .await??;
            Ok(Some(Report::Scan(report)))
        }
    }
}

/// A partial settings object: only the fields given change.
struct SettingsPatch(serde_json::Map<String, serde_json::Value>);

impl SettingsPatch {
    fn apply(&self, base: &BookSettings) -> Result<BookSettings, Error> {
        let mut value = serde_json::to_value(base).map_err(|e| Error::Internal(e.to_string()))?;
        if let serde_json::Value::Object(map) = &mut value {
            for (k, v) in &self.0 {
                map.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(value)
            .map_err(|e| Error::InvalidInput(format!("the settings file is not valid: {e}")))
    }
}

fn read_settings_override(path: &std::path::Path) -> Result<SettingsPatch, Error> {
    match read_json::<serde_json::Value>(path)? {
        serde_json::Value::Object(map) => Ok(SettingsPatch(map)),
        _ => Err(Error::InvalidInput(format!(
            "{} must hold a JSON object of settings",
            path.display()
        ))),
    }
}

pub(crate) fn describe_reason(reason: &ActivationReason) -> String {
    match reason {
        ActivationReason::Key {
            key, matched_in, ..
        } => match matched_in {
            MatchedIn::Message { index } => format!("key {key:?} in message {index}"),
            MatchedIn::Recursion { level } => format!("key {key:?} at recursion level {level}"),
            MatchedIn::Source { name } => format!("key {key:?} in {name}"),
        },
        ActivationReason::Constant => "constant".into(),
        ActivationReason::Sticky { remaining } => format!("sticky, {remaining} left"),
        ActivationReason::MinActivations { depth } => format!("minimum activations, depth {depth}"),
        ActivationReason::Decorator => "@@activate".into(),
    }
}
