//! Rendering a text prompt through an instruct and a context template, as SillyTavern lays it out.
//!
//! The prompt, in order:
//!
//! 1. the **story string** (the context template over [`StoryFields`]), with a
//!    line break added when `wrap` is on and it has none, wrapped in the
//!    instruct template's `story_string_prefix`/`_suffix` (unless it is placed
//!    in the chat, where it becomes a turn at its depth);
//! 2. the **example dialogue**, unless the story string reads `{{mesExamples}}`
//!    itself: each block opened by `example_separator` (when set), each turn
//!    framed like a chat turn (or plain `Name: text` lines with `skip_examples`);
//! 3. `chat_start` and a line break (when set);
//! 4. the `user_alignment_message` as a user turn, when set and the chat does
//!    not open with a user turn;
//! 5. the **chat**: each turn `prefix + sep + [Name: ]text + suffix`, where
//!    `sep` is a line break under `wrap`, an empty suffix becomes a line break
//!    under `wrap`, the chat's first turn takes the `first_*` sequence, the
//!    last user turn the `last_input_sequence`; system turns use the system
//!    sequences (or the user's with `system_same_as_user`) and never a name;
//! 6. the **opening of the reply** (the prefill): a line break (under
//!    `wrap`, replacing the last turn's own), `last_output_sequence` or
//!    `output_sequence`, and `Name:` when names are on. A continue leaves the
//!    last turn open instead; an impersonation opens a user turn.
//!
//! Stop strings: `\nUser:` (`\nChar:` when impersonating) and the other
//! group members' names when `names_as_stop_strings` is on; each line of
//! `stop_sequence` as written; with `sequences_as_stop_strings`, each line of
//! the input, output, first/last output, system and last-system sequences
//! (after a line break under `wrap`); `chat_start` and `example_separator`
//! after a line break with `use_stop_strings`. Deduplicated, none empty or
//! blank.
//!
//! Names: `always` names every user and character turn; `force` names them
//! in group chats only, and the user's never (the history of a group already
//! carries names in its text: a name is never written twice); `none` never.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::session::Role;

use super::context::{ContextTemplate, StoryStringPosition};
use super::expand_names;
use super::input::{TextEnding, TextPromptInput, Turn};
use super::instruct::{InstructTemplate, NamesBehavior, Place};
use super::story::{self, StoryVars};

/// A text prompt ready for a completion endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RenderedPrompt {
    /// The whole prompt.
    pub text: String,
    /// Stop strings for the request: deduplicated, none empty.
    pub stop: Vec<String>,
    /// The end of `text` the reply continues (the reply's opening sequence and
    /// name, or a continued turn); the model's output follows it directly.
    pub prefill: String,
    /// The story string as placed (after its prefix and suffix), for the preview.
    pub story_string: String,
}

/// Renders `input` through `instruct` and `context` into one prompt string with its stop strings.
pub fn render_text_prompt(
    instruct: &InstructTemplate,
    context: &ContextTemplate,
    input: &TextPromptInput,
) -> Result<RenderedPrompt> {
    let r = Renderer { instruct, input };
    let sep = if instruct.wrap { "\n" } else { "" };

    let (examples, examples_raw) = r.examples(context);
    let story_raw = story::render(
        &context.story_string,
        &StoryVars {
            fields: &input.story,
            char_name: &input.char_name,
            user_name: &input.user_name,
            mes_examples: &examples,
            mes_examples_raw: &examples_raw,
        },
    )?;
    let mut story_text = story_raw;
    if !story_text.is_empty() && !story_text.ends_with('\n') && instruct.wrap {
        story_text.push('\n');
    }

    let mut turns: Vec<Turn> = input.history.clone();
    let in_chat = context.story_string_position == StoryStringPosition::InChat;
    if in_chat && !story_text.is_empty() {
        let at = turns
            .len()
            .saturating_sub(context.story_string_depth as usize);
        turns.insert(
            at,
            Turn::new(context.story_role(), "", story_text.trim_end().to_owned()),
        );
        story_text = String::new();
    } else if !story_text.is_empty() {
        let prefix = r.expand(&instruct.story_string_prefix, "System");
        let suffix = r.expand(&instruct.story_string_suffix, "System");
        if !prefix.is_empty() {
            story_text = format!("{prefix}{sep}{story_text}");
        }
        if !suffix.is_empty() {
            // The suffix closes the story's turn as a turn suffix closes a
            // message: right after the text, as the model's own template
            // writes it (SillyTavern keeps the line break here).
            story_text.truncate(story_text.trim_end_matches(['\r', '\n']).len());
            story_text.push_str(&suffix);
        }
    }

    let mut text = String::new();
    text.push_str(&story_text);
    if !story::uses_examples(&context.story_string) {
        text.push_str(&examples);
    }
    if !context.chat_start.is_empty() {
        text.push_str(&r.expand(&context.chat_start, ""));
        text.push('\n');
    }

    let continuing = input.ending == TextEnding::Continue && !turns.is_empty();
    if !instruct.user_alignment_message.is_empty()
        && turns.first().is_none_or(|t| t.role != Role::User)
    {
        let alignment = Turn::new(
            Role::User,
            input.user_name.clone(),
            instruct.user_alignment_message.clone(),
        );
        text.push_str(&r.turn(&alignment, Place::First, false));
    }

    let last_user = turns.iter().rposition(|t| t.role == Role::User);
    let count = turns.len();
    let mut prefill = String::new();
    for (i, turn) in turns.iter().enumerate() {
        let is_last = i + 1 == count;
        let open = continuing && is_last;
        let place = if open || Some(i) == last_user {
            Place::Last
        } else if i == 0 {
            Place::First
        } else {
            Place::Middle
        };
        let mut formatted = r.turn(turn, place, open);
        if is_last && !continuing && instruct.wrap && formatted.ends_with('\n') {
            formatted.pop();
        }
        if open {
            prefill = formatted.clone();
        }
        text.push_str(&formatted);
    }

    if !continuing {
        let line = r.reply_opening(input.ending == TextEnding::Impersonate);
        prefill = line.trim_start_matches(sep).to_owned();
        if prefill.is_empty() {
            prefill = line.clone();
        }
        text.push_str(&line);
    }

    Ok(RenderedPrompt {
        stop: stop_strings(instruct, context, input),
        text,
        prefill,
        story_string: if in_chat { String::new() } else { story_text },
    })
}

struct Renderer<'a> {
    instruct: &'a InstructTemplate,
    input: &'a TextPromptInput,
}

impl Renderer<'_> {
    /// A sequence with its macros expanded (when the template says so), `{{name}}` as `name`.
    fn expand(&self, seq: &str, name: &str) -> String {
        if self.instruct.macros {
            expand_names(seq, &self.input.char_name, &self.input.user_name, name)
        } else {
            seq.to_owned()
        }
    }

    /// Whether a chat turn of `role` by `name` is written with the name.
    fn names_turn(&self, role: Role, name: &str) -> bool {
        if role == Role::System || name.trim().is_empty() {
            return false;
        }
        match self.instruct.names_behavior {
            NamesBehavior::Always => true,
            NamesBehavior::Force => self.input.is_group() && name != self.input.user_name,
            NamesBehavior::None => false,
        }
    }

    /// One turn: prefix, separator, optional name, text, suffix (none when `open`).
    fn turn(&self, turn: &Turn, place: Place, open: bool) -> String {
        let display = if turn.name.is_empty() {
            "System"
        } else {
            &turn.name
        };
        let prefix = self.expand(self.instruct.prefix(turn.role, place), display);
        let mut suffix = self.expand(self.instruct.suffix(turn.role), display);
        if suffix.is_empty() && self.instruct.wrap {
            suffix.push('\n');
        }
        let named = self.names_turn(turn.role, &turn.name);
        self.frame(
            &prefix,
            &turn.name,
            named,
            &turn.content,
            if open { "" } else { &suffix },
        )
    }

    fn frame(&self, prefix: &str, name: &str, named: bool, content: &str, suffix: &str) -> String {
        let sep = if self.instruct.wrap { "\n" } else { "" };
        let mut out = String::with_capacity(prefix.len() + name.len() + content.len() + 8);
        if !prefix.is_empty() {
            out.push_str(prefix);
            out.push_str(sep);
        }
        if named && !starts_with_name(content, name) {
            out.push_str(name);
            out.push_str(": ");
        }
        out.push_str(content);
        out.push_str(suffix);
        out
    }

    /// The example dialogue as sent, and as plain `Name: text` lines (`mesExamplesRaw`).
    fn examples(&self, context: &ContextTemplate) -> (String, String) {
        let input = self.input;
        let heading = if context.example_separator.is_empty() {
            String::new()
        } else {
            format!("{}\n", self.expand(&context.example_separator, ""))
        };
        let mut raw = String::new();
        for block in &input.examples {
            raw.push_str(&heading);
            for t in block {
                if t.name.is_empty() {
                    raw.push_str(&t.content);
                } else {
                    raw.push_str(&format!("{}: {}", t.name, t.content));
                }
                raw.push('\n');
            }
        }
        if self.instruct.skip_examples {
            return (raw.clone(), raw);
        }
        let behavior = self.instruct.names_behavior;
        let mut out = String::new();
        for block in &input.examples {
            out.push_str(&heading);
            for t in block {
                let named = t.role != Role::System
                    && match behavior {
                        NamesBehavior::Always => true,
                        NamesBehavior::Force => input.is_group() || t.role == Role::User,
                        NamesBehavior::None => false,
                    };
                out.push_str(&self.turn_with(t, named));
            }
        }
        (out, raw)
    }

    fn turn_with(&self, t: &Turn, named: bool) -> String {
        let display = if t.name.is_empty() { "System" } else { &t.name };
        let prefix = self.expand(self.instruct.prefix(t.role, Place::Middle), display);
        let mut suffix = self.expand(self.instruct.suffix(t.role), display);
        if suffix.is_empty() && self.instruct.wrap {
            suffix.push('\n');
        }
        self.frame(
            &prefix,
            &t.name,
            named && !t.name.is_empty(),
            &t.content,
            &suffix,
        )
    }

    /// The line that opens the turn the model writes.
    fn reply_opening(&self, impersonate: bool) -> String {
        let ins = self.instruct;
        let input = self.input;
        let name = if impersonate {
            &input.user_name
        } else {
            &input.char_name
        };
        let names = !name.trim().is_empty()
            && (ins.names_behavior == NamesBehavior::Always
                || (input.is_group() && ins.names_behavior == NamesBehavior::Force));
        let seq = if impersonate {
            or(&ins.last_input_sequence, &ins.input_sequence)
        } else {
            or(&ins.last_output_sequence, &ins.output_sequence)
        };
        // Mistral-style templates whose turn opening ends in a space keep that
        // space before the name when the last opening has none.
        let filler = if names
            && !impersonate
            && !ins.last_output_sequence.is_empty()
            && seq == ins.last_output_sequence
            && ins.output_sequence.ends_with(char::is_whitespace)
            && !ins.last_output_sequence.ends_with(char::is_whitespace)
        {
            ins.output_sequence
                .chars()
                .last()
                .map(String::from)
                .unwrap_or_default()
        } else {
            String::new()
        };
        let seq = self.expand(seq, name);
        let sep = if ins.wrap { "\n" } else { "" };
        let mut line = if names {
            format!("{sep}{seq}{sep}{filler}{name}:")
        } else {
            format!("{sep}{seq}")
        };
        if ins.wrap {
            line.truncate(line.trim_end().len());
        }
        if !names {
            line.push_str(sep);
        }
        line
    }
}

fn or<'a>(special: &'a str, plain: &'a str) -> &'a str {
    if special.is_empty() {
        plain
    } else {
        special
    }
}

/// Whether `content` already opens with `name:` (a group history carries names in its text).
fn starts_with_name(content: &str, name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && content
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// The stop strings of a prompt: speakers' names, the template's sequences, the context's lines.
pub(crate) fn stop_strings(
    instruct: &InstructTemplate,
    context: &ContextTemplate,
    input: &TextPromptInput,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let named = |n: &str| {
        let n = n.trim();
        (!n.is_empty()).then(|| format!("\n{n}:"))
    };
    if context.names_as_stop_strings {
        let impersonate = input.ending == TextEnding::Impersonate;
        let first = if impersonate {
            &input.char_name
        } else {
            &input.user_name
        };
        out.extend(named(first));
        out.extend(named(&input.user_name));
        for member in &input.group_members {
            if member != &input.char_name {
                out.extend(named(member));
            }
        }
    }
    let expand = |s: &str, name: &str| {
        let s = with_name(s, name);
        if instruct.macros {
            expand_names(&s, &input.char_name, &input.user_name, name)
        } else {
            s
        }
    };
    // The stop sequence is what the model itself emits, so it is used as
    // written; the turn sequences are what it would write to start a new
    // turn, after a line break under `wrap` (SillyTavern puts the line break
    // before the stop sequence too, which misses `text<|im_end|>`).
    let mut seen: Vec<String> = Vec::new();
    for line in instruct.stop_sequence.split('\n') {
        if !line.trim().is_empty() && !seen.iter().any(|s| s == line) {
            seen.push(line.to_owned());
            out.push(expand(line, ""));
        }
    }
    if instruct.sequences_as_stop_strings {
        let mut sequences = vec![expand(&instruct.input_sequence, &input.user_name)];
        for s in [
            &instruct.output_sequence,
            &instruct.first_output_sequence,
            &instruct.last_output_sequence,
        ] {
            sequences.push(expand(s, &input.char_name));
        }
        sequences.push(expand(&instruct.system_sequence, "System"));
        sequences.push(expand(&instruct.last_system_sequence, "System"));
        for seq in &sequences {
            for line in seq.split('\n') {
                if line.trim().is_empty() || seen.iter().any(|s| s == line) {
                    continue;
                }
                seen.push(line.to_owned());
                out.push(if instruct.wrap {
                    format!("\n{line}")
                } else {
                    line.to_owned()
                });
            }
        }
    }
    if context.use_stop_strings {
        for s in [&context.chat_start, &context.example_separator] {
            if !s.is_empty() {
                out.push(format!("\n{}", expand(s, "")));
            }
        }
    }
    let mut unique: Vec<String> = Vec::with_capacity(out.len());
    for s in out {
        if !s.is_empty() && !unique.contains(&s) {
            unique.push(s);
        }
    }
    unique
}

/// `{{name}}` replaced by `name` (any case), leaving `{{char}}` and `{{user}}` for later.
fn with_name(s: &str, name: &str) -> String {
    expand_names(s, "{{char}}", "{{user}}", name)
}
