//! One turn's prompt, built by one function for the preview and the send, so
//! that what the user inspects is what the model gets.
//!
//! [`build_turn`] reads everything a prompt is made of (the history that can
//! fit, the card, persona, preferences, notes, world books, dictionaries and
//! settings) side by side, then scans the world books and assembles on a
//! blocking thread (CPU work stays off the async workers). The send path
//! (`chat::pipeline`) and [`preview_turn`] both call it, with the same limits
//! from [`limits_for`].

mod memory;
mod preview;
mod retrieval;
mod scan;
mod text;

pub use memory::{position, sendable, TurnMemory, TurnMessage, PROMPT_SUMMARIES};

pub use preview::{preview_turn, turn_target, PreviewTarget, PromptPreview, TurnTarget};
pub use scan::{session_scan_input, test_activation};
pub use text::{
    text_turn, turn_names, ServerInfo, TemplateOrigin, TemplateUsed, TextTurn, TurnNames,
    DEFAULT_CONTEXT, FALLBACK_INSTRUCT,
};

use retrieval::{placed, retrieve};
use scan::scan_input;

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::llm::{ImagePart, ProviderConfig};
use crate::lore::books::CompiledBooks;
use crate::lore::dictionary::{apply_all_checked, CompiledDictionaries, Dictionary};
use crate::lore::{scan, CompiledBook, DictionaryScope, ScanReport, TimedState, Trigger};
use crate::memory::retrieval::RetrievalReport;
use crate::prompt::{
    assemble_with, character_note, display_name, relocate_keyword_world_info, AssembledPrompt,
    HistoryMessage, PromptEnding, PromptInput, PromptMemory, Rewrite, MOVED_WORLD_INFO_DEPTH,
};
use crate::store::{Store, TokenCount};
use crate::tokens::{shared_counter, TokenCounter};

use super::group::{CardMode, GroupScene};
use super::service::{primary_context_text, PromptLimits, DEFAULT_USER_NAME};

/// What prompts reuse from turn to turn: world books and chat dictionaries,
/// compiled once per change. The app, the engine and the CLI each keep one.
#[derive(Debug, Default)]
pub struct PromptCaches {
    /// Compiled world books.
    pub books: CompiledBooks,
    /// Compiled chat dictionaries.
    pub dictionaries: CompiledDictionaries,
    /// What local servers said of themselves (their chat templates).
    pub servers: ServerInfo,
    /// Retrieval's embedder and in-memory indexes.
    pub retrieval: crate::memory::retrieval::RetrievalCache,
}

impl PromptCaches {
    /// Forgets everything compiled: after a restore, ids and revisions may repeat with other content.
    pub fn clear(&self) {
        self.books.clear();
        self.dictionaries.clear();
        self.servers.clear();
        self.retrieval.clear();
    }
}

/// What a reply is asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TurnKind {
    /// A new message and a reply to it.
    #[default]
    Send,
    /// A new swipe of the last reply.
    Regenerate,
    /// More of the last reply.
    Continue,
    /// A draft of the user's next message.
    Impersonate,
}

impl TurnKind {
    /// The generation type world-info triggers are matched against.
    pub fn trigger(self) -> Trigger {
        match self {
            TurnKind::Send => Trigger::Normal,
            TurnKind::Regenerate => Trigger::Regenerate,
            TurnKind::Continue => Trigger::Continue,
            TurnKind::Impersonate => Trigger::Impersonate,
        }
    }
}

/// What a turn's prompt is built from besides the session's stored state.
#[derive(Debug, Clone, Default)]
pub struct TurnRequest {
    /// What the reply does.
    pub kind: TurnKind,
    /// The history ends just above this message (`None`: the whole active path).
    pub history_before: Option<String>,
    /// The user message placed last.
    pub new_message: Option<String>,
    /// Images sent with the new message.
    pub image_ids: Vec<String>,
    /// For continue: the reply so far.
    pub prefill: Option<String>,
    /// In a group chat, the member who speaks (`None`: the chat's character).
    pub speaker: Option<String>,
}

/// An image in a prompt: which message carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PromptImage {
    /// The index in the prompt's messages.
    pub message_index: u32,
    /// The image's id (served as `attachment://localhost/<id>`).
    pub id: String,
    /// Its MIME type.
    pub mime: String,
}

/// A turn's prompt and what went into it.
#[derive(Debug)]
pub struct Turn {
    /// The messages and their explanation.
    pub prompt: AssembledPrompt,
    /// The images, by message index, with their bytes.
    pub images: Vec<(usize, ImagePart)>,
    /// The images, by message index, without their bytes.
    pub image_refs: Vec<PromptImage>,
    /// What world info fired and what was dropped.
    pub world_info: ScanReport,
    /// The session's timed lore state as this turn's scan left it.
    pub timed: TimedState,
    /// The limits it was built for.
    pub limits: PromptLimits,
    /// The chat's memory as this turn saw it.
    pub memory: TurnMemory,
    /// What retrieval placed in the prompt, or why it placed nothing.
    pub retrieval: RetrievalReport,
}

/// The context window assumed when the provider did not list the model's.
pub const DEFAULT_CONTEXT_WINDOW: u32 = 8192;
/// Tokens kept for the reply when the provider's settings name no maximum.
pub const DEFAULT_REPLY_RESERVE: u32 = 512;

/// The limits a prompt is built for: the model's window (when the provider
/// listed it) and the reply's maximum tokens (when the settings name one).
pub fn limits_for(config: Option<&ProviderConfig>, context_length: Option<u32>) -> PromptLimits {
    PromptLimits {
        context_window: context_length.unwrap_or(DEFAULT_CONTEXT_WINDOW),
        reply_reserve: config
            .and_then(|c| c.generation.max_tokens)
            .unwrap_or(DEFAULT_REPLY_RESERVE),
    }
}

/// The closing instruction of an impersonation prompt.
pub fn impersonation_instruction(user: &str, character: &str) -> String {
    format!(
        "[Write {user}'s next message in this chat, in the first person as {user}, \
         matching {user}'s voice and style so far. Write only what {user} says and does; \
         do not write for {character} and do not narrate {character}'s actions.]"
    )
}

/// Builds the prompt of one turn of `session_id`.
pub async fn build_turn(
    store: &Store,
    caches: &PromptCaches,
    session_id: &str,
    request: &TurnRequest,
    limits: PromptLimits,
) -> Result<Turn> {
    let counter = shared_counter();
    let counter_name = counter.name().to_owned();

    // The history is the one large read: everything else is read beside it.
    let history = async {
        // Enough recent history to fill any window: a token is at least one
        // byte, so once the loaded text exceeds the window, older messages cannot fit.
        store
            .recent_history(
                session_id,
                request.history_before.as_deref(),
                limits.context_window as usize * 4,
                &counter_name,
            )
            .await
    };
    let general = async {
        tokio::try_join!(
            store.lore_timed_state(session_id),
            primary_context_text(store),
            store.post_history(),
            store.settings(),
            store.authors_notes(session_id),
            store.memory_settings(session_id),
            store.chat_summaries(session_id),
        )
    };
    let personal = async {
        let (cast, members, settings) = tokio::try_join!(
            store.session_cast(session_id),
            store.group_members(session_id),
            store.group_settings(session_id),
        )?;
        let speaker = request
            .speaker
            .clone()
            .unwrap_or_else(|| cast.character_id.clone());
        let in_scene: Vec<&str> = if members.is_empty() {
            if speaker != cast.character_id {
                return Err(Error::InvalidInput(
                    "only the chat's character speaks in a 1:1 chat; add a character to make it a group".into(),
                ));
            }
            vec![speaker.as_str()]
        } else {
            if !members.iter().any(|m| m.character_id == speaker) {
                return Err(Error::InvalidInput(
                    "that character is not a member of this group chat".into(),
                ));
            }
            members
                .iter()
                .filter(|m| m.presence.in_scene() || m.character_id == speaker)
                .map(|m| m.character_id.as_str())
                .collect()
        };
        let persona = async {
            let chosen = match &cast.persona_id {
                Some(id) => store.persona(id).await.ok(),
                None => None,
            };
            match chosen {
                Some(p) => Ok(Some(p)),
                None => store.default_persona().await,
            }
        };
        // The books of every member in the scene (the speaker's alone in a 1:1 chat) and the global ones, each once.
        let books = async {
            let mut ids: Vec<String> = Vec::new();
            for member in &in_scene {
                for id in store.active_world_book_ids(member).await? {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            let mut compiled: Vec<Arc<CompiledBook>> = Vec::with_capacity(ids.len());
            for id in ids {
                compiled.push(caches.books.get(store, &id).await?);
            }
            Ok::<_, Error>(compiled)
        };
        // A group's other members in the scene, for `{{group}}` and (joining cards) their descriptions.
        let scene = async {
            if members.is_empty() {
                return Ok::<_, Error>(None);
            }
            let mut scene = GroupScene::default();
            for member in members
                .iter()
                .filter(|m| in_scene.contains(&m.character_id.as_str()))
            {
                let card = store.character_card(&member.character_id).await?;
                scene.members.push(display_name(&card).to_owned());
                if member.character_id != speaker && settings.card_mode == CardMode::Join {
                    scene.others.push(card);
                }
            }
            Ok(Some(scene))
        };
        // A speaker other than the chat's character brings its own default Author's Note.
        let own_note = async {
            if speaker == cast.character_id {
                Ok(None)
            } else {
                store.character_authors_note(&speaker).await.map(Some)
            }
        };
        let (card, persona, compiled, preferences, dictionaries, scene, own_note) = tokio::try_join!(
            store.character_card(&speaker),
            persona,
            books,
            store.preferences(&speaker),
            caches.dictionaries.for_character(store, &speaker),
            scene,
            own_note,
        )?;
        Ok::<_, Error>((
            card,
            persona,
            compiled,
            preferences,
            dictionaries,
            scene,
            own_note,
        ))
    };
    let images = async {
        let mut found = Vec::new();
        for id in &request.image_ids {
            if let Some((mime, bytes)) = store.image(id).await? {
                found.push((id.clone(), ImagePart { mime, bytes }));
            }
        }
        Ok::<_, Error>(found)
    };
    let (
        history,
        (timed, primary_context, global_post_history, settings, notes, memory_settings, summaries),
        (
            character,
            persona,
            compiled,
            preferences,
            (character_rules, global_rules),
            scene,
            own_note,
        ),
        images,
    ) = tokio::try_join!(history, general, personal, images)?;

    let user_name = persona
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| DEFAULT_USER_NAME.to_owned());
    let ending = match request.kind {
        TurnKind::Continue => request.prefill.clone().map(PromptEnding::Continue),
        TurnKind::Impersonate => Some(PromptEnding::Impersonate(impersonation_instruction(
            &user_name,
            display_name(&character),
        ))),
        TurnKind::Send | TurnKind::Regenerate => None,
    }
    .unwrap_or_default();
    let new_message = request.new_message.clone();
    let user_turns = history.user_turns + u32::from(new_message.is_some());
    let mut rows = history.messages;
    let (retrieved, retrieval) = retrieve(
        store,
        caches,
        session_id,
        &memory_settings,
        &rows,
        new_message.as_deref(),
    )
    .await;
    let placed_candidates = retrieved.clone();
    let seed = seed_for(session_id, rows.len());
    let scan_input = scan_input(
        &rows,
        new_message.as_deref(),
        &user_name,
        &character,
        persona.as_ref(),
        request.kind.trigger(),
        limits.context_window,
    );
    // Messages the path's newest summary covers are not sent: it stands for them.
    let (chain, summary_inputs, cut) =
        memory::path_memory(store, &memory_settings, summaries, &rows).await?;
    rows.drain(..cut);
    let keep_history = memory_settings.summaries;
    let rewrite = PromptDictionaries {
        character: character_rules,
        global: global_rules,
    };
    let image_count = u32::try_from(images.len()).unwrap_or(u32::MAX);
    let persona_description = persona.map(|p| p.description).unwrap_or_default();
    let now = now_rfc3339();

    // Counting, scanning and assembling are CPU work: off the async workers.
    type Built = (
        AssembledPrompt,
        ScanReport,
        TimedState,
        Vec<TokenCount>,
        Vec<TurnMessage>,
    );
    let work = move || -> Result<Built> {
        // Messages counted for the first time are remembered, so the next turn does not count them again.
        let mut fresh = Vec::new();
        for row in rows.iter_mut().filter(|r| r.tokens.is_none()) {
            let tokens = counter.count(&row.content);
            row.tokens = Some(tokens);
            fresh.push(TokenCount {
                id: row.id.clone(),
                content: row.content.clone(),
                tokens,
            });
        }
        let turn_history: Vec<TurnMessage> = if keep_history {
            rows.iter()
                .map(|r| TurnMessage {
                    id: r.id.clone(),
                    role: r.role,
                    name: r.name.clone(),
                    content: r.content.clone(),
                    tokens: r.tokens.unwrap_or(0),
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut timed = timed;
        let refs: Vec<&CompiledBook> = compiled.iter().map(|b| b.as_ref()).collect();
        let report = if refs.is_empty() {
            ScanReport::default()
        } else {
            scan(&refs, &scan_input, &mut timed, seed)
        };
        let mut world_info = report.activated.clone();
        if settings.keyword_world_info_at_depth {
            relocate_keyword_world_info(&mut world_info, MOVED_WORLD_INFO_DEPTH);
        }
        let input = PromptInput {
            primary_context,
            character_note: character_note(&character),
            character,
            user_name,
            persona_description,
            preferences,
            world_info,
            example_dialogue: settings.example_dialogue,
            authors_note: notes.chat.or(match own_note {
                Some(speakers) => speakers,
                None => notes.character_default,
            }),
            user_turns,
            history: rows
                .into_iter()
                .map(|r| HistoryMessage {
                    role: r.role,
                    name: r.name,
                    content: r.content,
                    tokens: r.tokens,
                })
                .collect(),
            global_post_history,
            new_message,
            new_message_images: image_count,
            ending,
            context_window: limits.context_window,
            reply_reserve: limits.reply_reserve,
            now,
            seed,
            group: scene,
            memory: PromptMemory {
                summaries: summary_inputs,
                retrieved,
                retrieval_depth: memory_settings.retrieval_depth,
                retrieval_count: memory_settings.retrieval_count,
            },
        };
        let prompt = assemble_with(&input, counter, &rewrite)?;
        Ok((prompt, report, timed, fresh, turn_history))
    };
    let (prompt, world_info, timed, fresh, turn_history) =
        crate::offload::run("building the prompt", work).await??;
    if !fresh.is_empty() {
        // Bookkeeping beside the request: the first token does not wait for it, and a failure only costs a recount.
        let store = store.clone();
        tokio::spawn(async move {
            let _ = store.save_token_counts(&counter_name, &fresh).await;
        });
    }

    let at = prompt
        .parts
        .iter()
        .find(|p| p.source == crate::prompt::PromptSource::NewMessage)
        .map(|p| p.message_index);
    let (mut image_parts, mut image_refs) = (Vec::new(), Vec::new());
    if let Some(at) = at {
        for (id, image) in images {
            image_refs.push(PromptImage {
                message_index: at,
                id,
                mime: image.mime.clone(),
            });
            image_parts.push((at as usize, image));
        }
    }
    let retrieval = placed(retrieval, &placed_candidates, &prompt);
    Ok(Turn {
        prompt,
        images: image_parts,
        image_refs,
        world_info,
        timed,
        limits,
        memory: TurnMemory {
            settings: memory_settings,
            chain,
            history: turn_history,
        },
        retrieval,
    })
}

/// The chat dictionaries' prompt-scope rules: the character's first, then the
/// global ones, within the dictionaries' growth limit (a rule that would pass it is skipped).
struct PromptDictionaries {
    character: Arc<Dictionary>,
    global: Arc<Dictionary>,
}

impl Rewrite for PromptDictionaries {
    fn rewrite<'t>(&self, text: &'t str) -> Cow<'t, str> {
        apply_all_checked(&self.character, &self.global, text, DictionaryScope::Prompt).text
    }
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
