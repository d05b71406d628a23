//! Session operations that combine several repositories.

use crate::session::transcript::{
    read_sillytavern_jsonl, write_json, write_markdown, write_sillytavern_jsonl, Transcript,
    TranscriptMessage,
};
use crate::session::Role;
use crate::session::SessionSummary;
use crate::store::{ImportedGroup, ImportedMessage, Store};
use crate::Result;

/// Largest image a message or a persona may carry.
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// The MIME type of an image a message or persona may carry (PNG, JPEG, WEBP, GIF).
pub fn attachable_image_mime(bytes: &[u8]) -> Option<&'static str> {
    crate::card::sniff_image(bytes).filter(|m| *m != "image/avif")
}

/// Checks an image's size and kind before it is stored.
fn check_image(name: &str, bytes: &[u8]) -> Result<&'static str> {
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(crate::Error::TooLarge {
            what: name.to_owned(),
            limit: "20 MB".into(),
        });
    }
    attachable_image_mime(bytes).ok_or_else(|| crate::Error::UnsupportedFormat {
        file: name.to_owned(),
        detail: "only PNG, JPEG, WEBP and GIF images can be attached".into(),
    })
}

/// Stores an image (given as bytes) to send with the next message.
pub async fn attach_image_bytes(
    store: &Store,
    name: &str,
    bytes: &[u8],
) -> Result<crate::session::MessageImage> {
    let mime = check_image(name, bytes)?;
    store.attach_image(name, mime, bytes).await
}

/// Stores an image file (dropped on the chat) to send with the next message.
pub async fn attach_image_file(
    store: &Store,
    path: &std::path::Path,
) -> Result<crate::session::MessageImage> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".to_owned());
    // Off the async workers, through a capped reader that refuses devices and
    // pipes: a metadata size is only a hint (`/dev/zero` says 0 and never ends).
    let owned = path.to_owned();
    let bytes = tokio::task::spawn_blocking(move || {
        crate::files::read_regular_file(&owned, MAX_IMAGE_BYTES)
    })
    .await
    .map_err(|e| {
        crate::Error::Internal(format!("reading the image stopped unexpectedly: {e}"))
    })??;
    attach_image_bytes(store, &name, &bytes).await
}

/// Sets a persona's avatar from an image's bytes.
pub async fn set_persona_avatar(
    store: &Store,
    persona_id: &str,
    bytes: &[u8],
) -> Result<crate::session::Persona> {
    let mime = check_image("avatar", bytes)?;
    store.set_persona_avatar(persona_id, mime, bytes).await
}

/// The name `{{user}}` becomes when no persona exists.
pub const DEFAULT_USER_NAME: &str = "User";

/// The persona name for a session: its own persona, else the default one, else "User".
pub async fn user_name(store: &Store, persona_id: Option<&str>) -> Result<String> {
    if let Some(id) = persona_id {
        if let Ok(persona) = store.persona(id).await {
            return Ok(persona.name);
        }
    }
    Ok(store
        .default_persona()
        .await?
        .map(|p| p.name)
        .unwrap_or_else(|| DEFAULT_USER_NAME.to_owned()))
}

/// Starts a session with the character's greeting, as the default persona.
pub async fn create_session(store: &Store, character_id: &str) -> Result<SessionSummary> {
    let name = user_name(store, None).await?;
    let id = store.create_session(character_id, None, &name).await?;
    store.session_summary(&id).await
}

/// The character's most recent session, or a new one.
pub async fn open_or_create_session(store: &Store, character_id: &str) -> Result<SessionSummary> {
    match store.latest_session(character_id).await? {
        Some(id) => store.session_summary(&id).await,
        None => create_session(store, character_id).await,
    }
}

/// A format to export a chat in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ChatExportFormat {
    /// SillyTavern chat JSONL.
    SillyTavern,
    /// Readable Markdown.
    Markdown,
    /// Confab's chat JSON.
    Json,
}

/// A session as a transcript: its active path, each message with its swipes.
pub async fn session_transcript(store: &Store, session_id: &str) -> Result<Transcript> {
    let session = store.session_summary(session_id).await?;
    let user = user_name(store, session.persona_id.as_deref()).await?;
    let path = store.active_path_with_swipes(session_id).await?;
    let messages = path
        .into_iter()
        .map(|(message, swipes)| {
            let ms = message.created_at as i64;
            let mut t = TranscriptMessage::new(message.role, message.name, message.content);
            t.send_date = Some(ms.to_string());
            t.send_time_ms = Some(ms);
            t.swipe_index = if swipes.is_empty() {
                0
            } else {
                message.swipe_index
            };
            t.swipes = swipes;
            t
        })
        .collect();
    // The chat's own Author's Note goes where SillyTavern keeps it.
    let mut metadata = serde_json::Map::new();
    if let Some(note) = store.authors_notes(session_id).await?.chat {
        crate::prompt::authors_note_into_metadata(&note, &mut metadata);
    }
    Ok(Transcript {
        user_name: user,
        character_name: session.character_name,
        create_date: Some((session.created_at as i64).to_string()),
        messages,
        metadata,
        ..Default::default()
    })
}

/// The bytes and file extension of a session exported in `format`.
pub async fn export_session_bytes(
    store: &Store,
    session_id: &str,
    format: ChatExportFormat,
) -> Result<(String, Vec<u8>, &'static str)> {
    let session = store.session_summary(session_id).await?;
    let transcript = session_transcript(store, session_id).await?;
    let (bytes, ext) = match format {
        ChatExportFormat::SillyTavern => (write_sillytavern_jsonl(&transcript), "jsonl"),
        ChatExportFormat::Markdown => (write_markdown(&transcript).into_bytes(), "md"),
        ChatExportFormat::Json => (
            serde_json::to_vec_pretty(&write_json(&transcript))
                .map_err(|e| crate::Error::Internal(format!("could not write the chat: {e}")))?,
            "json",
        ),
    };
    Ok((session.title, bytes, ext))
}

/// Exports a session into `dir` under a free name.
pub async fn export_session_to_dir(
    store: &Store,
    session_id: &str,
    format: ChatExportFormat,
    dir: &std::path::Path,
) -> Result<crate::library::ExportedFile> {
    let (title, bytes, ext) = export_session_bytes(store, session_id, format).await?;
    let stem = crate::library::safe_file_stem(&title);
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || crate::library::write_new_file(&dir, &stem, ext, &bytes))
        .await
        .map_err(|e| crate::Error::Internal(format!("the export stopped unexpectedly: {e}")))?
}

/// Imports a SillyTavern chat file as a new session of a character; a bad
/// file is refused with the line at fault and nothing is stored.
pub async fn import_chat(
    store: &Store,
    character_id: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<SessionSummary> {
    let chat = read_chat(file_name, bytes).await?;
    let id = store
        .import_session_with_note(
            character_id,
            &chat.title,
            &chat.messages,
            chat.note.as_ref(),
        )
        .await?;
    store.session_summary(&id).await
}

/// Imports a SillyTavern group chat file as a new group chat of `group`'s
/// members: each reply's speaker is the member its name names (any case).
pub async fn import_group_chat(
    store: &Store,
    group: &ImportedGroup,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<SessionSummary> {
    let mut chat = read_chat(file_name, bytes).await?;
    let mut names = Vec::with_capacity(group.members.len());
    for id in &group.members {
        names.push((store.character_summary(id).await?.name, id.clone()));
    }
    for m in chat
        .messages
        .iter_mut()
        .filter(|m| m.role == Role::Assistant)
    {
        let name = m.name.trim().to_lowercase();
        m.speaker = names
            .iter()
            .find(|(n, _)| n.trim().to_lowercase() == name)
            .map(|(_, id)| id.clone());
    }
    let id = store
        .import_group_session(group, &chat.title, &chat.messages, chat.note.as_ref())
        .await?;
    store.session_summary(&id).await
}

/// A SillyTavern chat file read for import.
struct ReadChat {
    title: String,
    messages: Vec<ImportedMessage>,
    note: Option<crate::prompt::AuthorsNote>,
}

async fn read_chat(file_name: &str, bytes: Vec<u8>) -> Result<ReadChat> {
    let name = file_name.to_owned();
    let transcript = crate::offload::run("reading the chat", move || {
        read_sillytavern_jsonl(&bytes, &name)
    })
    .await??;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let messages: Vec<ImportedMessage> = transcript
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| ImportedMessage {
            role: m.role,
            name: m.name.clone(),
            swipes: if m.swipes.is_empty() {
                vec![m.content.clone()]
            } else {
                m.swipes.clone()
            },
            swipe_index: if m.swipes.is_empty() {
                0
            } else {
                m.swipe_index as usize
            },
            // Undated messages keep their order a millisecond apart.
            created_at: m
                .send_time_ms
                .unwrap_or(now + i64::try_from(i).unwrap_or(0)),
            speaker: None,
        })
        .collect();
    let title = std::path::Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| transcript.character_name.clone());
    // The chat's Author's Note comes along (SillyTavern keeps it in chat_metadata).
    let note = crate::prompt::authors_note_from_metadata(&transcript.metadata);
    if let Some(note) = &note {
        crate::prompt::validate_authors_note(note)?;
    }
    Ok(ReadChat {
        title,
        messages,
        note,
    })
}

/// Model limits a prompt is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptLimits {
    /// The model's context window in tokens.
    pub context_window: u32,
    /// Tokens kept free for the reply.
    pub reply_reserve: u32,
}

impl Default for PromptLimits {
    /// Conservative defaults until a provider says otherwise.
    fn default() -> Self {
        PromptLimits {
            context_window: 8192,
            reply_reserve: 512,
        }
    }
}

/// The primary context in force: the newest saved version, or the built-in default.
pub async fn primary_context_text(store: &Store) -> Result<String> {
    Ok(store
        .context_versions()
        .await?
        .into_iter()
        .next()
        .map(|v| v.text)
        .unwrap_or_else(|| crate::prompt::DEFAULT_PRIMARY_CONTEXT.to_owned()))
}
