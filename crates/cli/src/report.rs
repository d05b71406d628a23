//! What a command produced, and how it reads as text.

use confab_core::info::AppInfo;
use confab_core::library::CharacterSummary;
use confab_core::lore::{ScanReport, WorldBookSummary};
use confab_core::session::turn::PromptPreview;

use crate::chat_cmd;
use crate::lore_cmd::describe_reason;
use crate::provider_cmd::ProviderReport;

/// What a command produced, printed as text or JSON.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Report {
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
    Prompt(Box<PromptPreview>),
    Books(Vec<WorldBookSummary>),
    Scan(ScanReport),
    Provider(ProviderReport),
    Backup(crate::backup_cmd::BackupReport),
    Connection(crate::connection_cmd::ConnectionReport),
    Memory(crate::memory_cmd::MemoryReport),
    /// Already printed as it went.
    #[serde(skip)]
    Printed,
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
            Report::Backup(report) => write!(f, "{report}"),
            Report::Memory(report) => write!(f, "{report}"),
            Report::Json(value) => {
                let text = serde_json::to_string_pretty(value).map_err(|_| std::fmt::Error)?;
                write!(f, "{text}")
            }
            Report::Prompt(preview) => {
                match &preview.target {
                    Some(t) => writeln!(f, "for {} on {}", t.model, t.provider_name)?,
                    None => writeln!(f, "no provider is set up: the default window is assumed")?,
                }
                writeln!(
                    f,
                    "window {} tokens{}, {} kept for the reply",
                    preview.context_window,
                    if preview.context_window_known {
                        ""
                    } else {
                        " (assumed)"
                    },
                    preview.reply_reserve
                )?;
                write!(f, "{}", confab_core::prompt::explain(&preview.prompt))?;
                for d in &preview.world_info.dropped {
                    writeln!(
                        f,
                        "  world info #{} {} dropped: {:?}",
                        d.uid, d.comment, d.reason
                    )?;
                }
                if let Some(body) = &preview.request_body {
                    let text = serde_json::to_string_pretty(body).map_err(|_| std::fmt::Error)?;
                    write!(f, "{text}")?;
                }
                Ok(())
            }
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
            Report::Ending(_) | Report::Printed => Ok(()),
            Report::Connection(report) => write!(f, "{report}"),
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
