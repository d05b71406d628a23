//! Retrieval benchmark: one chat of 20,000 messages on its active path, each
//! split into 5 passages: 100,000 stored passages of 768 dimensions (~300 MB
//! of vectors), plus 2,000 swipes off the path that must never be returned.
//!
//! Measured in the same run:
//! - retrieval as a turn runs it, without the embeddings call
//!   (`RetrievalCache::search`: the clock check, the path check, the i8
//!   simsimd scan off the async workers, the exact rescoring of the best
//!   from SQLite), the index warm (median of runs; target < 20 ms);
//! - the same after a reply (2 messages and 10 passages added, the path's
//!   end moved): the index catches up on what changed;
//! - the baseline: a plain-Rust linear scan, f32 dot products over the same
//!   vectors held in memory (already normalised), top 3 by a full sort;
//! - the naive way: reading every BLOB from SQLite and scanning it, per query;
//! - the index's first load (once per chat and model per run of the app).
//!
//! Run: `cargo bench -p confab-core --bench memory_retrieval`

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::memory::retrieval::{model_key, normalise, RetrievalCache};
use confab_core::store::{vector_bytes, vector_from_bytes, Inserted, NewCharacter, Store};
use sqlx::{ConnectOptions, Connection};

const MESSAGES: usize = 20_000;
const PER_MESSAGE: usize = 5;
const SWIPES: usize = 2_000;
const DIMS: usize = 768;
const TOPICS: usize = 200;
const RUNS: usize = 30;
const COUNT: usize = 3;
const MIN_SCORE: f32 = 0.3;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

/// A vector near one of `TOPICS` topic directions, as embeddings of related texts are.
fn vector(rng: &mut Rng, topics: &[Vec<f32>]) -> Vec<f32> {
    let topic = &topics[(rng.next() % TOPICS as u64) as usize];
    topic.iter().map(|t| t + 0.03 * rng.unit()).collect()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let card = CardData {
        name: "Bench".into(),
        ..Default::default()
    };
    let hash = content_hash(&card);
    let Inserted::New { id: character } = store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "b.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .unwrap()
    else {
        panic!("a new character")
    };
    let session = store
        .create_session(&character, None, "User")
        .await
        .unwrap();
    let model = model_key("bench-provider", "bench-embed");

    let mut rng = Rng(7);
    let topics: Vec<Vec<f32>> = (0..TOPICS)
        .map(|_| normalise(&(0..DIMS).map(|_| rng.unit()).collect::<Vec<f32>>()))
        .collect();

    // Messages and passages written straight into the file (the store's API
    // writes one message per transaction: minutes for this many).
    let started = Instant::now();
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .connect()
        .await
        .unwrap();
    let mut plain: Vec<f32> = Vec::with_capacity(MESSAGES * PER_MESSAGE * DIMS);
    let mut tx = conn.begin().await.unwrap();
    let mut parent: Option<String> = None;
    for m in 0..MESSAGES {
        let id = format!("m{m:06}");
        sqlx::query(
            "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, depth)
             VALUES (?, ?, ?, ?, ?, 0, ?)",
        )
        .bind(&id)
        .bind(&session)
        .bind(&parent)
        .bind(if m % 2 == 0 { "user" } else { "assistant" })
        .bind(format!("message {m}"))
        .bind(m as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
        if m % (MESSAGES / SWIPES) == 1 {
            // A swipe beside it, off the active path.
            let swipe = format!("s{m:06}");
            sqlx::query(
                "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, depth)
                 VALUES (?, ?, ?, 'assistant', 'a swipe', 0, ?)",
            )
            .bind(&swipe)
            .bind(&session)
            .bind(&parent)
            .bind(m as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
            let v = vector(&mut rng, &topics);
            insert_passage(&mut tx, &session, &swipe, 0, &model, &v).await;
        }
        for chunk in 0..PER_MESSAGE {
            let v = vector(&mut rng, &topics);
            insert_passage(&mut tx, &session, &id, chunk, &model, &v).await;
            plain.extend(normalise(&v));
        }
        parent = Some(id);
    }
    sqlx::query("UPDATE chat_sessions SET leaf_id = ? WHERE id = ?")
        .bind(&parent)
        .bind(&session)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let passages = MESSAGES * PER_MESSAGE;
    println!(
        "setup: {MESSAGES} messages, {passages} passages of {DIMS} dims (+{SWIPES} swipes' passages off the path) written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let cache = RetrievalCache::default();
    let leaf = parent.clone();
    let none: HashMap<String, u32> = HashMap::new();
    let queries: Vec<Vec<f32>> = (0..RUNS).map(|_| vector(&mut rng, &topics)).collect();

    // The first load: once per chat and model while the app runs.
    let t = Instant::now();
    let first = cache
        .search(
            &store,
            &session,
            &model,
            &queries[0],
            leaf.as_deref(),
            &none,
            COUNT,
            MIN_SCORE,
        )
        .await
        .unwrap();
    let load = t.elapsed();
    assert!(!first.is_empty());
    assert!(first
        .iter()
        .all(|p| p.message_id.as_deref().is_some_and(|m| m.starts_with('m'))));

    // Warm: a turn's retrieval without the embeddings call.
    let mut warm = Vec::new();
    for q in &queries {
        let t = Instant::now();
        let found = cache
            .search(
                &store,
                &session,
                &model,
                q,
                leaf.as_deref(),
                &none,
                COUNT,
                MIN_SCORE,
            )
            .await
            .unwrap();
        warm.push(t.elapsed());
        assert_eq!(found.len(), COUNT);
        black_box(found);
    }
    let warm = median(warm);

    // After a reply: 2 messages and 10 passages added, the path's end moved.
    let mut after = Vec::new();
    let mut end = parent.clone().unwrap_or_default();
    for (r, query) in queries.iter().enumerate().take(10) {
        let mut tx = conn.begin().await.unwrap();
        for k in 0..2 {
            let id = format!("n{r:03}{k}");
            sqlx::query(
                "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, depth)
                 VALUES (?, ?, ?, 'user', 'new', 0, ?)",
            )
            .bind(&id)
            .bind(&session)
            .bind(&end)
            .bind((MESSAGES + r * 2 + k) as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
            for chunk in 0..PER_MESSAGE {
                let v = vector(&mut rng, &topics);
                insert_passage(&mut tx, &session, &id, chunk, &model, &v).await;
            }
            end = id;
        }
        tx.commit().await.unwrap();
        let t = Instant::now();
        let found = cache
            .search(
                &store,
                &session,
                &model,
                query,
                Some(&end),
                &none,
                COUNT,
                MIN_SCORE,
            )
            .await
            .unwrap();
        after.push(t.elapsed());
        black_box(found);
    }
    let after = median(after);

    // Baseline: plain-Rust f32 linear scan over the vectors in memory.
    let mut scans = Vec::new();
    for q in &queries {
        let q = normalise(q);
        let t = Instant::now();
        let mut scored: Vec<(f32, usize)> = plain
            .chunks_exact(DIMS)
            .enumerate()
            .map(|(i, v)| (v.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>(), i))
            .collect();
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        scored.truncate(COUNT);
        scans.push(t.elapsed());
        black_box(scored);
    }
    let scan = median(scans);

    // Naive: every BLOB read from SQLite and scanned, per query (3 runs).
    let mut naive = Vec::new();
    for q in queries.iter().take(3) {
        let q = normalise(q);
        let t = Instant::now();
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, embedding FROM memory_passages WHERE session_id = ? AND model = ?",
        )
        .bind(&session)
        .bind(&model)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut best: Vec<(f32, i64)> = rows
            .iter()
            .map(|(id, b)| {
                let v = vector_from_bytes(b);
                let n = v
                    .iter()
                    .map(|x| x * x)
                    .sum::<f32>()
                    .sqrt()
                    .max(f32::MIN_POSITIVE);
                (v.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>() / n, *id)
            })
            .collect();
        best.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        best.truncate(COUNT);
        naive.push(t.elapsed());
        black_box(best);
    }
    let naive = median(naive);

    println!(
        "retrieval over {passages} passages, {DIMS} dims, top {COUNT}, median of {RUNS} runs:"
    );
    println!(
        "  turn's retrieval (warm index, no embeddings call): {:>8.2} ms  (target < 20 ms)",
        ms(warm)
    );
    println!(
        "  after a reply (10 new passages, path end moved):   {:>8.2} ms",
        ms(after)
    );
    println!(
        "  baseline, plain-Rust f32 scan in memory:           {:>8.2} ms  ({:.1}x the turn's retrieval)",
        ms(scan),
        ms(scan) / ms(warm)
    );
    println!(
        "  naive, every BLOB read from SQLite per query:      {:>8.2} ms  ({:.0}x)",
        ms(naive),
        ms(naive) / ms(warm)
    );
    println!(
        "  index's first load (once per chat and model):      {:>8.2} ms",
        ms(load)
    );
    println!(
        "  index memory: {:.0} MB of i8 codes (f32 would be {:.0} MB)",
        (passages * DIMS) as f64 / 1e6,
        (passages * DIMS * 4) as f64 / 1e6
    );
}

async fn insert_passage(
    tx: &mut sqlx::SqliteConnection,
    session: &str,
    message: &str,
    chunk: usize,
    model: &str,
    v: &[f32],
) {
    sqlx::query(
        "INSERT INTO memory_passages (session_id, message_id, source, chunk, text, model, dims, embedding, created_at)
         VALUES (?, ?, 'message', ?, 'passage text', ?, ?, ?, 0)",
    )
    .bind(session)
    .bind(message)
    .bind(chunk as i64)
    .bind(model)
    .bind(DIMS as i64)
    .bind(vector_bytes(v))
    .execute(tx)
    .await
    .unwrap();
}
