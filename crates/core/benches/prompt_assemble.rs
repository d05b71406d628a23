//! Prompt assembly benchmark: 1,000 history messages (~300 chars each), a
//! 5,000-entry world book compiled once and scanned over the last messages,
//! example dialogue, a Character's note and an Author's Note, assembled with
//! the shared o200k counter the app uses.
//!
//! Measured three ways in the same run:
//! - as the app runs: the history's token counts stored with the messages
//!   (counted once, when first needed), other parts remembered by the shared
//!   counting cache;
//! - counting every kept history message again on each prompt (how assembly
//!   worked before counts were stored);
//! - naive: expanding and counting every history message (kept or not) and
//!   re-counting the joined prompt.
//!
//! Run: `cargo bench -p confab-core --bench prompt_assemble`

use std::hint::black_box;
use std::time::{Duration, Instant};

use confab_core::card::CardData;
use confab_core::lore::{
    compile, scan, Book, BookSettings, Entry, EntryPosition, EntryRole, ScanInput, ScanMessage,
    TimedState,
};
use confab_core::prompt::{
    assemble, substitute_macros, AuthorsNote, CharacterNote, ExampleDialogue, HistoryMessage,
    MacroContext, PromptEnding, PromptInput, DEFAULT_PRIMARY_CONTEXT,
};
use confab_core::session::{CharacterPreferences, RelationshipMode, Role, SpeechModifier};
use confab_core::tokens::{default_counter, shared_counter, TokenCounter};

const ENTRIES: usize = 5_000;
const MESSAGES: usize = 1_000;
const SCANNED: usize = 50;
const RUNS: usize = 30;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Three example chats, about 1.5 KB, as cards write them.
const EXAMPLES: &str = "<START>\n{{user}}: Where are we headed?\n{{char}}: *taps the chart* South, past the reef. \
If the wind holds we make port by the third bell, and if it doesn't, we row.\n{{user}}: And if the reef moves?\n\
{{char}}: Reefs don't move, {{user}}. Navigators do. *grins*\n<START>\n{{user}}: You look tired.\n{{char}}: \
*rubs her eyes* Three nights of stars and no sleep. The sky is a map that rewrites itself every hour; someone has \
to keep reading it.\n{{user}}: Let me take the watch.\n{{char}}: You'd steer us into Tuesday. Sit. Learn.\n\
<START>\n{{char}}: *leans on the rail, watching the wake* Ever notice how the sea forgets us the moment we pass? \
Every mile we sail is erased behind us. Only the log remembers.\n{{user}}: That's grim.\n{{char}}: That's why \
I keep the log.";

const FILLER: [&str; 24] = [
    "the", "and", "of", "a", "to", "in", "was", "she", "he", "it", "with", "over", "under",
    "quiet", "old", "road", "night", "light", "said", "looked", "back", "toward", "city", "river",
];

fn filler(rng: &mut Rng, chars: usize) -> String {
    let mut s = String::new();
    while s.len() < chars {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(FILLER[rng.below(FILLER.len())]);
    }
    s
}

fn build() -> (Book, Vec<HistoryMessage>) {
    let mut rng = Rng(7);
    let positions = [
        EntryPosition::BeforeCharacter,
        EntryPosition::AfterCharacter,
        EntryPosition::AtDepth,
        EntryPosition::AuthorsNoteBottom,
        EntryPosition::ExampleMessagesTop,
    ];
    let entries = (0..ENTRIES)
        .map(|uid| {
            let mut e = Entry::new(uid as u32);
            e.comment = format!("place {uid}");
            e.keys = vec![format!("place{uid}"), format!("alias{uid}x")];
            e.insertion_order = rng.below(1000) as i32;
            e.position = positions[uid % positions.len()];
            e.depth = (uid % 6) as u32;
            e.role = EntryRole::System;
            e.content = format!("{{{{char}}}} knows place{uid}: {}", filler(&mut rng, 200));
            e
        })
        .collect();
    let history = (0..MESSAGES)
        .map(|i| {
            let mut content = filler(&mut rng, 280);
            // Every third message names a place; a few use macros.
            if i % 3 == 0 {
                content.push_str(&format!(" place{}", rng.below(ENTRIES)));
            }
            if i % 10 == 0 {
                content.push_str(" {{user}} waves at {{char}}.");
            }
            let (role, name) = if i % 2 == 0 {
                (Role::User, "Ann")
            } else {
                (Role::Assistant, "Mira")
            };
            HistoryMessage {
                role,
                name: name.into(),
                content,
                tokens: None,
            }
        })
        .collect();
    let book = Book {
        name: "bench".into(),
        description: String::new(),
        settings: BookSettings {
            scan_depth: SCANNED as u32,
            ..BookSettings::default()
        },
        entries,
        extensions: Default::default(),
    };
    (book, history)
}

fn input(history: Vec<HistoryMessage>, window: u32) -> PromptInput {
    PromptInput {
        primary_context: DEFAULT_PRIMARY_CONTEXT.into(),
        character: CardData {
            name: "Mira".into(),
            description: "{{char}} is a ship's navigator. ".repeat(30),
            personality: "bold, dry, loyal".into(),
            scenario: "A long voyage.".into(),
            system_prompt: "{{original}}\nYou are {{char}}.".into(),
            post_history_instructions: "Stay in character.".into(),
            mes_example: EXAMPLES.into(),
            ..CardData::default()
        },
        example_dialogue: ExampleDialogue::Keep,
        character_note: Some(CharacterNote {
            text: "{{char}} never admits to being lost.".into(),
            depth: 4,
            role: Role::System,
        }),
        authors_note: Some(AuthorsNote {
            text: "[Style: terse, salty, present tense.]".into(),
            ..AuthorsNote::default()
        }),
        user_turns: (MESSAGES / 2) as u32,
        user_name: "Ann".into(),
        persona_description: "{{user}} is a cartographer.".into(),
        preferences: Some(CharacterPreferences {
            relationship: RelationshipMode::Friend,
            speech: vec![SpeechModifier::TalkLess],
            ..Default::default()
        }),
        world_info: Vec::new(),
        history,
        global_post_history: "Reply in English.".into(),
        new_message: Some("Where are we, {{char}}?".into()),
        new_message_images: 0,
        ending: PromptEnding::Reply,
        context_window: window,
        reply_reserve: 1_024,
        now: "2024-06-05T15:45:00+02:00".into(),
        seed: 1,
        group: None,
        memory: Default::default(),
    }
}

/// Assembly without the walk: expand and count everything, then the joined prompt.
fn naive(input: &PromptInput, counter: &dyn TokenCounter) -> u32 {
    let ctx = MacroContext::from_input(input);
    let mut texts: Vec<String> = vec![
        substitute_macros(&input.primary_context, &ctx),
        substitute_macros(&input.character.description, &ctx),
    ];
    texts.extend(
        input
            .world_info
            .iter()
            .map(|a| substitute_macros(&a.content, &ctx)),
    );
    texts.extend(
        input
            .history
            .iter()
            .map(|m| substitute_macros(&m.content, &ctx)),
    );
    let each: u32 = texts.iter().map(|t| counter.count(t)).sum();
    each + counter.count(&texts.join("\n"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let counter = default_counter();
    counter.count("warm up");
    let (book, history) = build();

    let t = Instant::now();
    let Ok(compiled) = compile(&book, "bench", counter) else {
        eprintln!("compile failed");
        return;
    };
    println!(
        "compile {ENTRIES}-entry book once: {:.1} ms",
        ms(t.elapsed())
    );

    let scan_input = ScanInput {
        messages: history[MESSAGES - SCANNED..]
            .iter()
            .map(|m| ScanMessage {
                role: m.role.as_str().into(),
                name: m.name.clone(),
                content: m.content.clone(),
            })
            .collect(),
        context_tokens: 128_000,
        ..ScanInput::default()
    };
    let mut scan_times = Vec::with_capacity(RUNS);
    let mut report = None;
    for run in 0..RUNS {
        let mut state = TimedState::default();
        let t = Instant::now();
        let r = scan(&[&compiled], black_box(&scan_input), &mut state, run as u64);
        scan_times.push(t.elapsed());
        report = Some(r);
    }
    let Some(report) = report else { return };
    println!(
        "scan last {SCANNED} messages: median {:.3} ms; {} entries activated ({} tokens)",
        ms(median(scan_times)),
        report.activated.len(),
        report.tokens_used
    );

    let mut raw = Vec::with_capacity(RUNS / 3);
    for _ in 0..RUNS / 3 {
        let t = Instant::now();
        let n: u32 = history
            .iter()
            .map(|m| counter.count(black_box(&m.content)))
            .sum();
        raw.push(t.elapsed());
        black_box(n);
    }
    println!(
        "raw o200k counting of all {MESSAGES} history messages: {:.2} ms",
        ms(median(raw))
    );

    // Stored counts, as the app keeps them after a message is first needed.
    let stored: Vec<HistoryMessage> = history
        .iter()
        .map(|m| HistoryMessage {
            tokens: Some(counter.count(&m.content)),
            ..m.clone()
        })
        .collect();
    let shared = shared_counter();
    for window in [128_000u32, 32_000, 8_192] {
        let mut inp = input(stored.clone(), window);
        inp.world_info = report.activated.clone();
        // Warm the shared cache as the first prompt of a session does.
        let _ = assemble(&inp, shared);
        let mut times = Vec::with_capacity(RUNS);
        let mut last = None;
        for _ in 0..RUNS {
            let t = Instant::now();
            let p = assemble(black_box(&inp), shared);
            times.push(t.elapsed());
            last = Some(p);
        }
        let Some(Ok(p)) = last else {
            eprintln!("assemble failed");
            return;
        };
        let ours = median(times);

        let mut recount = input(history.clone(), window);
        recount.world_info = report.activated.clone();
        let mut recount_times = Vec::with_capacity(RUNS / 3);
        for _ in 0..RUNS / 3 {
            let t = Instant::now();
            black_box(assemble(black_box(&recount), counter).ok());
            recount_times.push(t.elapsed());
        }
        let recounted = median(recount_times);
        let mut base_times = Vec::with_capacity(RUNS / 3);
        for _ in 0..RUNS / 3 {
            let t = Instant::now();
            black_box(naive(black_box(&inp), counter));
            base_times.push(t.elapsed());
        }
        let base = median(base_times);
        println!(
            "assemble, {window}-token window, with example dialogue, both notes and {} world-info entries: \
             median {:.2} ms over {RUNS} runs (target < 2 ms at 128k); {} messages, {} tokens, \
             {} history and {} example chats dropped",
            inp.world_info.len(),
            ms(ours),
            p.messages.len(),
            p.total_tokens,
            p.dropped_history,
            p.dropped_examples
        );
        println!(
            "  counting every kept message again (before counts were stored): {:.2} ms; ratio {:.1}x",
            ms(recounted),
            recounted.as_secs_f64() / ours.as_secs_f64().max(1e-9)
        );
        println!(
            "  naive baseline (expand + count all {MESSAGES} messages and the joined prompt): \
             {:.2} ms; ratio {:.1}x",
            ms(base),
            base.as_secs_f64() / ours.as_secs_f64().max(1e-9)
        );
    }

    // Prompt caching: keyword world info out of the system message (the setting's switch).
    let mut moved = input(stored.clone(), 128_000);
    moved.world_info = report.activated.clone();
    let count = confab_core::prompt::relocate_keyword_world_info(
        &mut moved.world_info,
        confab_core::prompt::MOVED_WORLD_INFO_DEPTH,
    );
    let mut kept = input(stored, 128_000);
    kept.world_info = report.activated.clone();
    if let (Ok(a), Ok(b)) = (assemble(&kept, shared), assemble(&moved, shared)) {
        let system = |p: &confab_core::prompt::AssembledPrompt| {
            p.parts
                .iter()
                .filter(|x| x.message_index == 0)
                .map(|x| x.tokens)
                .sum::<u32>()
        };
        println!(
            "keyword world info moved to depth 4: {count} entries; system message {} tokens \
             (was {}); cache marks at {:?} (were {:?})",
            system(&b),
            system(&a),
            confab_core::prompt::cache_breakpoints(&b),
            confab_core::prompt::cache_breakpoints(&a)
        );
    }
}
