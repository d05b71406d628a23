//! Instruct and chat templates: a prompt becomes the one string a text-completion model reads.
//!
//! Text-completion backends (KoboldCpp, llama.cpp's `/completion`, any
//! `/v1/completions`) take a single prompt string, and a model only follows a
//! conversation written in the format it was trained on. Two ways to get there:
//!
//! - **Instruct templates** ([`InstructTemplate`], SillyTavern's field set) with
//!   a **context template** ([`ContextTemplate`], the story string): rendered by
//!   [`render_text_prompt`] from a [`TextPromptInput`], which the engine builds
//!   from an [`AssembledPrompt`](crate::prompt::AssembledPrompt) with
//!   [`TextPromptInput::from_assembled`]. Built-in presets for the common
//!   model families live in [`presets`]; [`preset_for_model`] picks one from a
//!   model's name.
//! - **Jinja chat templates** (the model's own `tokenizer_config.json`
//!   template, as llama.cpp reports it): [`render_chat_template`], sandboxed by
//!   fuel, an output cap and, in the app and the CLI, a memory-limited worker
//!   process ([`isolate_renders`]). [`detect_preset`] names the preset a Jinja
//!   template matches, so the UI can show it and borrow its stop strings;
//!   [`derive_instruct`] reads a whole instruct template off a Jinja template
//!   by rendering probe conversations, for models no preset knows.
//!
//! For the engine (text-completion providers), per send:
//!
//! 1. assemble as for chat backends, then
//!    [`TextPromptInput::from_assembled`]`(&prompt, char, user, other_members)`;
//! 2. with an instruct template (the user's choice, else
//!    [`template_for_model`] over the user's templates and the built-ins) and
//!    a context template (the user's choice, else [`context_preset`]`("Plain")`):
//!    [`render_text_prompt`] gives the prompt, its stop strings and the prefill;
//! 3. or, when the server reports the model's Jinja template:
//!    [`render_chat_template_with`] over `prompt.messages` (with today's
//!    date for `strftime_now`) and [`jinja_stop_strings`] — or
//!    [`derive_instruct`] from it once, and step 2 with the result, which
//!    keeps the story string, names and examples under the user's control;
//! 4. the reply is what follows the prompt: trim its leading whitespace (a
//!    name prefix ends with `:`), and cut it at the first stop string the
//!    server did not honour.
//!
//! No preset writes a BOS token: llama.cpp and KoboldCpp add it when they
//! tokenize a prompt. The framing adds tokens the assembler did not count;
//! the reply reserve absorbs it as it absorbs chat providers' framing.
//!
//! Everything here is a pure function of its input; bad input gets a typed
//! error, never a panic.

mod context;
mod detect;
mod input;
mod instruct;
mod jinja;
pub mod presets;
mod render;
mod sandbox;
mod story;

pub use context::{ContextTemplate, StoryStringPosition};
pub use detect::{derive_instruct, detect_preset, jinja_stop_strings};
pub use input::{StoryFields, TextEnding, TextPromptInput, Turn};
pub use instruct::{templates_from_st_master_json, InstructTemplate, NamesBehavior};
pub use jinja::{
    render_chat_template, render_chat_template_with, ChatTemplateMessage, ChatTemplateOptions,
    MAX_CHAT_TEMPLATE_BYTES, MAX_CHAT_TEMPLATE_FUEL, MAX_CHAT_TEMPLATE_OUTPUT_BYTES,
};
pub use presets::{
    context_preset, context_presets, instruct_preset, instruct_presets, preset_for_model,
    template_for_model,
};
pub use render::{render_text_prompt, RenderedPrompt};
pub use sandbox::{isolate_renders, serve_worker_if_asked, WORKER_ENV, WORKER_MEMORY_BYTES};
pub use story::{
    render_story_string, MAX_STORY_DEPTH, MAX_STORY_OUTPUT_BYTES, MAX_STORY_SOURCE_BYTES,
};

use crate::error::{Error, Result};

/// The largest instruct or context template file Confab reads (SillyTavern's are under 2 KB).
pub const MAX_TEMPLATE_FILE_BYTES: usize = 256 * 1024;

/// Parses a template file's JSON into an object, within [`MAX_TEMPLATE_FILE_BYTES`]
/// (serde_json's own recursion limit bounds the nesting).
pub(crate) fn parse_template_json(json: &str, what: &str) -> Result<serde_json::Value> {
    if json.len() > MAX_TEMPLATE_FILE_BYTES {
        return Err(Error::TooLarge {
            what: format!("the {what} file"),
            limit: format!("{} KB", MAX_TEMPLATE_FILE_BYTES / 1024),
        });
    }
    let value: serde_json::Value = serde_json::from_str(json.trim_start_matches('\u{feff}'))
        .map_err(|e| Error::InvalidInput(format!("the {what} is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::InvalidInput(format!(
            "the {what} is not a JSON object"
        )));
    }
    Ok(value)
}

/// Replaces `{{char}}`, `{{user}}` and `{{name}}` (any case, inner spaces allowed) in a sequence.
///
/// Only these three: a sequence is framing, not content, and the content's own
/// macros were expanded by prompt assembly already.
pub(crate) fn expand_names(text: &str, char_name: &str, user_name: &str, name: &str) -> String {
    if !text.contains("{{") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim().to_ascii_lowercase();
        match key.as_str() {
            "char" => out.push_str(char_name),
            "user" => out.push_str(user_name),
            "name" => out.push_str(name),
            _ => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::expand_names;

    #[test]
    fn names_expand_in_any_case_and_others_stay() {
        assert_eq!(
            expand_names("{{Char}}/{{ user }}/{{NAME}}/{{random}}/{{", "A", "B", "N"),
            "A/B/N/{{random}}/{{"
        );
        assert_eq!(expand_names("plain", "A", "B", "N"), "plain");
    }
}
