//! Proof that an import is transactional: `confab import` of a 1,000-card
//! folder is killed with SIGKILL at random points, again and again, and after
//! every kill the library is sound: SQLite's integrity check passes, every
//! card the CLI reported is there, and no character is visible without the
//! world book, chat dictionary, avatar and tags its card carries.
//!
//! The seed is printed; `CONFAB_KILL_SEED=<seed>` replays a failing run.
#![cfg(unix)]

mod durable_support;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use durable_support::db::Db;
use durable_support::{command, confab_ok, json_lines, write_cards, Rng, SERAPHINA_BOOK_ENTRIES};

const CARDS: usize = 1000;
const TRIALS: usize = 24;

/// What the CLI said about one card, by its character's id.
#[derive(Debug, Clone)]
struct Reported {
    name: String,
    world_book_id: Option<String>,
}

#[test]
fn killing_an_import_at_random_points_never_leaves_half_a_card() {
    let (mut rng, seed) = Rng::from_env("kill_import");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let todo = tmp.path().join("cards");
    let done = tmp.path().join("done");
    std::fs::create_dir_all(&done).unwrap();
    let tags = write_cards(&todo, CARDS) as i64;

    // Every card the CLI ever reported as imported (or already there), by id.
    let mut reported: BTreeMap<String, Reported> = BTreeMap::new();
    let mut kills = Vec::new();
    for trial in 0..TRIALS {
        let context = format!("seed {seed}, trial {trial}");
        let left = std::fs::read_dir(&todo).unwrap().count() as u64;
        // Where to kill: during start-up (opening, migrating, reading the
        // folder) one time in eight and always on the fresh library; otherwise
        // a random moment after the n-th card was reported, so the kills land
        // all over the 1,000 cards.
        let startup = trial == 0 || rng.below(8) == 0;
        let after_cards = if startup {
            0
        } else {
            // Spread what is left over the trials left, and never past the
            // last card: every kill lands inside the import.
            (1 + rng.below((2 * left / (TRIALS - trial) as u64).max(1))).min(left.saturating_sub(1))
        };
        let delay = if startup {
            Duration::from_micros(rng.below(300_000))
        } else {
            Duration::from_micros(rng.below(12_000))
        };
        let lines = import_and_kill(&data, &todo, after_cards, delay);
        kills.push((after_cards, delay.as_micros(), lines.len()));

        for line in &lines {
            let status = line["status"].as_str().unwrap_or_default();
            let file = line["file"].as_str().unwrap_or_default();
            assert!(
                status == "imported" || status == "alreadyInLibrary",
                "{context}: {line}"
            );
            let id = line["characterId"].as_str().unwrap().to_owned();
            let name = line["name"].as_str().unwrap().to_owned();
            if status == "imported" {
                let earlier = reported.insert(
                    id.clone(),
                    Reported {
                        name,
                        world_book_id: line["worldBookId"].as_str().map(str::to_owned),
                    },
                );
                assert!(earlier.is_none(), "{context}: imported twice: {line}");
            } else {
                // Stored by a run killed before it could say so, or said before.
                reported.entry(id).or_insert(Reported {
                    name,
                    world_book_id: None,
                });
            }
            // Reported cards leave the folder: the next run imports the rest.
            let path = Path::new(file);
            std::fs::rename(path, done.join(path.file_name().unwrap())).unwrap();
        }
        check_library(&data, &reported, tags, &context);
    }

    // An import run to its end brings in the rest: 1,000 cards, each once.
    let out = confab_ok(&data, &["import", todo.to_str().unwrap(), "--json"]);
    for line in json_lines(out.as_bytes()) {
        assert_ne!(line["status"], "failed", "seed {seed}: {line}");
        reported
            .entry(line["characterId"].as_str().unwrap().to_owned())
            .or_insert(Reported {
                name: line["name"].as_str().unwrap().to_owned(),
                world_book_id: line["worldBookId"].as_str().map(str::to_owned),
            });
    }
    check_library(&data, &reported, tags, &format!("seed {seed}, at the end"));
    let mut db = Db::open(&data).unwrap();
    assert_eq!(
        db.int("SELECT count(*) FROM characters"),
        CARDS as i64,
        "seed {seed}"
    );
    assert_eq!(
        db.int("SELECT count(DISTINCT name) FROM characters WHERE name GLOB 'Seraphina [0-9][0-9][0-9][0-9]'"),
        CARDS as i64,
        "seed {seed}: every card once"
    );
    println!(
        "kill_import: {TRIALS} kills (cards reported before the kill / delay µs / lines): {kills:?}"
    );
}

/// Starts `confab import todo --json`, kills it with SIGKILL `delay` after the
/// `after_cards`-th reported card (or after the start when 0), and returns the
/// whole lines it printed.
fn import_and_kill(
    data: &Path,
    todo: &Path,
    after_cards: u64,
    delay: Duration,
) -> Vec<serde_json::Value> {
    let mut child = command(data, &["import", todo.to_str().unwrap(), "--json"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            lines.push(line);
            let _ = tx.send(());
        }
        lines
    });
    let mut seen = 0;
    while seen < after_cards {
        // The import may end first (few cards left): then there is nothing to kill.
        if rx.recv().is_err() {
            break;
        }
        seen += 1;
    }
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
    // Only whole lines: a line the kill cut is not a report.
    reader
        .join()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

/// The library after a kill: sound, holding every reported card, and no
/// character without everything its card brought.
fn check_library(data: &Path, reported: &BTreeMap<String, Reported>, tags: i64, context: &str) {
    let Some(mut db) = Db::open(data) else {
        assert!(
            reported.is_empty(),
            "{context}: no database, yet cards were reported"
        );
        return;
    };
    db.assert_sound(context);
    let migrated = db.int("SELECT count(*) FROM sqlite_schema WHERE name = '_sqlx_migrations'") > 0
        && db.int("SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success = 1")
            == confab_core::store::latest_schema_version();
    if !migrated {
        // Killed while the schema was being made (each migration commits on
        // its own; the next open finishes them): nothing may be reported yet.
        assert!(
            reported.is_empty(),
            "{context}: schema unfinished, yet cards were reported"
        );
        return;
    }

    let ids: std::collections::BTreeSet<String> =
        db.texts("SELECT id FROM characters").into_iter().collect();
    for (id, card) in reported {
        assert!(
            ids.contains(id),
            "{context}: {} was reported, is gone",
            card.name
        );
        let name = db.texts(&format!("SELECT name FROM characters WHERE id = '{id}'"));
        assert_eq!(name, std::slice::from_ref(&card.name), "{context}");
        if let Some(book) = &card.world_book_id {
            let linked = db.int(&format!(
                "SELECT count(*) FROM character_world_books WHERE character_id = '{id}' AND book_id = '{book}'"
            ));
            assert_eq!(linked, 1, "{context}: {}'s reported book", card.name);
        }
    }

    // Everything a card brings is there with its character, or none of it is.
    let broken = |db: &mut Db, what: &str, sql: &str| {
        let names = db.texts(sql);
        assert!(names.is_empty(), "{context}: {what}: {names:?}");
    };
    broken(
        &mut db,
        "characters without their avatar",
        "SELECT name FROM characters c WHERE NOT EXISTS
           (SELECT 1 FROM character_avatars a WHERE a.character_id = c.id AND length(a.bytes) > 0)",
    );
    broken(
        &mut db,
        "characters without exactly one book of their own",
        "SELECT name FROM characters c WHERE
           (SELECT count(*) FROM character_world_books l JOIN world_books b ON b.id = l.book_id
             WHERE l.character_id = c.id AND b.source_character_id = c.id) != 1",
    );
    broken(
        &mut db,
        "characters without their pending chat dictionary",
        "SELECT name FROM characters c WHERE NOT EXISTS
           (SELECT 1 FROM card_dictionaries_pending d WHERE d.character_id = c.id
              AND json_array_length(d.rules_json) = 1)",
    );
    broken(
        &mut db,
        "characters without all their tags",
        &format!(
            "SELECT name FROM characters c WHERE
               (SELECT count(*) FROM character_tags t WHERE t.character_id = c.id) != {tags}"
        ),
    );
    broken(
        &mut db,
        "world books without all their entries",
        &format!(
            "SELECT name FROM world_books b WHERE
               (SELECT count(*) FROM world_book_entries e WHERE e.book_id = b.id) != {SERAPHINA_BOOK_ENTRIES}"
        ),
    );
    broken(
        &mut db,
        "world books without their character",
        "SELECT name FROM world_books b WHERE source_character_id IS NULL OR NOT EXISTS
           (SELECT 1 FROM character_world_books l WHERE l.book_id = b.id)",
    );
    broken(
        &mut db,
        "cards stored twice",
        "SELECT name FROM characters GROUP BY content_hash HAVING count(*) > 1",
    );
    db.close();
}
