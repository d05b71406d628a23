//! `confab`: headless access to the same data as the Confab app.
//!
//! With `--json`, everything on stdout is JSON, and a failure prints
//! `{"error":{"code","message"}}` and exits non-zero, so scripts can rely on it.

mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use confab_core::info::AppInfo;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match run(cli.command) {
        Ok(value) => out.success(&value),
        Err(err) => out.failure(&AppError::from(err)),
    }
}

fn run(command: Command) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("could not start the async runtime: {e}")))?;
    runtime.block_on(async {
        match command {
            Command::Info => {
                let store = Store::open(&paths::data_dir()?).await?;
                let info = AppInfo::gather(&store).await;
                store.close().await;
                Ok(Report::Info(info?))
            }
        }
    })
}

/// What a command produced, printed as text or JSON.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
enum Report {
    Info(AppInfo),
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
        }
    }
}
