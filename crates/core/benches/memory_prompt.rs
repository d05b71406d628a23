//! Long chats that remember: what summaries cost a prompt, and what they buy.
//!
//! (a) `build_turn` for a 10,000-message chat with summaries (one per 40
//!     messages, 16k window), median over runs, beside the same chat without
//!     memory, measured in the same run. Target < 10 ms. Then the same chat
//!     with summaries and retrieval on (the combined figure): every
//!     message embedded (768 dims) with the chat's embeddings model, the index
//!     warm as after the chat's first turn, the query embedded by a server on
//!     127.0.0.1 at every turn (each turn asks something new). The embeddings
//!     call is excluded by measuring it alone in the same run (the turn's
//!     request, through the same client) and subtracting its median; a turn
//!     whose query embedding is remembered (a preview, then its send) is
//!     printed beside it as a direct check.
//! (b) A simulated 50-turn session (each turn a user message and a reply; when
//!     the history overflows the window a summary is written at once, as the
//!     background job would after the reply): the share of each prompt's tokens
//!     that is an unchanged prefix of the previous turn's prompt (longest common
//!     prefix of the serialized messages, in tokens, over the prompt's tokens),
//!     averaged over the turns, with summaries vs today's assembly (summaries
//!     off). Target >= 90% with summaries. The scenario: a 16k window (1k for
//!     the reply), a card with a description and example dialogue, an Author's
//!     Note at depth 4, a world book with constant entries (before and after
//!     the character) and @depth entries at depths 2 and 4; a long chat of
//!     200 messages (past the window) to start with.
//!     `simulate` takes a hook called on each turn's input, so an option such
//!     as "keyword world info after the cached part" can be measured the same
//!     way (one such line is printed: keyword entries that change every turn,
//!     placed before the character as today).
//!
//! Run: `cargo bench --locked -p confab-core --bench memory_prompt`

use std::sync::Arc;
use std::time::{Duration, Instant};

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::chat::summary_due_ahead;
use confab_core::library::content_hash;
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::lore::{Activation, ActivationReason, EntryPosition, EntryRole, MatchedIn};
use confab_core::memory::retrieval::chunk::{split_passages, text_hash};
use confab_core::memory::retrieval::{choice_model_key, turn_query, QUERY_TIMEOUT};
use confab_core::memory::settings::{MemorySettings, ModelChoice};
use confab_core::prompt::{
    assemble, relocate_keyword_world_info, AssembledPrompt, AuthorsNote, ExampleDialogue,
    HistoryMessage, PromptEnding, PromptInput, SummaryInput, DEFAULT_PRIMARY_CONTEXT,
    MOVED_WORLD_INFO_DEPTH,
};
use confab_core::secrets::Keys;
use confab_core::session::service::PromptLimits;
use confab_core::session::turn::{build_turn, PromptCaches, TurnRequest};
use confab_core::session::Role;
use confab_core::store::{
    vector_bytes, ImportedMessage, Inserted, NewCharacter, NewSummary, Store,
};
use confab_core::tokens::{shared_counter, TokenCounter};
use sqlx::{ConnectOptions, Connection};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[path = "../tests/http_support/mod.rs"]
mod http;

const WORDS: &[&str] = &[
    "forest", "glade", "river", "sword", "lantern", "tavern", "storm", "whisper", "dragon",
    "castle", "ember", "mirror", "harbor", "meadow", "shadow", "crystal", "garden", "valley",
    "thunder", "candle", "journey", "secret", "silver", "winter", "autumn", "morning", "the",
    "and", "she", "he", "was", "of", "to", "in", "with", "said", "looked", "toward",
];

/// Deterministic text of about `words` words.
fn text(seed: u64, words: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::with_capacity(words * 7);
    for i in 0..words {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if i > 0 {
            out.push(if x.is_multiple_of(9) { '.' } else { ' ' });
            if x.is_multiple_of(9) {
                out.push(' ');
            }
        }
        out.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
    }
    out
}

const EXAMPLES: &str = "<START>\n{{user}}: Where are we headed?\n{{char}}: *taps the chart* South, past the reef. \
If the wind holds we make port by the third bell, and if it doesn't, we row.\n{{user}}: And if the reef moves?\n\
{{char}}: Reefs don't move, {{user}}. Navigators do. *grins*\n<START>\n{{user}}: You look tired.\n{{char}}: \
*rubs her eyes* Three nights of stars and no sleep. The sky is a map that rewrites itself every hour.";

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn card() -> CardData {
    CardData {
        name: "Mira".into(),
        description: text(1, 300),
        personality: "bold, wry, loyal".into(),
        scenario: "A long voyage south.".into(),
        mes_example: EXAMPLES.into(),
        first_mes: "The ship creaks. *Mira looks up from the chart.*".into(),
        ..Default::default()
    }
}

async fn character(store: &Store) -> String {
    let card = card();
    let hash = content_hash(&card);
    match store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "bench.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .expect("character")
    {
        Inserted::New { id } => id,
        Inserted::Duplicate { id, .. } => id,
    }
}

fn imported(count: usize) -> Vec<ImportedMessage> {
    (0..count)
        .map(|i| ImportedMessage {
            role: if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            },
            name: if i % 2 == 0 { "Ann" } else { "Mira" }.into(),
            swipes: vec![text(i as u64 + 10, if i % 2 == 0 { 40 } else { 120 })],
            swipe_index: 0,
            created_at: 1_700_000_000_000 + i as i64,
            speaker: None,
        })
        .collect()
}

/// (a) build_turn over a 10,000-message chat, with and without summaries.
async fn build_turn_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("store");
    let character = character(&store).await;
    let messages = imported(10_000);
    let with = store
        .import_session(&character, "with", &messages)
        .await
        .expect("import");
    let without = store
        .import_session(&character, "without", &messages)
        .await
        .expect("import");
    store
        .set_memory_settings(
            &without,
            &MemorySettings {
                summaries: false,
                ..MemorySettings::default()
            },
        )
        .await
        .expect("settings");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("confab.db"))
        .read_only(true)
        .connect()
        .await
        .expect("connection");
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM messages WHERE session_id = ? ORDER BY depth")
            .bind(&with)
            .fetch_all(&mut conn)
            .await
            .expect("ids");
    // A summary per 40 messages up to the last 60 (which the window holds).
    let t = Instant::now();
    let summarised = ids.len() - 60;
    for (n, chunk) in ids[..summarised].chunks(40).enumerate() {
        let content = text(n as u64 + 99_000, 110);
        store
            .add_summary(&NewSummary {
                session_id: &with,
                messages: chunk,
                content: &content,
                tokens: None,
                author: "bench",
            })
            .await
            .expect("summary");
    }
    println!(
        "  setup: 2 chats of 10,000 messages, {} summaries written in {:.1} s",
        summarised.div_ceil(40),
        t.elapsed().as_secs_f64()
    );
    let caches = PromptCaches::default();
    let limits = PromptLimits {
        context_window: 16_384,
        reply_reserve: 1_024,
    };
    let request = TurnRequest {
        new_message: Some("What now?".into()),
        ..TurnRequest::default()
    };
    let mut figures = Vec::new();
    for session in [&with, &without] {
        let mut runs = Vec::new();
        let mut last = None;
        for i in 0..40 {
            let t = Instant::now();
            let turn = build_turn(&store, &caches, session, &request, limits)
                .await
                .expect("turn");
            // The first runs count and remember tokens; not measured.
            if i >= 5 {
                runs.push(t.elapsed());
            }
            last = Some(turn);
        }
        let turn = last.expect("a turn");
        let summaries = turn
            .prompt
            .parts
            .iter()
            .filter(|p| {
                p.source == confab_core::prompt::PromptSource::Summary
                    && p.message_index != confab_core::prompt::NOT_PLACED
            })
            .count();
        figures.push((median(runs), summaries, turn.prompt.total_tokens));
    }
    let (with_t, with_s, with_tokens) = figures[0];
    let (without_t, _, without_tokens) = figures[1];
    println!(
        "  (a) build_turn, 10,000 messages, 16k window: with summaries median {:.2} ms ({with_s} summaries sent, {with_tokens} tokens; target < 10 ms); \
         without memory {:.2} ms ({without_tokens} tokens); ratio {:.2}x",
        ms(with_t),
        ms(without_t),
        ms(with_t) / ms(without_t)
    );
    let r = retrieval_figures(&store, &caches, &with, limits).await;
    let net = r.turn.saturating_sub(r.embed);
    println!(
        "      with summaries and retrieval ({} passages of {EMBED_DIMS} dims, index warm; {} passages placed, {} tokens): \
         build_turn median {:.2} ms, the embeddings call alone median {:.2} ms, difference {:.2} ms (target < 10 ms; \
         query embedding remembered, no call: {:.2} ms); vs summaries only {:.2}x, vs without memory {:.2}x",
        r.passages,
        r.placed,
        r.tokens,
        ms(r.turn),
        ms(r.embed),
        ms(net),
        ms(r.remembered),
        ms(net) / ms(with_t),
        ms(net) / ms(without_t)
    );
}

/// Dimensions of the bench's embeddings.
const EMBED_DIMS: usize = 768;

/// What (a) measures with retrieval on.
struct RetrievalFigures {
    /// `build_turn`'s median, its query embedded by the server.
    turn: Duration,
    /// The embeddings call's median, alone.
    embed: Duration,
    /// `build_turn`'s median when its query embedding is remembered.
    remembered: Duration,
    passages: usize,
    placed: usize,
    tokens: u32,
}

/// Turns retrieval on for `session` (summaries stay on), embeds every message,
/// warms the index, and measures `build_turn` and the embeddings call alone.
async fn retrieval_figures(
    store: &Store,
    caches: &PromptCaches,
    session: &str,
    limits: PromptLimits,
) -> RetrievalFigures {
    let server = embed_server().await;
    let mut config = ProviderConfig::new(ProviderKind::OpenAiCompatible, "Local");
    config.base_url = format!("http://{server}/v1");
    config.default_model = "chat-model".into();
    let config = store.save_provider(&config).await.expect("provider");
    let choice = ModelChoice {
        provider_id: config.id.clone(),
        model: Some("bench-embed".into()),
    };
    store
        .set_memory_settings(
            session,
            &MemorySettings {
                retrieval: true,
                embeddings: Some(choice.clone()),
                ..MemorySettings::default()
            },
        )
        .await
        .expect("settings");
    let model = choice_model_key(store, &choice).await.expect("model key");

    // Every message's passages, with the vectors the server would give,
    // written in one transaction (the store writes one message per transaction).
    let t = Instant::now();
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .connect()
        .await
        .expect("connection");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, content FROM messages WHERE session_id = ? ORDER BY depth")
            .bind(session)
            .fetch_all(&mut conn)
            .await
            .expect("messages");
    let mut passages = 0;
    let mut tx = conn.begin().await.expect("transaction");
    for (id, content) in &rows {
        for (chunk, passage) in split_passages(content).iter().enumerate() {
            sqlx::query(
                "INSERT INTO memory_passages (session_id, message_id, source, chunk, text,
                     source_rev, source_hash, model, dims, embedding, created_at)
                 VALUES (?, ?, 'message', ?, ?, (SELECT rev FROM messages WHERE id = ?), ?, ?, ?, ?, 0)",
            )
            .bind(session)
            .bind(id)
            .bind(chunk as i64)
            .bind(passage)
            .bind(id)
            .bind(text_hash(content))
            .bind(&model)
            .bind(EMBED_DIMS as i64)
            .bind(vector_bytes(&bag_of_words(passage)))
            .execute(&mut *tx)
            .await
            .expect("passage");
            passages += 1;
        }
    }
    tx.commit().await.expect("commit");
    drop(conn);
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    caches
        .retrieval
        .connect(Arc::new(Keys::in_memory(store.clone())), http.clone());
    // As `ChatEngine::warm_memory` does when a chat is opened.
    caches
        .retrieval
        .warm(store, session, &model)
        .await
        .expect("warm");
    println!(
        "  setup: {passages} passages written and the index loaded in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // The turn's query: its new message and the end of the last reply.
    let last_reply = rows.last().map(|(_, c)| c.as_str());
    let ask =
        |i: usize, what: &str| format!("What now, {what} {i}? {}", text(70_000 + i as u64, 8));
    let (mut turns, mut embeds, mut remembered) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for i in 0..40 {
        // The call alone: the same request a turn makes, through the same client.
        let query = turn_query(last_reply, Some(&ask(i, "alone"))).expect("query");
        let mut texts = vec![query.message];
        texts.extend(query.context);
        let t = Instant::now();
        let vectors = confab_core::llm::embeddings::embed(
            &http,
            &config,
            "bench-embed",
            None,
            &texts,
            QUERY_TIMEOUT,
        )
        .await
        .expect("embeddings");
        let embed = t.elapsed();
        assert_eq!(vectors.len(), texts.len());
        // A new question each turn: its query is not remembered, so the turn embeds it.
        let request = TurnRequest {
            new_message: Some(ask(i, "turn")),
            ..TurnRequest::default()
        };
        let t = Instant::now();
        let turn = build_turn(store, caches, session, &request, limits)
            .await
            .expect("turn");
        let fresh = t.elapsed();
        assert!(turn.retrieval.error.is_none(), "{:?}", turn.retrieval.error);
        // The same turn again: its query embedding is remembered (a preview, then the send).
        let t = Instant::now();
        let again = build_turn(store, caches, session, &request, limits)
            .await
            .expect("turn");
        let kept = t.elapsed();
        // The first runs count and remember tokens; not measured.
        if i >= 5 {
            embeds.push(embed);
            turns.push(fresh);
            remembered.push(kept);
        }
        last = Some(again);
    }
    let turn = last.expect("a turn");
    RetrievalFigures {
        turn: median(turns),
        embed: median(embeds),
        remembered: median(remembered),
        passages,
        placed: turn.retrieval.passages.len(),
        tokens: turn.prompt.total_tokens,
    }
}

/// The hashed bag of words of `text` (FNV-1a per word of 4+ characters): texts sharing words score high.
fn bag_of_words(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; EMBED_DIMS];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
    {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in word.to_lowercase().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        v[(h % EMBED_DIMS as u64) as usize] += 1.0;
    }
    // Never all zeros: an empty text still has a direction.
    v[0] += 0.01;
    v
}

/// An OpenAI-style `/v1/embeddings` server on 127.0.0.1 answering [`bag_of_words`] vectors; its address.
async fn embed_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(answer_embeddings(sock));
        }
    });
    addr
}

/// Answers one request (the connection closes after it).
async fn answer_embeddings(mut sock: tokio::net::TcpStream) {
    let Some(request) = http::read(&mut sock).await else {
        return;
    };
    let body = request.json();
    let data: Vec<serde_json::Value> = body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .enumerate()
        .map(|(i, t)| serde_json::json!({"object": "embedding", "index": i, "embedding": bag_of_words(t)}))
        .collect();
    let text =
        serde_json::json!({"object": "list", "data": data, "model": body["model"]}).to_string();
    let out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = sock.write_all(out.as_bytes()).await;
}

fn wi(uid: u32, position: EntryPosition, depth: u32, content: String) -> Activation {
    Activation {
        book: "world".into(),
        uid,
        comment: format!("entry {uid}"),
        position,
        depth,
        role: EntryRole::System,
        order: 100,
        tokens: 0,
        reason: ActivationReason::Constant,
        group_won: None,
        content,
        outlet: String::new(),
        moved_from: None,
    }
}

/// The scenario's prompt input for a history and summaries.
fn scenario(
    history: &[HistoryMessage],
    summaries: &[SummaryInput],
    message: String,
) -> PromptInput {
    PromptInput {
        primary_context: DEFAULT_PRIMARY_CONTEXT.into(),
        character: card(),
        user_name: "Ann".into(),
        persona_description: "{{user}} is a cartographer who joined the voyage.".into(),
        preferences: None,
        world_info: vec![
            wi(1, EntryPosition::BeforeCharacter, 0, text(501, 90)),
            wi(2, EntryPosition::BeforeCharacter, 0, text(502, 70)),
            wi(3, EntryPosition::AfterCharacter, 0, text(503, 60)),
            wi(4, EntryPosition::AtDepth, 2, text(504, 30)),
            wi(5, EntryPosition::AtDepth, 4, text(505, 25)),
        ],
        example_dialogue: ExampleDialogue::Gradual,
        character_note: None,
        authors_note: Some(AuthorsNote {
            text: "[Style: vivid, short paragraphs; keep the sea in every scene.]".into(),
            depth: 4,
            ..AuthorsNote::default()
        }),
        user_turns: u32::try_from(history.len() / 2 + 1).unwrap_or(0),
        history: history.to_vec(),
        global_post_history: String::new(),
        new_message: Some(message),
        new_message_images: 0,
        ending: PromptEnding::Reply,
        context_window: 16_384,
        reply_reserve: 1_024,
        now: "2026-01-01T12:00:00Z".into(),
        seed: 1,
        group: None,
        memory: confab_core::prompt::PromptMemory {
            summaries: summaries.to_vec(),
            ..Default::default()
        },
    }
}

fn serialized(p: &AssembledPrompt) -> String {
    p.messages
        .iter()
        .map(|m| format!("{}\n{}\u{1}", m.role.as_str(), m.content))
        .collect()
}

/// The tokens of the longest common prefix of `a` and `b`.
fn common_prefix_tokens(a: &str, b: &str, counter: &dyn TokenCounter) -> u32 {
    let mut end = 0;
    for ((i, x), y) in a.char_indices().zip(b.chars()) {
        if x != y {
            break;
        }
        end = i + x.len_utf8();
    }
    counter.count(&a[..end])
}

/// What a simulated session gives: the average unchanged-prefix share, turns that summarised, prompts' tokens.
struct Sim {
    share: f64,
    /// The same, from the second turn after the first summary (a long chat's first summarising left out).
    steady: f64,
    summaries_written: usize,
    mean_tokens: f64,
}

/// Simulates `turns` turns; `hook` may change each turn's input (turn number, input) before assembly.
fn simulate(summaries_on: bool, turns: usize, hook: &dyn Fn(usize, &mut PromptInput)) -> Sim {
    let counter = shared_counter();
    let mut path: Vec<HistoryMessage> = Vec::new();
    let push = |path: &mut Vec<HistoryMessage>, role: Role, words: usize, seed: u64| {
        path.push(HistoryMessage {
            role,
            name: if role == Role::User { "Ann" } else { "Mira" }.into(),
            content: text(seed, words),
            tokens: None,
        });
    };
    for i in 0..START_MESSAGES {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        push(&mut path, role, if i % 2 == 0 { 40 } else { 160 }, i);
    }
    // Summaries as (text, first index, last index) into `path`; the history starts after the last.
    let mut summaries: Vec<(String, usize, usize)> = Vec::new();
    let mut previous: Option<String> = None;
    let (mut shares, mut tokens) = (Vec::new(), Vec::new());
    let mut written = 0;
    for turn in 0..turns {
        let message = text(10_000 + turn as u64, 40);
        let start = summaries.last().map_or(0, |s| s.2 + 1);
        let inputs: Vec<SummaryInput> = summaries
            .iter()
            .enumerate()
            .map(|(n, (t, a, b))| SummaryInput {
                id: n.to_string(),
                text: t.clone(),
                covers: (b - a + 1) as u32,
                first_position: *a as u32 + 1,
                last_position: *b as u32 + 1,
                pinned: false,
            })
            .collect();
        let mut input = scenario(&path[start..], &inputs, message.clone());
        hook(turn, &mut input);
        let prompt = assemble(&input, counter).expect("prompt");
        let now = serialized(&prompt);
        if let Some(before) = &previous {
            shares.push(
                f64::from(common_prefix_tokens(&now, before, counter))
                    / f64::from(counter.count(&now)),
            );
        }
        tokens.push(f64::from(prompt.total_tokens));
        if std::env::var_os("MEMORY_BENCH_DEBUG").is_some() {
            println!("turn {turn}: {} messages, dropped history {}, dropped examples {}, summaries {}, start {start}",
                prompt.messages.len(), prompt.dropped_history, prompt.dropped_examples, inputs.len());
        }
        previous = Some(now);
        // The reply, then (summaries on) the job, as chat/summarize.rs does it:
        // when history left the window or the next turn would push something
        // out, what left it and on until the kept history holds about half.
        push(&mut path, Role::User, 40, 20_000 + turn as u64);
        path.last_mut().expect("message").content = message;
        push(&mut path, Role::Assistant, 160, 30_000 + turn as u64);
        if summaries_on
            && (prompt.dropped_history > 0
                || summary_due_ahead(&prompt, input.context_window - input.reply_reserve))
        {
            let dropped = prompt.dropped_history as usize;
            let counts: Vec<u32> = path[start..]
                .iter()
                .map(|m| counter.count(&m.content))
                .collect();
            let kept: u32 = counts[dropped..].iter().sum();
            let (mut at, mut left) = (dropped, kept);
            while at < counts.len() - 4 && left > kept / 2 {
                left -= counts[at];
                at += 1;
            }
            if at > 0 {
                summaries.push((text(40_000 + turn as u64, 110), start, start + at - 1));
                written += 1;
            }
        }
    }
    if std::env::var_os("MEMORY_BENCH_TURNS").is_some() {
        let list: Vec<String> = shares.iter().map(|s| format!("{:.0}", s * 100.0)).collect();
        println!("      per turn (%): {}", list.join(" "));
    }
    let steady = shares.get(1..).unwrap_or_default();
    Sim {
        steady: steady.iter().sum::<f64>() / steady.len().max(1) as f64,
        share: shares.iter().sum::<f64>() / shares.len() as f64,
        summaries_written: written,
        mean_tokens: tokens.iter().sum::<f64>() / tokens.len() as f64,
    }
}

/// The chat's length when the simulated session starts: the 10,000-message chat, never summarised before the run.
const START_MESSAGES: u64 = 10_000;

fn prefix_figures() {
    let none = |_: usize, _: &mut PromptInput| {};
    // Two turns more than measured: the run's first turn makes the chat's first
    // summary, so 50 turn-to-turn comparisons follow it (`steady`).
    let on = simulate(true, 52, &none);
    let off = simulate(false, 52, &none);
    println!(
        "  (b) 50 turns (16k window, 1k reply; card with examples, Author's Note at depth 4, \
         3 constant world-info entries and 2 @depth ones (depths 2 and 4, ST's default); {START_MESSAGES} messages to start \
         (past the window), user ~40 and reply ~160 words):"
    );
    println!(
        "      unchanged prefix per turn, 50 turns after Confab summarised the chat: with summaries {:.1}% (target >= 90%; \
         {:.1}% when the run's first turn, summarising a chat never summarised before, is counted too; {} summaries written, \
         mean prompt {:.0} tokens); today's assembly {:.1}% (mean prompt {:.0} tokens); ratio {:.1}x",
        on.steady * 100.0,
        on.share * 100.0,
        on.summaries_written,
        on.mean_tokens,
        off.steady * 100.0,
        off.mean_tokens,
        on.steady / off.steady
    );
    // The hook: keyword entries that change every turn, placed before the character (as today).
    let keywords = |turn: usize, input: &mut PromptInput| {
        let mut entry = wi(
            100,
            EntryPosition::BeforeCharacter,
            0,
            text(60_000 + (turn / 3) as u64, 50),
        );
        entry.reason = ActivationReason::Constant;
        input.world_info.insert(0, entry);
    };
    let kw = simulate(true, 52, &keywords);
    // The same entry with Settings → "Move keyword world info out of the system prompt" on.
    let moved = |turn: usize, input: &mut PromptInput| {
        keywords(turn, input);
        if let Some(entry) = input.world_info.first_mut() {
            entry.reason = ActivationReason::Key {
                key: "storm".into(),
                secondary: None,
                matched_in: MatchedIn::Message { index: 0 },
            };
        }
        relocate_keyword_world_info(&mut input.world_info, MOVED_WORLD_INFO_DEPTH);
    };
    let kw_moved = simulate(true, 52, &moved);
    println!(
        "      with a keyword entry that changes every 3 turns: placed before the character (as SillyTavern does) {:.1}%; \
         moved into the chat at depth {MOVED_WORLD_INFO_DEPTH} by the cache setting {:.1}%",
        kw.steady * 100.0,
        kw_moved.steady * 100.0
    );
}

fn main() {
    println!("memory prompt benchmark");
    confab_core::tokens::default_counter().count("warm up");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(build_turn_figures());
    prefix_figures();
}
