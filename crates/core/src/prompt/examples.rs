//! Example dialogue: the card's `mes_example`, and world info placed around it,
//! as example chats before the history (SillyTavern's chat-completion form).
//!
//! The text is split into blocks at each `<START>` (any case; text before the
//! first one is a block too). After macros, a line that begins with the user's
//! name and a colon starts a user turn, one that begins with the character's
//! name and a colon starts an assistant turn; the name and colon are removed,
//! following lines belong to the same turn, and lines before the first speaker
//! open the first turn (all as SillyTavern parses them). A block with no
//! speaker at all, which SillyTavern would drop, is kept as one system turn:
//! it still shows the model the character's voice. Each block becomes an
//! `[Example Chat]` system line followed by its turns.

use crate::lore::EntryPosition;
use crate::session::Role;

use super::explain::{example_label, world_info_label};
use super::model::{ExampleDialogue, PromptInput, PromptSource};
use super::system::placed;
use super::text::{Piece, Prep};

/// The line that opens each example chat (SillyTavern's default).
pub const EXAMPLE_CHAT_LINE: &str = "[Example Chat]";
/// The line between the example chats and the real one (SillyTavern's default).
pub const CHAT_START_LINE: &str = "[Start a new Chat]";

/// One example chat: its turns in order, each one message.
pub(crate) struct ExampleBlock {
    pub turns: Vec<(Role, Piece)>,
}

/// Every example block in prompt order: world info before the examples, the
/// card's own (unless the setting says never), world info after them.
pub(crate) fn example_blocks(input: &PromptInput, prep: &Prep<'_>) -> Vec<ExampleBlock> {
    let mut blocks = Vec::new();
    let names = (prep.ctx.user_name.as_str(), prep.ctx.char_name.as_str());
    for a in placed(input, EntryPosition::ExampleMessagesTop) {
        let (text, used) = prep.text(&a.content);
        let label = world_info_label(a);
        for turns in split_blocks(&text, names) {
            blocks.push(block(turns, PromptSource::WorldInfo, &label, &used.outlets));
        }
    }
    if input.example_dialogue != ExampleDialogue::Never {
        let (text, used) = prep.text(&input.character.mes_example);
        for (i, turns) in split_blocks(&text, names).into_iter().enumerate() {
            let label = example_label(i + 1);
            blocks.push(block(
                turns,
                PromptSource::ExampleDialogue,
                &label,
                &used.outlets,
            ));
        }
    }
    for a in placed(input, EntryPosition::ExampleMessagesBottom) {
        let (text, used) = prep.text(&a.content);
        let label = world_info_label(a);
        for turns in split_blocks(&text, names) {
            blocks.push(block(turns, PromptSource::WorldInfo, &label, &used.outlets));
        }
    }
    blocks
}

fn block(
    turns: Vec<(Role, String)>,
    source: PromptSource,
    label: &str,
    outlets: &[String],
) -> ExampleBlock {
    // The opening line is the example dialogue's own, whatever fills the block.
    let header_label = match source {
        PromptSource::WorldInfo => format!("example chat for {label}"),
        _ => label.to_owned(),
    };
    let mut header = Piece::new(
        PromptSource::ExampleDialogue,
        header_label,
        EXAMPLE_CHAT_LINE.to_owned(),
    );
    header.outlets = outlets.to_vec();
    let mut out = vec![(Role::System, header)];
    for (role, text) in turns {
        let who = match role {
            Role::User => "user",
            Role::Assistant => "character",
            Role::System => "narration",
        };
        out.push((role, Piece::new(source, format!("{label}, {who}"), text)));
    }
    ExampleBlock { turns: out }
}

/// The blocks of an example text, each as its turns; empty blocks are left out.
pub(crate) fn split_blocks(
    text: &str,
    (user, character): (&str, &str),
) -> Vec<Vec<(Role, String)>> {
    split_at_start(text)
        .into_iter()
        .filter_map(|block| {
            let turns = turns(block, user, character);
            (!turns.is_empty()).then_some(turns)
        })
        .collect()
}

/// Splits at every `<START>` (ASCII case-insensitive).
fn split_at_start(text: &str) -> Vec<&str> {
    const TAG: &[u8] = b"<start>";
    let bytes = text.as_bytes();
    let mut blocks = Vec::new();
    let mut from = 0;
    let mut i = 0;
    while i + TAG.len() <= bytes.len() {
        if bytes[i] == b'<' && bytes[i..i + TAG.len()].eq_ignore_ascii_case(TAG) {
            blocks.push(&text[from..i]);
            i += TAG.len();
            from = i;
        } else {
            i += 1;
        }
    }
    blocks.push(&text[from..]);
    blocks
}

/// One block's turns by speaker prefix.
fn turns(block: &str, user: &str, character: &str) -> Vec<(Role, String)> {
    let speaker = |line: &str| -> Option<(Role, usize)> {
        for (name, role) in [(user, Role::User), (character, Role::Assistant)] {
            if !name.is_empty() && line.starts_with(name) && line[name.len()..].starts_with(':') {
                return Some((role, name.len() + 1));
            }
        }
        None
    };
    let mut turns: Vec<(Role, String)> = Vec::new();
    let mut preamble: Vec<&str> = Vec::new();
    let mut current: Option<(Role, Vec<&str>)> = None;
    for line in block.lines() {
        match speaker(line) {
            Some((role, prefix)) => {
                if let Some((r, lines)) = current.take() {
                    push_turn(&mut turns, r, &lines);
                }
                let mut lines = std::mem::take(&mut preamble);
                lines.push(line[prefix..].trim_start());
                current = Some((role, lines));
            }
            None => match &mut current {
                Some((_, lines)) => lines.push(line),
                None => preamble.push(line),
            },
        }
    }
    match current {
        Some((r, lines)) => push_turn(&mut turns, r, &lines),
        None => push_turn(&mut turns, Role::System, &preamble),
    }
    turns
}

fn push_turn(turns: &mut Vec<(Role, String)>, role: Role, lines: &[&str]) {
    let text = lines.join("\n");
    let text = text.trim();
    if !text.is_empty() {
        turns.push((role, text.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(role: Role, s: &str) -> (Role, String) {
        (role, s.to_owned())
    }

    #[test]
    fn blocks_split_at_start_in_any_case() {
        let text = "<START>\nAnn: hi\nMira: hello\n<start>\nMira: again\n<Start>\n\n";
        assert_eq!(
            split_blocks(text, ("Ann", "Mira")),
            vec![
                vec![t(Role::User, "hi"), t(Role::Assistant, "hello")],
                vec![t(Role::Assistant, "again")],
            ]
        );
    }

    #[test]
    fn turns_run_over_lines_and_the_preamble_opens_the_first() {
        let text = "*waves*\nMira: Ahoy!\nShe grins.\nAnn: Hi: there\nAnnie: not a speaker";
        assert_eq!(
            split_blocks(text, ("Ann", "Mira")),
            vec![vec![
                t(Role::Assistant, "*waves*\nAhoy!\nShe grins."),
                t(Role::User, "Hi: there\nAnnie: not a speaker"),
            ]]
        );
    }

    #[test]
    fn a_block_without_speakers_is_one_system_turn() {
        assert_eq!(
            split_blocks(
                "<START>\nMira speaks in short, salty sentences.",
                ("Ann", "Mira")
            ),
            vec![vec![t(
                Role::System,
                "Mira speaks in short, salty sentences."
            )]]
        );
        assert!(split_blocks("<START>\n\n<START>", ("Ann", "Mira")).is_empty());
    }

    #[test]
    fn multibyte_text_and_tags_are_safe() {
        let text = "Ярослава: привет<START>Ann: 你好<STAR";
        assert_eq!(
            split_blocks(text, ("Ann", "Ярослава")),
            vec![
                vec![t(Role::Assistant, "привет")],
                vec![t(Role::User, "你好<STAR")],
            ]
        );
    }
}
