//! Prompt caching: where the cached prefixes end, and how each provider's
//! request body marks them (Anthropic's `cache_control`, OpenRouter's content
//! parts for Claude and Gemini, nothing for OpenAI or with caching off).

mod prompt_support;

use confab_core::llm::{
    build_request_cached, cache_style, request_body_cached, CacheStyle, ProviderConfig,
    ProviderKind,
};
use confab_core::lore::{EntryPosition, EntryRole};
use confab_core::prompt::{cache_breakpoints, AssembledPrompt, PromptSource, MIN_CACHEABLE_TOKENS};
use confab_core::session::Role;
use prompt_support::*;
use serde_json::{json, Value};

/// A card long enough to be cached (Words counts a token per word).
fn long_input() -> confab_core::prompt::PromptInput {
    let mut inp = input();
    inp.character.description = "salt ".repeat(MIN_CACHEABLE_TOKENS as usize + 50);
    inp.history = (0..10)
        .map(|i| {
            let role = if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            msg(role, &format!("line {i}"))
        })
        .collect();
    inp
}

fn index_of(p: &AssembledPrompt, source: PromptSource) -> Vec<usize> {
    let mut v: Vec<usize> = p
        .parts
        .iter()
        .filter(|x| x.source == source)
        .map(|x| x.message_index as usize)
        .collect();
    v.dedup();
    v
}

#[test]
fn marks_end_the_system_message_the_stable_history_and_the_newest_message() {
    let mut inp = long_input();
    inp.authors_note = Some(note("Keep it tense.", 4, Role::System));
    let p = run(&inp);
    let system = index_of(&p, PromptSource::CharacterDescription)[0];
    let note_at = index_of(&p, PromptSource::AuthorsNote)[0];
    let new = index_of(&p, PromptSource::NewMessage)[0];
    assert_eq!(system, 0);
    // The Author's Note at depth 4 moves each turn: the mark before it.
    assert_eq!(cache_breakpoints(&p), vec![system, note_at - 1, new]);
}

#[test]
fn examples_and_the_history_get_a_mark_between_them() {
    let mut inp = long_input();
    inp.character.mes_example = EXAMPLES.into();
    let p = run(&inp);
    let chat_start = index_of(&p, PromptSource::ChatStart)[0];
    let first_history = index_of(&p, PromptSource::History)[0];
    assert_eq!(chat_start + 1, first_history);
    let post = index_of(&p, PromptSource::PostHistoryInstructions)[0];
    let new = index_of(&p, PromptSource::NewMessage)[0];
    // No note: the history is stable up to the post-history instructions.
    assert_eq!(cache_breakpoints(&p), vec![0, chat_start, post - 1, new]);
}

#[test]
fn world_info_at_depth_and_retrieved_parts_move_the_mark() {
    let mut inp = long_input();
    inp.world_info = vec![wi(
        7,
        EntryPosition::AtDepth,
        6,
        EntryRole::System,
        "Fog rolls in.",
    )];
    let p = run(&inp);
    let wi_at = p
        .parts
        .iter()
        .find(|x| x.source == PromptSource::WorldInfo)
        .unwrap()
        .message_index as usize;
    assert!(wi_at > 1);
    assert!(cache_breakpoints(&p).contains(&(wi_at - 1)));
    // World info in the system message stays with the system mark.
    let mut inp = long_input();
    inp.world_info = vec![wi(
        8,
        EntryPosition::AfterCharacter,
        0,
        EntryRole::System,
        "Gulls.",
    )];
    let p = run(&inp);
    let marks = cache_breakpoints(&p);
    assert_eq!(marks[0], 0);
    assert!(marks.len() <= confab_core::prompt::MAX_CACHE_BREAKPOINTS);
}

#[test]
fn short_prompts_get_no_marks() {
    let p = run(&input());
    assert!(p.total_tokens < MIN_CACHEABLE_TOKENS);
    assert_eq!(cache_breakpoints(&p), Vec::<usize>::new());
    assert_eq!(
        cache_breakpoints(&AssembledPrompt::default()),
        Vec::<usize>::new()
    );
}

#[test]
fn regenerate_marks_the_last_history_message() {
    let mut inp = long_input();
    inp.new_message = None;
    let p = run(&inp);
    let last_history = *index_of(&p, PromptSource::History).last().unwrap();
    assert_eq!(cache_breakpoints(&p).last(), Some(&last_history));
}

// ---------------------------------------------------------------------------
// Request bodies

fn provider(kind: ProviderKind) -> ProviderConfig {
    let mut c = ProviderConfig::new(kind, "Test");
    c.base_url = "http://127.0.0.1:9/v1".into();
    c
}

/// Every content block (system and messages) that carries a mark, as its text.
fn marked_texts(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut visit = |blocks: &Value| {
        for b in blocks.as_array().into_iter().flatten() {
            if b.get("cache_control").is_some() {
                assert_eq!(b["cache_control"], json!({"type": "ephemeral"}));
                out.push(b["text"].as_str().unwrap_or("").to_owned());
            }
        }
    };
    visit(&body["system"]);
    for m in body["messages"].as_array().into_iter().flatten() {
        visit(&m["content"]);
    }
    out
}

fn count_marks(body: &Value) -> usize {
    body.to_string().matches("cache_control").count()
}

#[test]
fn anthropic_marks_system_blocks_and_messages() {
    let mut inp = long_input();
    inp.authors_note = Some(note("Keep it tense.", 4, Role::System));
    let p = run(&inp);
    let marks = cache_breakpoints(&p);
    let c = provider(ProviderKind::Anthropic);
    let body = request_body_cached(&c, "claude-sonnet-4-5", &p.messages, &[], &marks);
    // The system is a list of text blocks, the first marked.
    let system = body["system"].as_array().expect("system blocks");
    assert_eq!(system[0]["text"], p.messages[0].content.as_str());
    assert_eq!(system[0]["cache_control"], json!({"type": "ephemeral"}));
    let texts = marked_texts(&body);
    assert_eq!(texts.len(), 3, "{body:#}");
    assert_eq!(texts[1], p.messages[marks[1]].content);
    assert_eq!(texts[2], "Where are we?");
    assert!(count_marks(&body) <= 4);
    // A marked single-block message keeps the block form; unmarked ones stay strings.
    let messages = body["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m["content"].is_string()));
    // The same request through the builder, with the key in a header only.
    let req = build_request_cached(
        &c,
        "claude-sonnet-4-5",
        &p.messages,
        &[],
        &marks,
        Some("sk-ant-test"),
    )
    .unwrap();
    assert_eq!(req.body, body);
    assert!(!req.body.to_string().contains("sk-ant-test"));
}

#[test]
fn anthropic_without_caching_sends_what_it_always_did() {
    let p = run(&long_input());
    let marks = cache_breakpoints(&p);
    assert!(!marks.is_empty());
    let mut c = provider(ProviderKind::Anthropic);
    c.prompt_cache = false;
    assert_eq!(cache_style(&c, "claude-sonnet-4-5"), CacheStyle::None);
    let body = request_body_cached(&c, "claude-sonnet-4-5", &p.messages, &[], &marks);
    assert!(body["system"].is_string());
    assert_eq!(count_marks(&body), 0);
    assert_eq!(
        body,
        confab_core::llm::request_body(&c, "claude-sonnet-4-5", &p.messages, &[])
    );
}

#[test]
fn openrouter_marks_claude_and_gemini_but_not_openai() {
    let p = run(&long_input());
    let marks = cache_breakpoints(&p);
    let c = provider(ProviderKind::OpenRouter);
    assert!(c.prompt_cache, "on by default");

    let claude = request_body_cached(&c, "anthropic/claude-sonnet-4.5", &p.messages, &[], &marks);
    assert_eq!(count_marks(&claude), marks.len());
    for &i in &marks {
        let content = &claude["messages"][i]["content"];
        assert_eq!(content[0]["type"], "text");
        assert_eq!(content[0]["text"], p.messages[i].content.as_str());
        assert_eq!(content[0]["cache_control"], json!({"type": "ephemeral"}));
    }
    let unmarked = (0..p.messages.len()).find(|i| !marks.contains(i)).unwrap();
    assert!(claude["messages"][unmarked]["content"].is_string());

    // Gemini: one mark, the most durable (the system message).
    let gemini = request_body_cached(&c, "google/gemini-2.5-pro", &p.messages, &[], &marks);
    assert_eq!(count_marks(&gemini), 1);
    assert!(gemini["messages"][0]["content"][0]["cache_control"].is_object());

    // OpenAI caches on its own: the body is unchanged.
    let gpt = request_body_cached(&c, "openai/gpt-4o", &p.messages, &[], &marks);
    assert_eq!(count_marks(&gpt), 0);
    assert_eq!(
        gpt,
        confab_core::llm::request_body(&c, "openai/gpt-4o", &p.messages, &[])
    );
    // Nor does OpenAI itself, or a local server.
    for kind in [ProviderKind::OpenAi, ProviderKind::OpenAiCompatible] {
        assert_eq!(cache_style(&provider(kind), "claude-x"), CacheStyle::None);
    }
    // Caching off for OpenRouter too.
    let mut off = c.clone();
    off.prompt_cache = false;
    let body = request_body_cached(
        &off,
        "anthropic/claude-sonnet-4.5",
        &p.messages,
        &[],
        &marks,
    );
    assert_eq!(count_marks(&body), 0);
}

#[test]
fn an_old_saved_provider_has_caching_on() {
    let mut v = serde_json::to_value(provider(ProviderKind::Anthropic)).unwrap();
    v.as_object_mut().unwrap().remove("promptCache");
    let c: ProviderConfig = serde_json::from_value(v).unwrap();
    assert!(c.prompt_cache);
}

// ---------------------------------------------------------------------------
// Keyword world info out of the system message

fn keyword(mut a: confab_core::lore::Activation) -> confab_core::lore::Activation {
    a.reason = confab_core::lore::ActivationReason::Key {
        key: "storm".into(),
        secondary: None,
        matched_in: confab_core::lore::MatchedIn::Message { index: 0 },
    };
    a
}

fn entries() -> Vec<confab_core::lore::Activation> {
    vec![
        wi(
            1,
            EntryPosition::BeforeCharacter,
            0,
            EntryRole::User,
            "Always: the sea is cold.",
        ),
        keyword(wi(
            2,
            EntryPosition::AfterCharacter,
            0,
            EntryRole::User,
            "Storms come from the west.",
        )),
        keyword(wi(
            3,
            EntryPosition::AtDepth,
            2,
            EntryRole::System,
            "Deep lore.",
        )),
        keyword(wi(
            4,
            EntryPosition::ExampleMessagesTop,
            0,
            EntryRole::User,
            "Example lore.",
        )),
    ]
}

#[test]
fn relocation_moves_keyword_entries_from_the_system_message_only() {
    use confab_core::prompt::{relocate_keyword_world_info, MOVED_WORLD_INFO_DEPTH};
    let mut wi = entries();
    assert_eq!(
        relocate_keyword_world_info(&mut wi, MOVED_WORLD_INFO_DEPTH),
        1
    );
    // The constant entry stays; the keyword one before/after the character moves.
    assert_eq!(wi[0].position, EntryPosition::BeforeCharacter);
    assert_eq!(wi[0].moved_from, None);
    assert_eq!(wi[1].position, EntryPosition::AtDepth);
    assert_eq!((wi[1].depth, wi[1].role), (4, EntryRole::System));
    assert_eq!(wi[1].moved_from, Some(EntryPosition::AfterCharacter));
    // Entries elsewhere keep their place.
    assert_eq!((wi[2].position, wi[2].depth), (EntryPosition::AtDepth, 2));
    assert_eq!(wi[3].position, EntryPosition::ExampleMessagesTop);
    assert_eq!(wi, {
        let mut again = wi.clone();
        relocate_keyword_world_info(&mut again, 4);
        again
    });
}

#[test]
fn with_relocation_the_system_message_is_the_same_whatever_fires() {
    use confab_core::prompt::relocate_keyword_world_info;
    let quiet = {
        let mut inp = long_input();
        inp.world_info = vec![entries().remove(0)];
        run(&inp)
    };
    let stormy_input = |relocate: bool| {
        let mut inp = long_input();
        // Without the example-top entry, which would move the mark before it.
        inp.world_info = entries()[..3].to_vec();
        if relocate {
            relocate_keyword_world_info(&mut inp.world_info, 4);
        }
        inp
    };
    // Off (the default order): the keyword entry changes the system message.
    let off = run(&stormy_input(false));
    assert_ne!(off.messages[0], quiet.messages[0]);
    assert!(off.messages[0]
        .content
        .contains("Storms come from the west."));
    // On: the system message is what it is without it, and the entry sits in the chat at depth 4.
    let on = run(&stormy_input(true));
    assert_eq!(on.messages[0], quiet.messages[0]);
    assert!(on.messages[0].content.contains("Always: the sea is cold."));
    let part = on
        .parts
        .iter()
        .find(|p| p.text == "Storms come from the west.")
        .unwrap();
    let at = part.message_index as usize;
    assert_eq!(on.messages[at].role, Role::System);
    // Four chat messages after it: three of the history and the new one.
    let chat_after = on.messages[at + 1..]
        .iter()
        .filter(|m| m.role != Role::System)
        .count();
    assert_eq!(chat_after, 4, "{:#?}", &on.messages[at..]);
    assert!(
        part.label.contains("moved from after character"),
        "{}",
        part.label
    );
    assert!(part.label.contains("at depth 4"), "{}", part.label);
    // And the cache mark sits before it.
    assert!(cache_breakpoints(&on).contains(&(at - 1)));
    check_accounting(&on);
}

#[tokio::test]
async fn the_setting_is_saved_and_off_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let store = confab_core::store::Store::open(dir.path()).await.unwrap();
    let settings = store.settings().await.unwrap();
    assert!(!settings.keyword_world_info_at_depth);
    let saved = store
        .save_settings(&confab_core::settings::Settings {
            keyword_world_info_at_depth: true,
            ..settings
        })
        .await
        .unwrap();
    assert!(saved.keyword_world_info_at_depth);
    assert!(store.settings().await.unwrap().keyword_world_info_at_depth);
    let json = serde_json::to_value(saved).unwrap();
    assert_eq!(json["keywordWorldInfoAtDepth"], true);
}

#[test]
fn anthropic_system_blocks_read_as_the_joined_system() {
    use confab_core::prompt::NotePosition;
    let mut inp = long_input();
    inp.authors_note = Some(confab_core::prompt::AuthorsNote {
        position: NotePosition::AfterSystem,
        ..note("Keep it tense.", 4, Role::System)
    });
    let p = run(&inp);
    assert_eq!(p.messages[1].content, "Keep it tense.");
    let c = provider(ProviderKind::Anthropic);
    let marks = cache_breakpoints(&p);
    assert_eq!(marks[0], 0);
    let body = request_body_cached(&c, "claude-sonnet-4-5", &p.messages, &[], &marks);
    let blocks = body["system"].as_array().unwrap();
    let joined: String = blocks.iter().map(|b| b["text"].as_str().unwrap()).collect();
    let plain = confab_core::llm::request_body(&c, "claude-sonnet-4-5", &p.messages, &[]);
    assert_eq!(joined, plain["system"].as_str().unwrap());
    // The mark ends the system prompt proper; the note after it is its own block.
    assert!(blocks[0]["cache_control"].is_object());
    assert_eq!(blocks[1]["text"], "\n\nKeep it tense.");
}
