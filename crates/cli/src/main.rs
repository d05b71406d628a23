//! `confab`: headless access to the same data as the Confab app.
//!
//! With `--json`, everything on stdout is JSON, and a failure prints
//! `{"error":{"code","message"}}` and exits non-zero, so scripts can rely on it.

mod chat_cmd;
mod output;
mod provider_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use confab_core::card::{self, Limits};
use confab_core::info::AppInfo;
use confab_core::library::{
    self, CharacterQuery, CharacterSort, CharacterSummary, ExportFormat, ImportEvent,
    ImportOutcome, ImportStatus,
};
use confab_core::lore::books::CompiledBooks;
use confab_core::lore::{
    books, compile, formats, scan, ActivationReason, BookSettings, MatchedIn, ScanInput,
    ScanMessage, ScanReport, ScanSources, TimedState, WorldBookFormat, WorldBookSummary,
};
use confab_core::prompt::AssembledPrompt;
use confab_core::session::service::{self, ChatExportFormat, PromptLimits};
use confab_core::session::{CharacterPreferences, Role};
use confab_core::sink::Sink;
use confab_core::store::Store;
use confab_core::store::{NewMessage, SessionQuery};
use confab_core::tokens::default_counter;
use confab_core::{paths, AppError, Error};

use output::Output;
use provider_cmd::{ProviderCommand, ProviderReport};

/// Confab from the terminal: the same library as the app.
#[derive(Debug, Parser)]
#[command(name = "confab", version, about, propagate_version = true)]
struct Cli {
    /// Print JSON on stdout (errors as {"error":{"code","message"}}).
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the version, the data folder, the schema version and what the library holds.
    Info,
    /// Work with card files without importing them.
    #[command(subcommand)]
    Card(CardCommand),
    /// Import card files and folders into the library (one JSON line per file with --json).
    Import {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Export a character to a file.
    Export {
        /// The character's id (see `confab characters`).
        id: String,
        /// The file format.
        #[arg(long, value_enum, default_value = "png")]
        format: Format,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Work with world books (lorebooks).
    #[command(subcommand)]
    Lore(LoreCommand),
    /// Manage personas (who {{user}} is).
    #[command(subcommand)]
    Persona(PersonaCommand),
    /// A character's preferences (relationship, speech, behaviour, summary).
    #[command(subcommand)]
    Preferences(PreferencesCommand),
    /// The primary context that opens every system prompt.
    #[command(subcommand)]
    Context(ContextCommand),
    /// Chat sessions.
    #[command(subcommand)]
    Session(SessionCommand),
    /// List chat sessions, newest first.
    Sessions {
        /// Words in the title or the character's name.
        #[arg(long, default_value = "")]
        search: String,
        /// Archived sessions too.
        #[arg(long)]
        archived: bool,
    },
    /// A page of a session's messages, newest page first.
    Messages {
        /// The session.
        session: String,
        /// Continue before this cursor (printed as olderCursor).
        #[arg(long)]
        before: Option<String>,
        /// Messages per page.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Full-text search over every message (or one session's).
    Search {
        /// The words to find.
        query: String,
        /// Only this session.
        #[arg(long)]
        session: Option<String>,
    },
    /// Chat: `confab chat SESSION "text"` streams the reply (Ctrl-C stops and
    /// saves it); `confab chat import|export` moves chats in and out.
    Chat(ChatArgs),
    /// The exact messages a provider would get for a session, with the explanation.
    Prompt {
        /// The session.
        session: String,
        /// The new user message.
        #[arg(long)]
        message: Option<String>,
        /// The model's context window in tokens.
        #[arg(long, default_value_t = 8192)]
        context: u32,
        /// Tokens kept free for the reply.
        #[arg(long, default_value_t = 512)]
        reserve: u32,
    },
    /// Model providers: add, list, remove, keys, model lists.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Tokens, cost and unfinished requests per provider, model and day.
    Usage {
        /// How many days back, today included.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// List the characters in the library.
    Characters {
        /// Only characters whose name, creator or tags contain these words.
        #[arg(long, default_value = "")]
        search: String,
        /// Only characters with this tag.
        #[arg(long)]
        tag: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CardCommand {
    /// Print a card file as normalised Character Card V3, without importing it.
    Inspect {
        /// A PNG, JSON, CHARX, YAML, Markdown, text, WEBP or JPEG file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum LoreCommand {
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
    Test {
        /// A world-book file, or the id of a book in the library.
        book: String,
        /// A JSON array of {"role","name","content"}, oldest first.
        #[arg(long)]
        chat: PathBuf,
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

#[derive(Debug, Subcommand)]
enum PersonaCommand {
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
enum PreferencesCommand {
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
enum ContextCommand {
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

#[derive(Debug, Subcommand)]
enum SessionCommand {
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
enum CliRole {
    User,
    Assistant,
    System,
}

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Exit codes: 0 done, 1 other failure, 2 usage, 3 not_found, 4 invalid_input, \
5 busy, 10 unauthorized, 11 rate_limited, 12 overloaded, 13 context_too_long, 14 bad_request, \
15 upstream, 16 network, 17 timeout, 18 truncated, 19 protocol, 20 keyring_unavailable, \
130 stopped with Ctrl-C (the partial reply is saved)."
)]
struct ChatArgs {
    #[command(subcommand)]
    command: Option<ChatCommand>,
    /// The session to chat in (see `confab sessions`).
    #[arg(required = true)]
    session: Option<String>,
    /// What to say (not needed with --regenerate, --continue or --impersonate).
    text: Option<String>,
    /// Write a new swipe of the last reply.
    #[arg(long, conflicts_with_all = ["text", "continue_reply", "impersonate"])]
    regenerate: bool,
    /// Write more of the last reply.
    #[arg(long = "continue", conflicts_with_all = ["text", "impersonate"])]
    continue_reply: bool,
    /// Draft your next message as your persona (printed, not saved).
    #[arg(long, conflicts_with = "text")]
    impersonate: bool,
}

#[derive(Debug, Subcommand)]
enum ChatCommand {
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
enum ChatFormat {
    Sillytavern,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BookFileFormat {
    Sillytavern,
    CharacterBook,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let err = Error::Internal(format!("could not start the async runtime: {e}"));
            return out.failure(&AppError::from(err));
        }
    };
    match runtime.block_on(run(cli.command, &out)) {
        Ok(Some(Report::Ending(ending))) => out.ending(ending),
        Ok(Some(report)) => out.success(&report),
        Ok(None) => ExitCode::SUCCESS,
        Err(err) => out.failure(&AppError::from(err)),
    }
}

/// Runs a command; `None` means it printed its own output as it went.
async fn run(command: Command, out: &Output) -> Result<Option<Report>, Error> {
    match command {
        Command::Info => {
            let store = open_store().await?;
            let info = AppInfo::gather(&store).await;
            store.close().await;
            Ok(Some(Report::Info(info?)))
        }
        Command::Card(CardCommand::Inspect { file }) => {
            let parsed = tokio::task::spawn_blocking(move || {
                card::read_card_file(&file, &Limits::default())
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
            Ok(Some(Report::Card(card::to_v3_json(
                &parsed.data,
                Some(&parsed.original),
            ))))
        }
        Command::Import { paths } => {
            let store = open_store().await?;
            let printer = ImportPrinter { json: out.json };
            let summary = library::import_paths(&store, &paths, &Limits::default(), &printer).await;
            store.close().await;
            if !out.json {
                println!(
                    "{} imported, {} already in library, {} failed",
                    summary.imported, summary.already_in_library, summary.failed
                );
            }
            if summary.failed > 0 && summary.imported + summary.already_in_library == 0 {
                return Err(Error::InvalidInput("no file could be imported".into()));
            }
            Ok(None)
        }
        Command::Export { id, format, output } => {
            let store = open_store().await?;
            let character = store.stored_character(&id).await;
            store.close().await;
            let character = character?;
            let bytes = library::export_bytes(&character, format.into())?;
            library::write_atomically(&output, &bytes)?;
            Ok(Some(Report::Exported {
                id,
                path: output.display().to_string(),
                bytes: bytes.len(),
            }))
        }
        Command::Lore(command) => lore(command).await,
        Command::Persona(command) => {
            with_store(|store| async move { persona(&store, command).await }).await
        }
        Command::Preferences(command) => {
            with_store(|store| async move { preferences(&store, command).await }).await
        }
        Command::Context(command) => {
            with_store(|store| async move { context(&store, command).await }).await
        }
        Command::Session(command) => {
            with_store(|store| async move { session(&store, command).await }).await
        }
        Command::Sessions { search, archived } => {
            with_store(|store| async move {
                let query = SessionQuery {
                    search,
                    include_archived: archived,
                };
                Ok(Report::Json(to_json(
                    &store.session_summaries(&query).await?,
                )?))
            })
            .await
        }
        Command::Messages {
            session,
            before,
            limit,
        } => {
            with_store(|store| async move {
                let page = store
                    .messages_page(&session, before.as_deref(), limit)
                    .await?;
                Ok(Report::Json(to_json(&page)?))
            })
            .await
        }
        Command::Search { query, session } => {
            with_store(|store| async move {
                let hits = store
                    .search_messages(&query, session.as_deref(), 100)
                    .await?;
                Ok(Report::Json(to_json(&hits)?))
            })
            .await
        }
        Command::Chat(ChatArgs {
            command: Some(command),
            ..
        }) => with_store(|store| async move { chat(&store, command).await }).await,
        Command::Chat(args) => {
            let ending = stream_reply(args, out).await?;
            Ok(Some(Report::Ending(ending)))
        }
        Command::Prompt {
            session,
            message,
            context,
            reserve,
        } => {
            with_store(|store| async move {
                let limits = PromptLimits {
                    context_window: context,
                    reply_reserve: reserve,
                };
                let prompt = service::assemble_prompt(
                    &store,
                    &CompiledBooks::default(),
                    &session,
                    message,
                    limits,
                )
                .await?;
                Ok(Report::Prompt(prompt))
            })
            .await
        }
        Command::Provider(command) => {
            with_store(|store| async move {
                Ok(Report::Provider(provider_cmd::run(&store, command).await?))
            })
            .await
        }
        Command::Usage { days } => {
            with_store(|store| async move {
                Ok(Report::Provider(provider_cmd::usage(&store, days).await?))
            })
            .await
        }
        Command::Characters { search, tag } => {
            let store = open_store().await?;
            let query = CharacterQuery {
                search,
                tag,
                collection: None,
                sort: CharacterSort::Name,
            };
            let list = store.character_summaries(&query).await;
            store.close().await;
            Ok(Some(Report::Characters(list?)))
        }
    }
}

/// `confab chat SESSION "text"` and its --regenerate/--continue/--impersonate.
async fn stream_reply(args: ChatArgs, out: &Output) -> Result<chat_cmd::Ending, Error> {
    let session = args.session.unwrap_or_default();
    let request = if args.regenerate {
        chat_cmd::Request::Regenerate
    } else if args.continue_reply {
        chat_cmd::Request::Continue
    } else if args.impersonate {
        chat_cmd::Request::Impersonate
    } else {
        chat_cmd::Request::Send
    };
    if request == chat_cmd::Request::Send && args.text.is_none() {
        return Err(Error::InvalidInput(
            "say something: confab chat SESSION \"text\"".into(),
        ));
    }
    let store = open_store().await?;
    let ending = chat_cmd::run(&store, &session, args.text, request, out.json).await;
    store.close().await;
    ending
}

/// Runs `f` with an open store and closes it afterwards, whatever `f` returned.
async fn with_store<F, Fut>(f: F) -> Result<Option<Report>, Error>
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = Result<Report, Error>>,
{
    let store = open_store().await?;
    let result = f(store.clone()).await;
    store.close().await;
    result.map(Some)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}

async fn persona(store: &Store, command: PersonaCommand) -> Result<Report, Error> {
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

async fn preferences(store: &Store, command: PreferencesCommand) -> Result<Report, Error> {
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

async fn context(store: &Store, command: ContextCommand) -> Result<Report, Error> {
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
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            to_json(&store.save_primary_context(&text).await?)?
        }
        ContextCommand::Versions => to_json(&store.context_versions().await?)?,
        ContextCommand::Restore { id } => to_json(&store.restore_context_version(&id).await?)?,
    }))
}

async fn session(store: &Store, command: SessionCommand) -> Result<Report, Error> {
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
            };
            to_json(&store.add_message(&session, new).await?)?
        }
    }))
}

async fn chat(store: &Store, command: ChatCommand) -> Result<Report, Error> {
    match command {
        ChatCommand::Import { file, character } => {
            let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
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

async fn lore(command: LoreCommand) -> Result<Option<Report>, Error> {
    match command {
        LoreCommand::Import { file } => {
            let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
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
            settings,
            seed,
            context,
        } => {
            let messages: Vec<ScanMessage> = read_json(&chat)?;
            let settings_override = match &settings {
                Some(path) => Some(read_settings_override(path)?),
                None => None,
            };
            let path = PathBuf::from(&book);
            let mut loaded = if path.is_file() {
                let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
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
            let key = loaded.name.clone();
            let compiled = compile(&loaded, &key, default_counter())?;
            let input = ScanInput {
                messages,
                sources: ScanSources::default(),
                context_tokens: context,
                settings: None,
            };
            let report = scan(&[&compiled], &input, &mut TimedState::default(), seed);
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

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::InvalidInput(format!("{} is not valid here: {e}", path.display())))
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

async fn open_store() -> Result<Store, Error> {
    Store::open(&paths::data_dir()?).await
}

/// Prints each file's result as it lands: a JSON line, or a readable line.
struct ImportPrinter {
    json: bool,
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

fn describe_reason(reason: &ActivationReason) -> String {
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
    }
}

fn describe(outcome: &ImportOutcome) -> String {
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

/// What a command produced, printed as text or JSON.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
enum Report {
    Info(AppInfo),
    Card(serde_json::Value),
    Characters(Vec<CharacterSummary>),
    Exported {
        id: String,
        path: String,
        bytes: usize,
    },
    Book(WorldBookSummary),
    Json(serde_json::Value),
    Prompt(AssembledPrompt),
    Books(Vec<WorldBookSummary>),
    Scan(ScanReport),
    Provider(ProviderReport),
    /// A streamed reply: printed as it came, so only its ending is left.
    #[serde(skip)]
    Ending(chat_cmd::Ending),
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Report::Info(info) => {
                let c = &info.counts;
                writeln!(f, "Confab {}", info.version)?;
                writeln!(f, "Data folder:    {}", info.data_dir)?;
                writeln!(f, "Database:       {}", info.database_path)?;
                writeln!(f, "Schema version: {}", info.schema_version)?;
                writeln!(f, "Characters:     {}", c.characters)?;
                writeln!(f, "World books:    {}", c.world_books)?;
                writeln!(f, "Chats:          {}", c.sessions)?;
                writeln!(f, "Messages:       {}", c.messages)?;
                write!(f, "Personas:       {}", c.personas)
            }
            Report::Card(card) => {
                let text = serde_json::to_string_pretty(card).map_err(|_| std::fmt::Error)?;
                write!(f, "{text}")
            }
            Report::Characters(list) => {
                for (i, c) in list.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}  {}", c.id, c.name)?;
                    if !c.creator.is_empty() {
                        write!(f, "  by {}", c.creator)?;
                    }
                }
                Ok(())
            }
            Report::Exported { path, bytes, .. } => write!(f, "wrote {path} ({bytes} bytes)"),
            Report::Book(b) => write!(f, "{}  {} ({} entries)", b.id, b.name, b.entry_count),
            Report::Json(value) => {
                let text = serde_json::to_string_pretty(value).map_err(|_| std::fmt::Error)?;
                write!(f, "{text}")
            }
            Report::Prompt(prompt) => write!(f, "{}", confab_core::prompt::explain(prompt)),
            Report::Books(list) => {
                for (i, b) in list.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}  {} ({} entries)", b.id, b.name, b.entry_count)?;
                }
                Ok(())
            }
            Report::Provider(report) => write!(f, "{report}"),
            Report::Ending(_) => Ok(()),
            Report::Scan(report) => {
                writeln!(
                    f,
                    "activated ({} / {} tokens):",
                    report.tokens_used, report.budget
                )?;
                for a in &report.activated {
                    writeln!(
                        f,
                        "  #{:<5} order {:<5} {:>5} tokens  {}  [{}]",
                        a.uid,
                        a.order,
                        a.tokens,
                        a.comment,
                        describe_reason(&a.reason)
                    )?;
                }
                write!(f, "dropped:")?;
                for d in &report.dropped {
                    write!(f, "\n  #{:<5} {}  [{:?}]", d.uid, d.comment, d.reason)?;
                }
                Ok(())
            }
        }
    }
}
