//! The demo character that ships inside Confab: its card file is built from
//! `assets/demo/card.json` and a drawn avatar (demo_card_support/avatar.rs), and
//! importing it brings every part a card can carry. Also the first-run setting.
//!
//! After editing the source, rebuild the shipped PNG with
//! `CONFAB_UPDATE_DEMO=1 cargo test -p confab-core --test demo_card`.

#[path = "demo_card_support/avatar.rs"]
mod avatar;

use std::path::{Path, PathBuf};

use confab_core::card::{self, Image, Limits};
use confab_core::library::ImportStatus;
use confab_core::lore::DictionaryScope;
use confab_core::onboarding::{self, DEMO_CARD_PNG};
use confab_core::store::Store;

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo")
}

/// The card file as the source says it should be: the JSON, read as any card
/// would be, written as a PNG card over the drawn avatar.
fn build_demo_card() -> Vec<u8> {
    let source = std::fs::read(demo_dir().join("card.json")).unwrap();
    let parsed = card::read_card(&source, "card.json", &Limits::default()).unwrap();
    let mut avatar = Vec::new();
    avatar::draw()
        .write_with_encoder(image::codecs::png::PngEncoder::new_with_quality(
            &mut avatar,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::Adaptive,
        ))
        .unwrap();
    let image = Image {
        bytes: avatar,
        mime: "image/png",
    };
    card::write_png(&parsed.data, Some(&parsed.original), Some(&image)).unwrap()
}

#[test]
fn the_shipped_demo_card_is_built_from_its_source() {
    let built = build_demo_card();
    let shipped = demo_dir().join("mira-vell.png");
    if std::env::var_os("CONFAB_UPDATE_DEMO").is_some() {
        std::fs::write(&shipped, &built).unwrap();
        return;
    }
    assert!(
        DEMO_CARD_PNG == built.as_slice(),
        "assets/demo/mira-vell.png is out of date: run \
         CONFAB_UPDATE_DEMO=1 cargo test -p confab-core --test demo_card"
    );
    // Small enough to ship in the binary.
    assert!(built.len() < 200 * 1024, "{} bytes", built.len());
}

#[test]
fn the_demo_card_is_a_png_card_with_both_specs_and_a_real_avatar() {
    let parsed = card::read_card(DEMO_CARD_PNG, "demo.png", &Limits::default()).unwrap();
    assert_eq!(parsed.format, card::CardFormat::Png);
    assert_eq!(parsed.spec, card::CardSpec::V3);
    // The avatar is the drawing, not a placeholder.
    let avatar = parsed.avatar.expect("an avatar");
    let picture = image::load_from_memory(&avatar.bytes).unwrap();
    assert_eq!(
        (picture.width(), picture.height()),
        (avatar::WIDTH, avatar::HEIGHT)
    );
    // A V2-only reader finds the card too (the chara chunk).
    let text = String::from_utf8_lossy(DEMO_CARD_PNG);
    assert!(text.contains("tEXtchara\0"), "a chara chunk");
    assert!(text.contains("tEXtccv3\0"), "a ccv3 chunk");
}

#[tokio::test]
async fn importing_the_demo_character_brings_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();

    let outcome = onboarding::import_demo_character(&store).await;
    assert_eq!(outcome.status, ImportStatus::Imported, "{outcome:?}");
    assert_eq!(outcome.name.as_deref(), Some("Mira Vell"));
    assert_eq!(outcome.file, onboarding::DEMO_CARD_FILE_NAME);
    let id = outcome.character_id.clone().unwrap();
    let detail = store.character_detail(&id).await.unwrap();
    let card = &detail.card;

    // Avatar, description, personality, scenario.
    assert!(detail.summary.avatar_key.is_some(), "an avatar");
    let (mime, avatar) = store.avatar(&id, false).await.unwrap().unwrap();
    assert_eq!(mime, "image/png");
    assert!(
        avatar.len() > 10_000,
        "the drawn avatar, {} bytes",
        avatar.len()
    );
    assert!(card.description.contains("Lantern Archive"));
    assert!(!card.personality.is_empty());
    assert!(card.scenario.contains("{{user}}"));
    assert_eq!(card.creator, "Confab");
    assert!(card.tags.iter().any(|t| t == "Confab demo"));

    // A first message and alternate greetings (one in Russian).
    assert!(card.first_mes.contains("I'm Mira"));
    assert_eq!(card.alternate_greetings.len(), 3);
    assert!(card.alternate_greetings[2].contains("Мира"));

    // Example dialogue in <START> blocks.
    assert_eq!(card.mes_example.matches("<START>").count(), 2);
    assert!(card.mes_example.contains("{{user}}:") && card.mes_example.contains("{{char}}:"));

    // The character's note (depth prompt).
    let depth = &card.extensions["depth_prompt"];
    assert_eq!(depth["depth"], 4);
    assert!(depth["prompt"].as_str().unwrap().contains("{{user}}"));

    // A world book, attached, with keyed entries (one constant, one selective).
    let book_id = outcome
        .world_book_id
        .clone()
        .expect("the embedded world book");
    let books = store.character_world_books(&id).await.unwrap();
    assert_eq!(books.len(), 1);
    assert_eq!(books[0].id, book_id);
    let (book, _) = store.world_book(&book_id).await.unwrap();
    assert_eq!(book.name, "Lantern Archive");
    assert_eq!(book.entries.len(), 6);
    let keyed = book.entries.iter().filter(|e| !e.keys.is_empty()).count();
    assert_eq!(keyed, 5);
    assert!(book
        .entries
        .iter()
        .any(|e| e.keys.iter().any(|k| k == "Hollow Bell")));
    assert!(book.entries.iter().any(|e| e.constant));
    assert!(book.entries.iter().any(|e| !e.secondary_keys.is_empty()));

    // A chat dictionary, waiting for the user's review (not applied yet).
    assert_eq!(outcome.pending_dictionary_rules, 3);
    assert_eq!(detail.pending_dictionary.len(), 3);
    assert!(store.dictionary(Some(&id)).await.unwrap().is_empty());
    let scopes: Vec<_> = detail.pending_dictionary.iter().map(|r| r.scope).collect();
    assert!(scopes.contains(&DictionaryScope::Display));
    assert!(scopes.contains(&DictionaryScope::Prompt));
    assert!(detail.pending_dictionary.iter().any(|r| r.regex));

    // A second start with the demo finds it, rather than adding a twin.
    let again = onboarding::import_demo_character(&store).await;
    assert_eq!(again.status, ImportStatus::AlreadyInLibrary);
    assert_eq!(again.character_id.as_deref(), Some(id.as_str()));
    assert_eq!(store.counts().await.unwrap().characters, 1);
}

#[tokio::test]
async fn the_first_run_is_remembered_in_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Store::open(&data).await.unwrap();

    // A new library: the walk-through is due.
    let fresh = onboarding::first_run(&store, false).await.unwrap();
    assert!(!fresh.done);
    assert_eq!(fresh.done_at, None);
    // The end-to-end suite's switch skips it without writing anything.
    assert!(onboarding::first_run(&store, true).await.unwrap().done);
    assert!(store.first_run_done_at().await.unwrap().is_none());

    let finished = onboarding::finish_first_run(&store).await.unwrap();
    assert!(finished.done);
    let at = finished.done_at.unwrap();
    assert!(at > 1.7e12, "Unix milliseconds, got {at}");
    // Finishing again keeps the first time.
    let again = onboarding::finish_first_run(&store).await.unwrap();
    assert_eq!(again.done_at, Some(at));
    store.close().await;

    // Kept in the database, not in the window: a reopened library remembers.
    let store = Store::open(&data).await.unwrap();
    let reopened = onboarding::first_run(&store, false).await.unwrap();
    assert!(reopened.done);
    assert_eq!(reopened.done_at, Some(at));
}

#[tokio::test]
async fn a_library_in_use_before_the_walk_through_existed_is_not_walked_through() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let outcome = onboarding::import_demo_character(&store).await;
    assert_eq!(outcome.status, ImportStatus::Imported);
    let status = onboarding::first_run(&store, false).await.unwrap();
    assert!(status.done);
    // Nothing was recorded: it is inferred from the library.
    assert_eq!(status.done_at, None);
}
