//! `confab`: headless access to the same data as the Confab app.
//!
//! With `--json`, everything on stdout is JSON, and a failure prints
//! `{"error":{"code","message"}}` and exits non-zero, so scripts can rely on it.

mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use confab_core::card::{self, Limits};
use confab_core::info::AppInfo;
use confab_core::library::{
    self, CharacterQuery, CharacterSort, CharacterSummary, ExportFormat, ImportEvent,
    ImportOutcome, ImportStatus,
};
use confab_core::sink::Sink;
use confab_core::store::Store;
use confab_core::{paths, AppError, Error};

use output::Output;

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
        }
    }
}
