//! `confab`: headless access to the same data as the Confab app.
//!
//! With `--json`, everything on stdout is JSON, and a failure prints
//! `{"error":{"code","message"}}` and exits non-zero, so scripts can rely on it.

mod backup_cmd;
mod chat_cmd;
mod connection_cmd;
mod group_cmd;
mod library_cmd;
mod lore_cmd;
mod memory_cmd;
mod output;
mod provider_cmd;
mod report;
mod session_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use confab_core::card::{self, Limits};
use confab_core::chat::{open_library, Presence};
use confab_core::info::AppInfo;
use confab_core::library::{self, CharacterQuery, CharacterSort};
use confab_core::session::turn::{
    preview_turn, PromptCaches, PromptPreview, TemplateOrigin, TurnRequest,
};
use confab_core::store::SessionQuery;
use confab_core::store::Store;
use confab_core::{paths, AppError, Error, ErrorCode};
use std::io::Write;

use backup_cmd::{BackupCommand, LibraryCommand};
use connection_cmd::{ConnectionReport, ProfileCommand, TemplateCommand};
use group_cmd::{group_cmd, GroupCommand};
use library_cmd::{
    context, persona, preferences, CardCommand, ContextCommand, Format, ImportPrinter,
    PersonaCommand, PreferencesCommand,
};
use lore_cmd::{lore, LoreCommand};
use memory_cmd::{memory_cmd, MemoryCommand};
use output::Output;
use provider_cmd::ProviderCommand;
use report::Report;
use session_cmd::{chat, session, ChatCommand, SessionCommand};

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
    /// Group chats: members, presence, turn order.
    #[command(subcommand)]
    Group(GroupCommand),
    /// A chat's memory: summaries of what left the window, settings, notes, search.
    #[command(subcommand)]
    Memory(MemoryCommand),
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
        /// In a group chat, the prompt this member would get (by id or name; default: who would speak next).
        #[arg(long = "as")]
        speaker: Option<String>,
        /// Also print the request body the provider would get.
        #[arg(long, conflicts_with = "raw")]
        request: bool,
        /// Print only the exact text a text-completion provider (KoboldCpp,
        /// llama.cpp, /v1/completions) would get; its template and why go to stderr.
        #[arg(long)]
        raw: bool,
    },
    /// Backups of the library: list, create, restore.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// The whole library as one archive: export, import (merge).
    #[command(subcommand)]
    Library(LibraryCommand),
    /// Model providers: add, list, remove, keys, model lists.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Instruct and context templates for text-completion providers: list, import, export, show, delete.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Connection profiles: a provider, model, templates and samplers under one name.
    #[command(subcommand)]
    Profile(ProfileCommand),
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

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Exit codes: 0 done, 1 other failure, 2 usage, 3 not_found, 4 invalid_input, \
5 busy, 10 unauthorized, 11 rate_limited, 12 overloaded, 13 context_too_long, 14 bad_request, \
15 upstream, 16 network, 17 timeout, 18 truncated, 19 protocol, 20 keyring_unavailable, \
21 disk_full, 22 reply_streaming, 130 stopped with Ctrl-C (the partial reply is saved)."
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
    /// In a group chat, pass your turn: a member speaks with no new message.
    #[arg(long, conflicts_with_all = ["text", "regenerate", "continue_reply", "impersonate"])]
    pass: bool,
    /// In a group chat, the member who answers (by id or name; default: the turn order).
    #[arg(long = "as", conflicts_with_all = ["continue_reply", "impersonate"])]
    speaker: Option<String>,
}

fn main() -> ExitCode {
    // Started as a template worker (by this very binary): serve renders and exit.
    if let Some(code) = confab_core::template::serve_worker_if_asked() {
        return code;
    }
    // Models' Jinja chat templates render in that worker, whose memory is limited.
    if let Ok(exe) = std::env::current_exe() {
        confab_core::template::isolate_renders(exe);
    }
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
        Ok(Some(Report::Printed | Report::Connection(ConnectionReport::Printed))) => {
            ExitCode::SUCCESS
        }
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
                return Err(nothing_imported(&summary));
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
        Command::Group(command) => {
            with_store(|store| async move { group_cmd(&store, command).await }).await
        }
        Command::Memory(command) => {
            with_store(|store| async move { memory_cmd(&store, command).await }).await
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
            speaker,
            request,
            raw,
        } => {
            with_store(|store| async move {
                let speaker = match speaker {
                    Some(s) => Some(group_cmd::character_id(&store, &s).await?),
                    None => None,
                };
                let turn = TurnRequest {
                    new_message: message,
                    speaker,
                    ..TurnRequest::default()
                };
                // Retrieval embeds the turn's query, as a send would.
                let caches = PromptCaches::default();
                caches.retrieval.connect(
                    std::sync::Arc::new(confab_core::secrets::Keys::from_env(store.clone())),
                    confab_core::providers::http_client()?,
                );
                let preview = preview_turn(&store, &caches, &session, &turn, request).await?;
                if raw {
                    return raw_prompt(preview, out.json);
                }
                Ok(Report::Prompt(Box::new(preview)))
            })
            .await
        }
        Command::Backup(command) => {
            with_store(|store| async move { backup_cmd::backup_cmd(&store, command).await }).await
        }
        Command::Library(command) => {
            with_store(|store| async move { backup_cmd::library_cmd(&store, command).await }).await
        }
        Command::Provider(command) => {
            with_store(|store| async move {
                Ok(Report::Provider(provider_cmd::run(&store, command).await?))
            })
            .await
        }
        Command::Template(command) => {
            let json = out.json;
            with_store(|store| async move {
                Ok(Report::Connection(
                    connection_cmd::template_cmd(&store, command, json).await?,
                ))
            })
            .await
        }
        Command::Profile(command) => {
            with_store(|store| async move {
                Ok(Report::Connection(
                    connection_cmd::profile_cmd(&store, command).await?,
                ))
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

/// `confab prompt --raw`: the exact text a text-completion backend would get
/// on stdout, nothing else; its template and why on stderr. With --json, the
/// text, its stop strings and the template as one object.
fn raw_prompt(preview: PromptPreview, json: bool) -> Result<Report, Error> {
    let Some(text) = preview.text_prompt else {
        let what = match &preview.target {
            Some(t) => format!("{} is a chat-completion provider", t.provider_name),
            None => "no provider is set up".to_owned(),
        };
        return Err(Error::InvalidInput(format!(
            "--raw is for text-completion providers (KoboldCpp, llama.cpp, /v1/completions) \
             and {what}: use --request to see the JSON body it would get"
        )));
    };
    if json {
        return Ok(Report::Json(to_json(&text)?));
    }
    let why = match text.template.origin {
        TemplateOrigin::ModelsOwn => "the model's own chat template, as its server reported it",
        TemplateOrigin::Character => "the character is pinned to it",
        TemplateOrigin::Profile => "the connection profile in force names it",
        TemplateOrigin::Provider => "the provider's settings name it",
        TemplateOrigin::ModelName => "matched by the model's name",
        TemplateOrigin::Fallback => "nothing else said which: the fallback",
    };
    let name = if text.template.name.is_empty() {
        "the model's own"
    } else {
        &text.template.name
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Internal(format!("could not write the prompt: {e}")))?;
    eprintln!("template: {name} ({why})");
    if !text.stop.is_empty() {
        eprintln!("stop strings: {:?}", text.stop);
    }
    Ok(Report::Printed)
}

/// Why an import stored nothing: a full disk says so (every file failed for
/// it, and trying again elsewhere is the fix); otherwise the files were bad.
fn nothing_imported(summary: &library::ImportSummary) -> Error {
    let mut errors = summary.outcomes.iter().filter_map(|o| o.error.as_ref());
    match errors.next() {
        Some(first)
            if first.code == ErrorCode::DiskFull
                && errors.all(|e| e.code == ErrorCode::DiskFull) =>
        {
            Error::DiskFull("no file could be imported: the disk is full".into())
        }
        _ => Error::InvalidInput("no file could be imported".into()),
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
    } else if args.pass {
        chat_cmd::Request::Pass
    } else {
        chat_cmd::Request::Send
    };
    if request == chat_cmd::Request::Send && args.text.is_none() {
        return Err(Error::InvalidInput(
            "say something: confab chat SESSION \"text\"".into(),
        ));
    }
    // Held while the reply streams: it tells other Confab processes this one
    // is alive, so none of them marks its reply interrupted.
    let library = open_library(&paths::data_dir()?, Presence::Streaming).await?;
    let store = library.store;
    let speaker = match &args.speaker {
        Some(s) => group_cmd::character_id(&store, s).await.map(Some),
        None => Ok(None),
    };
    let ending = match speaker {
        Ok(speaker) => {
            let asked = chat_cmd::Asked {
                text: args.text,
                request,
                speaker,
            };
            chat_cmd::run(&store, &session, asked, out.json).await
        }
        Err(e) => Err(e),
    };
    store.close().await;
    drop(library.lock);
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

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}

/// The most a small input file (settings, preferences, a test chat, a primary context) may hold.
pub(crate) const MAX_INPUT_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A small text file the user named: a regular file within [`MAX_INPUT_FILE_BYTES`], as UTF-8.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, Error> {
    let bytes = confab_core::files::read_regular_file(path, MAX_INPUT_FILE_BYTES)?;
    String::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput(format!("{} is not UTF-8 text", path.display())))
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<T, Error> {
    let text = read_text(path)?;
    serde_json::from_str(&text)
        .map_err(|e| Error::InvalidInput(format!("{} is not valid here: {e}", path.display())))
}

pub(crate) fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Opens the library for a command that streams nothing. When no app and no
/// streaming `confab chat` has it open, replies a crash or kill cut short are
/// marked interrupted first (the app would do the same when it next starts).
pub(crate) async fn open_store() -> Result<Store, Error> {
    Ok(open_library(&paths::data_dir()?, Presence::Visiting)
        .await?
        .store)
}
