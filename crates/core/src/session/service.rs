//! Session operations that combine several repositories.

use crate::session::transcript::{
    read_sillytavern_jsonl, write_json, write_markdown, write_sillytavern_jsonl, Transcript,
    TranscriptMessage,
};
use crate::session::SessionSummary;
use crate::store::{ImportedMessage, Store};
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
    Ok(Transcript {
        user_name: user,
        character_name: session.character_name,
        create_date: Some((session.created_at as i64).to_string()),
        messages,
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
    let name = file_name.to_owned();
    let transcript = tokio::task::spawn_blocking(move || read_sillytavern_jsonl(&bytes, &name))
        .await
        .map_err(|e| {
            crate::Error::Internal(format!("reading the chat stopped unexpectedly: {e}"))
        })??;
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
        })
        .collect();
    let stem = std::path::Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| transcript.character_name.clone());
    let id = store.import_session(character_id, &stem, &messages).await?;
    store.session_summary(&id).await
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

/// Builds the exact prompt a send would use now: world info scanned from the
/// character's and global books, the session's timed lore state read (not
/// advanced), chat dictionaries applied to what the model reads.
pub async fn assemble_prompt(
    store: &Store,
    compiled: &crate::lore::books::CompiledBooks,
    session_id: &str,
    new_message: Option<String>,
    limits: PromptLimits,
) -> Result<crate::prompt::AssembledPrompt> {
    assemble_reply_prompt(store, compiled, session_id, None, new_message, limits)
        .await
        .map(|(prompt, _)| prompt)
}

/// Builds a reply's prompt from the active path ending just above
/// `history_before` (the whole path when `None`), then `new_message` last.
///
/// The chat engine saves the user message before it assembles, so it passes
/// that message's id here and its text as `new_message`: the message then
/// appears once, after the post-history instructions, exactly as the preview
/// showed it. Also returns the session's timed lore state as this scan left
/// it; the caller saves it when the reply counts as a turn.
pub async fn assemble_reply_prompt(
    store: &Store,
    compiled: &crate::lore::books::CompiledBooks,
    session_id: &str,
    history_before: Option<&str>,
    new_message: Option<String>,
    limits: PromptLimits,
) -> Result<(crate::prompt::AssembledPrompt, crate::lore::TimedState)> {
    use crate::lore::dictionary::{apply_all, Dictionary};
    use crate::lore::{scan, CompiledBook, ScanInput, ScanMessage, ScanSources};
    use crate::prompt::{assemble, HistoryMessage, PromptInput};

    // The history is the one large read: everything else is read beside it.
    let history = async {
        // Enough recent history to fill any window: a token is at least one
        // byte, so once the loaded text exceeds the window, older messages cannot fit.
        store
            .recent_history(
                session_id,
                history_before,
                limits.context_window as usize * 4,
            )
            .await
    };
    // Reads that need only the session's id, and those that need its character.
    let general = async {
        tokio::try_join!(
            store.lore_timed_state(session_id),
            primary_context_text(store),
            store.post_history(),
            store.dictionary(None),
        )
    };
    let personal = async {
        let session = store.session_summary(session_id).await?;
        let character_id = session.character_id.as_str();
        let persona = async {
            let chosen = match &session.persona_id {
                Some(id) => store.persona(id).await.ok(),
                None => None,
            };
            match chosen {
                Some(p) => Ok(Some(p)),
                None => store.default_persona().await,
            }
        };
        // World info from attached and global books, scanned over the chat and the new message.
        let books = async {
            let mut books: Vec<std::sync::Arc<CompiledBook>> = Vec::new();
            for id in store.active_world_book_ids(character_id).await? {
                books.push(compiled.get(store, &id).await?);
            }
            Ok::<_, crate::Error>(books)
        };
        tokio::try_join!(
            async { Ok(store.character_detail(character_id).await?.card) },
            persona,
            books,
            store.preferences(character_id),
            store.dictionary(Some(character_id)),
        )
    };
    let rest = async {
        let (
            (timed, primary_context, global_post_history, global_rules),
            (character, persona, books, preferences, character_rules),
        ) = tokio::try_join!(general, personal)?;
        Ok::<_, crate::Error>(Shared {
            character,
            persona,
            books,
            timed,
            primary_context,
            preferences,
            global_post_history,
            character_rules,
            global_rules,
        })
    };
    let (history, shared) = tokio::try_join!(history, rest)?;
    let Shared {
        character,
        persona,
        books,
        mut timed,
        primary_context,
        preferences,
        global_post_history,
        character_rules,
        global_rules,
    } = shared;
    let history: Vec<HistoryMessage> = history
        .into_iter()
        .map(|(role, name, content)| HistoryMessage {
            role,
            name,
            content,
        })
        .collect();
    let user_name = persona
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| DEFAULT_USER_NAME.to_owned());

    let mut scan_messages: Vec<ScanMessage> = history
        .iter()
        .map(|m| ScanMessage {
            role: m.role.as_str().to_owned(),
            name: m.name.clone(),
            content: m.content.clone(),
        })
        .collect();
    if let Some(text) = &new_message {
        scan_messages.push(ScanMessage {
            role: "user".into(),
            name: user_name.clone(),
            content: text.clone(),
        });
    }
    let depth_prompt = character
        .extensions
        .get("depth_prompt")
        .and_then(|d| d.get("prompt"))
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_owned();
    let input = ScanInput {
        messages: scan_messages,
        sources: ScanSources {
            persona_description: persona
                .as_ref()
                .map(|p| p.description.clone())
                .unwrap_or_default(),
            character_description: character.description.clone(),
            character_personality: character.personality.clone(),
            character_depth_prompt: depth_prompt,
            scenario: character.scenario.clone(),
            creator_notes: character.creator_notes.clone(),
        },
        context_tokens: limits.context_window,
        settings: None,
    };
    let refs: Vec<&CompiledBook> = books.iter().map(|b| b.as_ref()).collect();
    let seed = seed_for(session_id, history.len());
    let world_info = if refs.is_empty() {
        Vec::new()
    } else {
        scan(&refs, &input, &mut timed, seed).activated
    };

    let prompt_input = PromptInput {
        primary_context,
        user_name: user_name.clone(),
        persona_description: persona.map(|p| p.description).unwrap_or_default(),
        preferences,
        world_info,
        history,
        global_post_history,
        new_message,
        context_window: limits.context_window,
        reply_reserve: limits.reply_reserve,
        now: now_rfc3339(),
        seed,
        character,
    };
    let mut assembled = assemble(&prompt_input, cached_counter())?;

    // Chat dictionaries with a prompt scope rewrite what the model reads.
    let (character_dictionary, _) = Dictionary::compile(&character_rules);
    let (global_dictionary, _) = Dictionary::compile(&global_rules);
    if !character_dictionary.is_empty() || !global_dictionary.is_empty() {
        for message in &mut assembled.messages {
            message.content = apply_all(
                &character_dictionary,
                &global_dictionary,
                &message.content,
                crate::lore::DictionaryScope::Prompt,
            );
        }
    }
    Ok((assembled, timed))
}

/// What a prompt needs besides the history, read beside it.
struct Shared {
    character: crate::card::CardData,
    persona: Option<crate::session::Persona>,
    books: Vec<std::sync::Arc<crate::lore::CompiledBook>>,
    timed: crate::lore::TimedState,
    primary_context: String,
    preferences: Option<crate::session::CharacterPreferences>,
    global_post_history: String,
    character_rules: Vec<crate::lore::DictionaryRule>,
    global_rules: Vec<crate::lore::DictionaryRule>,
}

/// The default token counter with a memory of texts it counted before.
///
/// Every send counts the history that fits the window; without this, a long
/// chat with a large window re-tokenises hundreds of unchanged messages on
/// each reply (about 20 ms for 1,000 messages).
struct CountCache {
    counts: std::sync::Mutex<std::collections::HashMap<(u64, usize), u32>>,
}

/// Texts shorter than this are counted directly (hashing costs about as much).
const CACHE_MIN_BYTES: usize = 64;
/// Entries kept before the cache starts over (about 6 MB at most).
const CACHE_MAX_ENTRIES: usize = 200_000;

impl crate::tokens::TokenCounter for CountCache {
    fn count(&self, text: &str) -> u32 {
        use std::hash::{Hash, Hasher};
        let counter = crate::tokens::default_counter();
        if text.len() < CACHE_MIN_BYTES {
            return counter.count(text);
        }
        let mut h = std::hash::DefaultHasher::new();
        text.hash(&mut h);
        let key = (h.finish(), text.len());
        if let Some(n) = self.counts.lock().ok().and_then(|c| c.get(&key).copied()) {
            return n;
        }
        let n = counter.count(text);
        if let Ok(mut counts) = self.counts.lock() {
            if counts.len() >= CACHE_MAX_ENTRIES {
                counts.clear();
            }
            counts.insert(key, n);
        }
        n
    }
}

/// The shared counting cache for prompt assembly.
fn cached_counter() -> &'static CountCache {
    static CACHE: std::sync::OnceLock<CountCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| CountCache {
        counts: std::sync::Mutex::new(std::collections::HashMap::new()),
    })
}

/// A seed stable for a session at a given length: a preview and the send after it agree.
fn seed_for(session_id: &str, length: usize) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{session_id}:{length}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

/// The current time as RFC 3339 in UTC (the machine's zone is not known without a tz database).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_now_is_well_formed() {
        let now = super::now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T');
    }
}
