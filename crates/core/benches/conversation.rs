//! Conversations at scale: the newest page of a 100,000-message session, and
//! full-text search over 1,000,000 messages.
//!
//! `cargo bench -p confab-core --bench conversation` prints medians, and in the
//! same run naive baselines (walk the whole active path; LIKE over every message)
//! with the ratios.

use std::time::{Duration, Instant};

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::session::Role;
use confab_core::store::{ImportedMessage, Inserted, NewCharacter, Store};
use sqlx::{ConnectOptions, Connection};

const WORDS: &[&str] = &[
    "forest", "glade", "river", "sword", "lantern", "tavern", "storm", "whisper", "dragon",
    "castle", "ember", "mirror", "harbor", "meadow", "shadow", "crystal", "garden", "valley",
    "thunder", "candle", "journey", "secret", "silver", "winter", "autumn", "morning",
];

/// Deterministic filler text (~300 characters) with a varied vocabulary.
fn sentence(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::with_capacity(320);
    while out.len() < 300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let word = WORDS[(x % WORDS.len() as u64) as usize];
        out.push_str(word);
        out.push(if x.is_multiple_of(11) { '.' } else { ' ' });
    }
    // One word in a thousand messages is rare, for a selective search.
    if seed % 1000 == 7 {
        out.push_str(" quicksilver");
    }
    out
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn character(store: &Store) -> String {
    let card = CardData {
        name: "Bench".into(),
        ..Default::default()
    };
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

fn messages(count: usize, offset: u64) -> Vec<ImportedMessage> {
    (0..count)
        .map(|i| ImportedMessage {
            role: if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            },
            name: if i % 2 == 0 {
                "User".into()
            } else {
                "Bench".into()
            },
            swipes: vec![sentence(offset + i as u64)],
            swipe_index: 0,
            created_at: 1_700_000_000_000 + i as i64,
            speaker: None,
        })
        .collect()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).await.expect("store");
        let character = character(&store).await;
        println!("conversation benchmark");

        // One session of 100,000 messages.
        let start = Instant::now();
        let long = store
            .import_session(&character, "long", &messages(100_000, 0))
            .await
            .expect("import");
        println!("  write a 100,000-message session: {:.1} s", start.elapsed().as_secs_f64());
        let mut page_runs = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            let page = store.messages_page(&long, None, 50).await.expect("page");
            page_runs.push(t.elapsed());
            assert_eq!(page.messages.len(), 50);
        }
        let page = median(page_runs);
        // Baseline: walk the whole active path, then keep the newest 50.
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("confab.db"))
            .read_only(true)
            .connect()
            .await
            .expect("connection");
        let leaf: String = sqlx::query_scalar("SELECT leaf_id FROM chat_sessions WHERE id = ?")
            .bind(&long)
            .fetch_one(&mut conn)
            .await
            .expect("leaf");
        let mut naive_runs = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let rows: Vec<(String, String)> = sqlx::query_as(
                "WITH RECURSIVE path (id, n) AS (
                     SELECT ?1, 0 UNION ALL
                     SELECT m.parent_id, n + 1 FROM messages m JOIN path ON m.id = path.id
                     WHERE m.parent_id IS NOT NULL)
                 SELECT m.id, m.content FROM path JOIN messages m ON m.id = path.id ORDER BY n DESC",
            )
            .bind(&leaf)
            .fetch_all(&mut conn)
            .await
            .expect("naive");
            let _newest: Vec<_> = rows.into_iter().rev().take(50).collect();
            naive_runs.push(t.elapsed());
        }
        let naive = median(naive_runs);
        println!(
            "  newest page of 50 of 100,000: median {:.2} ms (target < 10 ms); whole-path baseline {:.1} ms; ratio {:.0}x",
            ms(page),
            ms(naive),
            ms(naive) / ms(page)
        );

        // 900,000 more messages in 90 sessions: 1,000,000 in all.
        let start = Instant::now();
        for s in 0..90u64 {
            store
                .import_session(&character, "filler", &messages(10_000, 1_000_000 + s * 10_000))
                .await
                .expect("filler");
        }
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(&mut conn)
            .await
            .expect("count");
        println!("  write {total} messages in all (with the FTS index): {:.1} s", start.elapsed().as_secs_f64());

        for (query, like) in [("quicksilver", "%quicksilver%"), ("dragon lantern", "%dragon%lantern%")] {
            let mut runs = Vec::new();
            let mut hits = 0;
            for _ in 0..20 {
                let t = Instant::now();
                hits = store.search_messages(query, None, 50).await.expect("search").len();
                runs.push(t.elapsed());
            }
            let fts = median(runs);
            let t = Instant::now();
            let naive: Vec<String> =
                sqlx::query_scalar(
                    "SELECT id FROM messages WHERE content LIKE ? ORDER BY rowid DESC LIMIT 50",
                )
                    .bind(like)
                    .fetch_all(&mut conn)
                    .await
                    .expect("like");
            let scan = t.elapsed();
            println!(
                "  search {query:?} over {total} messages: median {:.2} ms, {hits} hits shown (target < 50 ms); LIKE baseline {:.1} ms ({} rows); ratio {:.0}x",
                ms(fts),
                ms(scan),
                naive.len(),
                ms(scan) / ms(fts)
            );
        }
        let _ = conn.close().await;
        store.close().await;
    });
}
