//! Assembly: a [`PromptInput`] becomes the messages to send, in the contract's order.
//!
//! The messages, in order (each only when it has text):
//!
//! 1. The Author's Note, when it is placed before the system prompt.
//! 2. **System message**, sections joined by [`SECTION_SEPARATOR`] (`"\n---\n"`):
//!    1. the primary context;
//!    2. the card's system prompt. `{{original}}` in it is the primary context
//!       (after macros); when it is used, the primary context appears only
//!       there, not also as section 1;
//!    3. the character section, pieces joined by `"\n"`: world info placed
//!       before the character, then the description block (`description`,
//!       then `Personality: …`, then `Scenario: …`, each line only when
//!       non-empty), then world info placed after it, each in insertion order;
//!    4. the persona description;
//!    5. the USER PREFERENCE MODIFIERS block.
//! 3. The Author's Note, when it is placed after the system prompt.
//! 4. **Example dialogue** (see [`super::examples`]): world info placed before
//!    the examples, the card's `mes_example`, world info placed after them,
//!    each block an `[Example Chat]` system line and its user/assistant turns;
//!    then `[Start a new Chat]` when any block was sent.
//! 5. **The chat's summaries** (`PromptInput::memory`), one system message of
//!    a part per summary (see [`super::memory`]): they take at most about half
//!    of what the history may use, and the history the rest.
//! 6. **The chat**: the history, oldest first, trimmed from the oldest end to
//!    fit, then the new user message. Texts placed at a depth (the Author's
//!    Note in the chat, the Character's note, world info `@depth`; see
//!    [`super::inject`]) go in with `depth` chat messages after them, the new
//!    message counted, as SillyTavern counts: depth 0 is after the new message;
//!    a depth beyond the kept history puts them before its oldest message.
//!    The **post-history system message** (the card's post-history
//!    instructions, `{{original}}` = the global post-history prompt, then the
//!    global one, joined by [`SECTION_SEPARATOR`]) comes just before the new
//!    message (at the end of the history when there is none).
//! 7. The ending: a continue's reply so far (assistant), or an
//!    impersonation's instruction (system).
//!
//! The budget is `context_window - reply_reserve`. Everything but the history
//! and the example dialogue is fixed; when the fixed parts do not fit, the
//! prompt fails. With [`ExampleDialogue::Keep`] the example blocks take their
//! room first and the history what is left; with `Gradual` the history goes
//! first and the examples fill what is left, block by block until one does
//! not fit (SillyTavern's rule), so they are pushed out as the chat grows.
//!
//! `{{outlet::Name}}` in any text pulls in the world info placed in the outlet
//! `Name`; an outlet entry's part points at the first message that used it
//! ([`NOT_PLACED`] when none did).
//!
//! Every text goes through the macros, then the [`Rewrite`] (the chat
//! dictionaries); prompt texts are trimmed, history and the new message are
//! not. Tokens are counted on the text as sent: each message once, and each
//! part of a message that has several; `total_tokens` is the sum over
//! messages, with no per-message overhead (providers' framing differs; the
//! reply reserve absorbs it).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::lore::EntryPosition;
use crate::session::Role;
use crate::tokens::TokenCounter;

use super::examples::{example_blocks, ExampleBlock, CHAT_START_LINE};
use super::explain::{history_label, NOT_PLACED};
use super::inject::{authors_note, depth_groups, DepthGroup};
use super::macros::{substitute_macros, MacroContext};
use super::memory::{plan_summaries, SUMMARY_ROLE};
use super::model::{
    AssembledPrompt, ExampleDialogue, NotePosition, PromptEnding, PromptInput, PromptMessage,
    PromptPart, PromptSource,
};
use super::retrieved::retrieved_pieces;
use super::system::{fixed, post_history, sections, SECTION_SEPARATOR};
use super::text::{join, NoRewrite, Piece, Prep, Rewrite};
use super::trim::{fit_history, needs_name};

/// The primary context used when the user has saved none.
pub const DEFAULT_PRIMARY_CONTEXT: &str = "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}. \
Stay in character: write as {{char}} would, with their personality, knowledge, voice and way of speaking. \
Be creative and proactive, and move the story and the conversation forward. \
Describe actions, feelings and surroundings vividly but concisely. \
Never write {{user}}'s words, thoughts or actions, and never speak for {{user}}. \
Keep everything consistent with the character, the world and what has happened so far.";

/// The closing line of a group's prompt: who writes the reply (SillyTavern's default group nudge).
pub const GROUP_NUDGE: &str = "[Write the next reply only as {{char}}.]";

/// A message before it is placed: its role, text, tokens and the pieces it
/// is made of, each with its own tokens.
struct Planned {
    role: Role,
    text: String,
    tokens: u32,
    pieces: Vec<(Piece, u32)>,
}

impl Planned {
    fn new(role: Role, pieces: Vec<Piece>, separator: &str, counter: &dyn TokenCounter) -> Planned {
        let text = join(&pieces, separator);
        let tokens = count(counter, &text);
        let pieces = if pieces.len() == 1 {
            pieces.into_iter().map(|p| (p, tokens)).collect()
        } else {
            pieces
                .into_iter()
                .map(|p| {
                    let t = count(counter, &p.text);
                    (p, t)
                })
                .collect()
        };
        Planned {
            role,
            text,
            tokens,
            pieces,
        }
    }

    fn single(role: Role, piece: Piece, counter: &dyn TokenCounter) -> Planned {
        Planned::new(role, vec![piece], "", counter)
    }
}

/// An example block, counted.
struct PlannedBlock {
    messages: Vec<Planned>,
    tokens: u64,
}

/// Assembles the prompt for `input`, counting tokens with `counter`.
///
/// Fails with [`Error::InvalidInput`] when the preferences contradict each
/// other, or when the parts that are never trimmed do not fit in
/// `context_window - reply_reserve`.
pub fn assemble(input: &PromptInput, counter: &dyn TokenCounter) -> Result<AssembledPrompt> {
    assemble_with(input, counter, &NoRewrite)
}

/// [`assemble`], with every text the model reads passed through `rewrite`.
pub fn assemble_with(
    input: &PromptInput,
    counter: &dyn TokenCounter,
    rewrite: &dyn Rewrite,
) -> Result<AssembledPrompt> {
    let base = MacroContext::from_input(input);
    let outlets = outlet_texts(input, &base);
    let ctx = MacroContext { outlets, ..base };
    let prep = Prep { ctx: &ctx, rewrite };

    // The fixed parts.
    let system = {
        let sections = sections(input, &prep)?;
        let text = sections
            .iter()
            .map(|s| join(s, "\n"))
            .collect::<Vec<_>>()
            .join(SECTION_SEPARATOR);
        let mut planned = Planned::new(
            Role::System,
            sections.into_iter().flatten().collect(),
            "",
            counter,
        );
        // Counted as joined by the section and line separators, not as the pieces' bare concatenation.
        planned.tokens = count(counter, &text);
        if let [(_, only)] = planned.pieces.as_mut_slice() {
            *only = planned.tokens;
        }
        planned.text = text;
        planned
    };
    let note = authors_note(input, &prep);
    let (mut note_before, mut note_after, note_in_chat) = match note {
        Some(n) if n.position == NotePosition::BeforeSystem => (Some(n), None, None),
        Some(n) if n.position == NotePosition::AfterSystem => (None, Some(n), None),
        other => (None, None, other),
    };
    let note_before = note_before
        .take()
        .map(|n| Planned::new(Role::System, n.pieces, "\n", counter));
    let note_after = note_after
        .take()
        .map(|n| Planned::new(Role::System, n.pieces, "\n", counter));
    let groups: Vec<(DepthGroup, Planned)> = depth_groups(input, &prep, note_in_chat)
        .into_iter()
        .map(|mut g| {
            let pieces = std::mem::take(&mut g.pieces);
            let planned = Planned::new(g.role, pieces, "\n", counter);
            (g, planned)
        })
        .collect();
    let post = post_history(input, &prep);
    let post =
        (!post.is_empty()).then(|| Planned::new(Role::System, post, SECTION_SEPARATOR, counter));
    // In a group, every chat message opens with its speaker's name (the new one too).
    let grouped = input.group.is_some();
    let new_message = input.new_message.as_deref().and_then(|m| {
        let (text, used) = prep.message(m);
        (!text.trim().is_empty() || input.new_message_images > 0).then(|| {
            let text = if grouped && needs_name(&input.user_name, &text) {
                format!("{}: {text}", input.user_name.trim())
            } else {
                text.into_owned()
            };
            let piece = fixed(PromptSource::NewMessage, text).using(used);
            Planned::single(Role::User, piece, counter)
        })
    });
    let ending = match &input.ending {
        PromptEnding::Reply => None,
        // The reply so far is sent as written: the model writes on from its last word.
        PromptEnding::Continue(text) => Some(Planned::single(
            Role::Assistant,
            fixed(PromptSource::ContinuePrefill, text.clone()),
            counter,
        )),
        PromptEnding::Impersonate(text) => {
            let (text, used) = prep.text(text);
            Some(Planned::single(
                Role::System,
                fixed(PromptSource::ImpersonationInstruction, text).using(used),
                counter,
            ))
        }
    };

    // A group's reply is asked of one member by name (SillyTavern's group nudge).
    let nudge = (grouped && input.ending == PromptEnding::Reply).then(|| {
        let (text, used) = prep.text(GROUP_NUDGE);
        Planned::single(
            Role::System,
            fixed(PromptSource::GroupNudge, text).using(used),
            counter,
        )
    });

    let fixed_tokens: u64 = [
        &note_before,
        &note_after,
        &post,
        &new_message,
        &ending,
        &nudge,
    ]
    .iter()
    .filter_map(|p| p.as_ref())
    .chain(std::iter::once(&system))
    .chain(groups.iter().map(|(_, p)| p))
    .map(|p| u64::from(p.tokens))
    .sum();
    let budget = u64::from(input.context_window.saturating_sub(input.reply_reserve));
    if fixed_tokens > budget {
        return Err(Error::InvalidInput(format!(
            "the context window is too small for the fixed parts of the prompt: the system message, \
             the notes, world info at depth, post-history instructions and new message need \
             {fixed_tokens} tokens, but a {} token window with {} kept for the reply leaves {budget}",
            input.context_window, input.reply_reserve
        )));
    }

    // Retrieved passages: none whose message the history could keep in the
    // window, and only as many as fit; they then count as fixed.
    let mut groups = groups;
    let fixed_tokens = if input.memory.retrieved.is_empty() {
        fixed_tokens
    } else {
        let room = budget - fixed_tokens;
        let widest = fit_history(&input.history, &prep, counter, room, grouped);
        let mut planned = None;
        let mut take = usize::MAX;
        while take > 0 {
            let mut pieces = retrieved_pieces(input, &prep, widest.start);
            if pieces.is_empty() {
                break;
            }
            pieces.truncate(take);
            take = pieces.len() - 1;
            let p = Planned::new(Role::System, pieces, "\n\n", counter);
            if u64::from(p.tokens) <= room {
                planned = Some(p);
                break;
            }
        }
        match planned {
            Some(p) => {
                let depth = input.memory.retrieval_depth;
                let tokens = u64::from(p.tokens);
                // Deepest first; at a depth shared with other texts, after them.
                let at = groups
                    .iter()
                    .position(|(g, _)| g.depth < depth)
                    .unwrap_or(groups.len());
                let group = DepthGroup {
                    depth,
                    role: Role::System,
                    pieces: Vec::new(),
                };
                groups.insert(at, (group, p));
                fixed_tokens + tokens
            }
            None => fixed_tokens,
        }
    };

    // The example dialogue and the history share what is left.
    let blocks: Vec<PlannedBlock> = example_blocks(input, &prep)
        .into_iter()
        .map(|b| plan_block(b, counter))
        .collect();
    let chat_start = Planned::single(
        Role::System,
        fixed(PromptSource::ChatStart, CHAT_START_LINE.to_owned()),
        counter,
    );
    // The chat's summaries come out of the history's room (at most about half of it).
    let summaries = plan_summaries(
        &input.memory.summaries,
        &prep,
        counter,
        budget - fixed_tokens,
    );
    // Saturating: the joined text may count a token or two more than its parts did.
    let left = (budget - fixed_tokens)
        .saturating_sub(summaries.as_ref().map_or(0, |s| u64::from(s.tokens)));
    let (taken, kept) = if input.example_dialogue == ExampleDialogue::Keep {
        let taken = take_blocks(&blocks, u64::from(chat_start.tokens), left);
        let kept = fit_history(&input.history, &prep, counter, left - taken.1, grouped);
        (taken, kept)
    } else {
        let kept = fit_history(&input.history, &prep, counter, left, grouped);
        let taken = take_blocks(&blocks, u64::from(chat_start.tokens), left - kept.tokens);
        (taken, kept)
    };
    let blocks_sent = taken.0;

    // Placement.
    let mut out = Output::default();
    out.place(note_before);
    if !system.text.is_empty() {
        out.place(Some(system));
    }
    out.place(note_after);
    let dropped_examples = blocks.len() - blocks_sent;
    for block in blocks.into_iter().take(blocks_sent) {
        for message in block.messages {
            out.place(Some(message));
        }
    }
    if blocks_sent > 0 {
        out.place(Some(chat_start));
    }
    // Before the oldest kept message (and anything placed at a depth beyond it).
    let mut left_out = Vec::new();
    if let Some(s) = summaries {
        left_out = s.left_out;
        if !s.pieces.is_empty() {
            out.place(Some(Planned {
                role: SUMMARY_ROLE,
                text: s.text,
                tokens: s.tokens,
                pieces: s.pieces,
            }));
        }
    }

    let has_new = new_message.is_some();
    let chat_len = kept.messages.len() + usize::from(has_new);
    let mut groups = groups.into_iter().peekable();
    let mut history = kept.messages.into_iter().enumerate();
    let mut new_message = new_message;
    let mut post = post;
    for slot in 0..=chat_len {
        // Groups whose (clamped) depth leaves exactly `chat_len - slot` chat messages after them.
        while groups
            .peek()
            .is_some_and(|(g, _)| (g.depth as usize).min(chat_len) == chat_len - slot)
        {
            if let Some((_, planned)) = groups.next() {
                out.place(Some(planned));
            }
        }
        if slot == chat_len {
            break;
        }
        if let Some((k, m)) = history.next() {
            let index = kept.start + k;
            let role = input.history.get(index).map_or(Role::User, |h| h.role);
            let piece =
                Piece::new(PromptSource::History, history_label(index), m.text).using(m.used);
            out.place(Some(Planned {
                role,
                text: piece.text.clone(),
                tokens: m.tokens,
                pieces: vec![(piece, m.tokens)],
            }));
        } else {
            // The chat's last slot is the new message, with the post-history just before it.
            out.place(post.take());
            out.place(new_message.take());
        }
    }
    // Without a new message, the post-history closes the chat.
    out.place(post.take());
    out.place(ending);
    out.place(nudge);
    out.outlet_parts(input, &prep, counter);
    out.parts.extend(left_out);

    Ok(AssembledPrompt {
        messages: out.messages,
        parts: out.parts,
        total_tokens: u32::try_from(out.total).unwrap_or(u32::MAX),
        dropped_history: u32::try_from(kept.start).unwrap_or(u32::MAX),
        dropped_examples: u32::try_from(dropped_examples).unwrap_or(u32::MAX),
    })
}

/// Counts a block: its `[Example Chat]` line and turns, each one message.
fn plan_block(block: ExampleBlock, counter: &dyn TokenCounter) -> PlannedBlock {
    let messages: Vec<Planned> = block
        .turns
        .into_iter()
        .map(|(role, piece)| Planned::single(role, piece, counter))
        .collect();
    let tokens = messages.iter().map(|m| u64::from(m.tokens)).sum();
    PlannedBlock { messages, tokens }
}

/// How many blocks fit in `room` from the first (the chat-start line counted
/// with the first), and the tokens they take.
fn take_blocks(blocks: &[PlannedBlock], chat_start: u64, room: u64) -> (usize, u64) {
    let mut used = 0u64;
    let mut taken = 0;
    for block in blocks {
        let cost = block.tokens + if taken == 0 { chat_start } else { 0 };
        if used + cost > room {
            break;
        }
        used += cost;
        taken += 1;
    }
    (taken, used)
}

/// Each outlet's text: its entries' contents after macros, joined by lines, in insertion order.
fn outlet_texts(input: &PromptInput, ctx: &MacroContext) -> BTreeMap<String, String> {
    let mut outlets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &input.world_info {
        if a.position != EntryPosition::Outlet {
            continue;
        }
        let text = substitute_macros(&a.content, ctx);
        let text = text.trim();
        if !text.is_empty() {
            outlets
                .entry(a.outlet.trim().to_owned())
                .or_default()
                .push(text.to_owned());
        }
    }
    outlets
        .into_iter()
        .map(|(name, texts)| (name, texts.join("\n")))
        .collect()
}

/// Messages and parts as they are placed.
#[derive(Default)]
struct Output {
    messages: Vec<PromptMessage>,
    parts: Vec<PromptPart>,
    total: u64,
    /// The first message each outlet was pulled into.
    outlet_at: BTreeMap<String, u32>,
}

impl Output {
    fn place(&mut self, planned: Option<Planned>) {
        let Some(planned) = planned else {
            return;
        };
        let at = u32::try_from(self.messages.len()).unwrap_or(NOT_PLACED);
        self.total += u64::from(planned.tokens);
        self.messages.push(PromptMessage {
            role: planned.role,
            content: planned.text,
        });
        for (piece, tokens) in planned.pieces {
            for outlet in &piece.outlets {
                self.outlet_at.entry(outlet.clone()).or_insert(at);
            }
            self.parts.push(PromptPart {
                source: piece.source,
                label: piece.label,
                message_index: at,
                text: piece.text,
                tokens,
            });
        }
    }

    /// A part for every outlet entry, at the first message that pulled its outlet in.
    fn outlet_parts(&mut self, input: &PromptInput, prep: &Prep<'_>, counter: &dyn TokenCounter) {
        for a in &input.world_info {
            if a.position != EntryPosition::Outlet {
                continue;
            }
            let (text, _) = prep.text(&a.content);
            if text.is_empty() {
                continue;
            }
            let at = self
                .outlet_at
                .get(a.outlet.trim())
                .copied()
                .unwrap_or(NOT_PLACED);
            let mut piece = super::system::world_info_piece(a, text);
            if at == NOT_PLACED {
                piece
                    .label
                    .push_str(": no {{outlet::…}} in the prompt uses it");
            }
            self.parts.push(PromptPart {
                source: piece.source,
                tokens: count(counter, &piece.text),
                label: piece.label,
                message_index: at,
                text: piece.text,
            });
        }
    }
}

fn count(counter: &dyn TokenCounter, text: &str) -> u32 {
    if text.is_empty() {
        0
    } else {
        counter.count(text)
    }
}
