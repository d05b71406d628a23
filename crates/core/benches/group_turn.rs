//! A group chat's next turn: choosing who speaks and assembling that member's
//! prompt, in a 10,000-message chat of three members, each with a world book
//! of 300 entries (target: under 10 ms). The baseline, measured in the same
//! run, is the same prompt for a 1:1 chat of the same length with one book.
//!
//! `cargo bench --locked -p confab-core --bench group_turn`

use std::time::{Duration, Instant};

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::lore::{Book, BookSettings, Entry};
use confab_core::session::group::speaker_for;
use confab_core::session::service::PromptLimits;
use confab_core::session::turn::{build_turn, PromptCaches, TurnRequest};
use confab_core::session::Role;
use confab_core::store::{
    BookOrigin, ImportedGroup, ImportedMessage, Inserted, NewCharacter, Store,
};

const MESSAGES: usize = 10_000;
const ENTRIES: u32 = 300;
const RUNS: usize = 60;

fn sentence(seed: usize) -> String {
    const W: &[&str] = &[
        "the", "bridge", "toll", "inn", "lantern", "map", "river", "said", "looked", "night",
        "quiet", "storm", "she", "he", "and", "under", "over", "harbor", "road", "keys",
    ];
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..40)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            W[(x % W.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn member(store: &Store, name: &str) -> String {
    let card = CardData {
        name: name.into(),
        description: format!("{name} keeps the inn's secrets. ").repeat(10),
        personality: "wry".into(),
        first_mes: format!("{name} nods."),
        ..Default::default()
    };
    let hash = content_hash(&card);
    let Ok(Inserted::New { id }) = store
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
    else {
        panic!("the bench's character could not be stored");
    };
    let entries = (0..ENTRIES)
        .map(|i| {
            let mut e = Entry::new(i);
            e.keys = vec![format!("{}{i}", name.to_lowercase())];
            e.content = sentence(i as usize);
            e
        })
        .collect();
    let book = Book {
        name: format!("{name}'s lore"),
        description: String::new(),
        settings: BookSettings::default(),
        entries,
        extensions: serde_json::Map::new(),
    };
    let book = store
        .insert_world_book(&book, BookOrigin::default())
        .await
        .expect("a book");
    store.attach_world_book(&book, &id).await.expect("attached");
    id
}

fn history(members: &[String], names: &[&str]) -> Vec<ImportedMessage> {
    (0..MESSAGES)
        .map(|i| {
            let user = i % 2 == 1;
            let who = (i / 2) % members.len();
            ImportedMessage {
                role: if user { Role::User } else { Role::Assistant },
                name: if user {
                    "Traveller".into()
                } else {
                    names[who].into()
                },
                swipes: vec![sentence(i)],
                swipe_index: 0,
                created_at: 1_700_000_000_000 + i as i64,
                speaker: (!user).then(|| members[who].clone()),
            }
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(dir.path()).await.expect("a store");
    let names = ["Ann", "Bo", "Cy"];
    let mut members = Vec::new();
    for n in names {
        members.push(member(&store, n).await);
    }
    let group = ImportedGroup {
        members: members.clone(),
        ..Default::default()
    };
    let messages = history(&members, &names);
    let grouped = store
        .import_group_session(&group, "group", &messages, None)
        .await
        .expect("the group chat");
    let solo = store
        .import_session(&members[0], "solo", &messages)
        .await
        .expect("the 1:1 chat");
    let caches = PromptCaches::default();
    let limits = PromptLimits {
        context_window: 32_768,
        reply_reserve: 512,
    };
    let text = "Bo, what does the map say?";
    let turn = |speaker: Option<String>| TurnRequest {
        new_message: Some(text.into()),
        speaker,
        ..Default::default()
    };
    // Warm up: books compiled, token counts saved, histories kept.
    for _ in 0..3 {
        let _ = build_turn(&store, &caches, &solo, &turn(None), limits).await;
        let speaker = speaker_for(&store, &grouped, None, Some(text))
            .await
            .ok()
            .flatten()
            .map(|m| m.character_id);
        let _ = build_turn(&store, &caches, &grouped, &turn(speaker), limits).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (mut base, mut choose, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let _ = build_turn(&store, &caches, &solo, &turn(None), limits).await;
        base.push(t.elapsed());

        let t = Instant::now();
        let speaker = speaker_for(&store, &grouped, None, Some(text))
            .await
            .ok()
            .flatten()
            .map(|m| m.character_id);
        choose.push(t.elapsed());
        if let Ok(built) = build_turn(&store, &caches, &grouped, &turn(speaker), limits).await {
            parts = built.prompt.parts.len();
        }
        whole.push(t.elapsed());
    }
    let (b, c, w) = (median(base), median(choose), median(whole));
    println!(
        "group turn, {MESSAGES}-message chat, 3 members with {ENTRIES}-entry books each, 32k window, median of {RUNS}:"
    );
    println!(
        "  1:1 chat, prompt assembly (baseline):      {:>7.2} ms",
        ms(b)
    );
    println!(
        "  group: choosing the next speaker:          {:>7.2} ms",
        ms(c)
    );
    println!(
        "  group: choosing + assembling its prompt:   {:>7.2} ms (target < 10 ms; {parts} prompt parts)",
        ms(w)
    );
    println!(
        "  group / 1:1: {:.2}x",
        w.as_secs_f64() / b.as_secs_f64().max(1e-9)
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}
