//! The characters repository on a real SQLite file: dedupe, lists, edits, replace, delete.

use confab_core::card::{CardData, CardFormat, CardSpec, EmbeddedAsset, Image};
use confab_core::library::{content_hash, CharacterQuery, CharacterSort};
use confab_core::store::{Inserted, NewCharacter, Store, Thumbnail};
use confab_core::ErrorCode;
use serde_json::json;

fn card(name: &str, creator: &str, tags: &[&str]) -> CardData {
    CardData {
        name: name.into(),
        creator: creator.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        description: format!("{name} is a test character."),
        ..Default::default()
    }
}

async fn insert(store: &Store, card: &CardData, collections: &[&str]) -> Inserted {
    let original = json!({"spec": "chara_card_v3", "data": {"name": card.name, "x_unknown": 1}});
    let avatar = Image {
        bytes: vec![1, 2, 3],
        mime: "image/png",
    };
    let thumb = Thumbnail {
        bytes: vec![9, 9],
        mime: "image/jpeg",
    };
    let assets = [EmbeddedAsset {
        kind: "background".into(),
        name: "forest".into(),
        ext: "webp".into(),
        path: "assets/other/forest.webp".into(),
        bytes: vec![7; 10],
    }];
    let collections: Vec<String> = collections.iter().map(|c| c.to_string()).collect();
    let hash = content_hash(card);
    store
        .insert_character(NewCharacter {
            card,
            original: &original,
            spec: CardSpec::V3,
            format: CardFormat::Png,
            source_file: "card.png",
            content_hash: &hash,
            avatar: Some((&avatar, Some(thumb))),
            assets: &assets,
            collections: &collections,
        })
        .await
        .unwrap()
}

fn new_id(inserted: Inserted) -> String {
    match inserted {
        Inserted::New { id } => id,
        other => panic!("expected a new character, got {other:?}"),
    }
}

#[tokio::test]
async fn an_identical_card_is_found_not_copied_and_a_same_name_card_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let first = new_id(insert(&store, &card("Seraphina", "ST", &["fantasy"]), &[]).await);
    let again = insert(&store, &card("Seraphina", "ST", &["fantasy"]), &[]).await;
    assert_eq!(
        again,
        Inserted::Duplicate {
            id: first.clone(),
            name: "Seraphina".into()
        }
    );
    let other = new_id(insert(&store, &card("Seraphina", "someone else", &[]), &[]).await);
    assert_ne!(other, first);
    assert_eq!(
        store.character_named("seraphina", &other).await.unwrap(),
        Some(first)
    );
    assert_eq!(store.counts().await.unwrap().characters, 2);
}

#[tokio::test]
async fn lists_search_sort_and_filter_by_tag_and_collection() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    insert(
        &store,
        &card("Megumin", "Kazuma", &["Comedy", "mage"]),
        &["Konosuba"],
    )
    .await;
    insert(
        &store,
        &card("aqua", "Kazuma", &["comedy", "goddess"]),
        &["Konosuba"],
    )
    .await;
    insert(&store, &card("Рокси", "Misuzu", &["mage"]), &[]).await;

    let all = |sort| CharacterQuery {
        sort,
        ..Default::default()
    };
    let names = |list: Vec<confab_core::library::CharacterSummary>| {
        list.into_iter().map(|c| c.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            store
                .character_summaries(&all(CharacterSort::Name))
                .await
                .unwrap()
        ),
        ["aqua", "Megumin", "Рокси"]
    );
    assert_eq!(
        names(
            store
                .character_summaries(&all(CharacterSort::RecentlyAdded))
                .await
                .unwrap()
        ),
        ["Рокси", "aqua", "Megumin"]
    );
    let search = CharacterQuery {
        search: "KAZ meg".into(),
        ..Default::default()
    };
    assert_eq!(
        names(store.character_summaries(&search).await.unwrap()),
        ["Megumin"]
    );
    let cyrillic = CharacterQuery {
        search: "рок".into(),
        ..Default::default()
    };
    assert_eq!(
        names(store.character_summaries(&cyrillic).await.unwrap()),
        ["Рокси"]
    );
    let tag = CharacterQuery {
        tag: Some("COMEDY".into()),
        ..Default::default()
    };
    assert_eq!(
        names(store.character_summaries(&tag).await.unwrap()),
        ["aqua", "Megumin"]
    );
    let collection = CharacterQuery {
        collection: Some("konosuba".into()),
        sort: CharacterSort::Name,
        ..Default::default()
    };
    let listed = store.character_summaries(&collection).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].collections, ["Konosuba"]);
    assert_eq!(listed[0].tags, ["comedy", "goddess"]);
    assert!(listed[0].avatar_key.is_some());

    let facets = store.library_facets().await.unwrap();
    let tags: Vec<(String, u32)> = facets.tags.into_iter().map(|f| (f.name, f.count)).collect();
    assert_eq!(tags[0].1, 2);
    assert_eq!(
        tags.len(),
        3,
        "comedy counted once whatever its case: {tags:?}"
    );
    assert_eq!(facets.collections.len(), 1);
    assert_eq!(facets.collections[0].count, 2);
}

#[tokio::test]
async fn detail_edit_and_full_record_for_export() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let id = new_id(insert(&store, &card("Flux", "ST", &["cat"]), &[]).await);
    let detail = store.character_detail(&id).await.unwrap();
    assert_eq!(detail.card.name, "Flux");
    assert_eq!(detail.spec, CardSpec::V3);
    assert_eq!(detail.format, CardFormat::Png);
    assert_eq!(detail.source_file, "card.png");
    assert_eq!(detail.assets.len(), 1);
    assert_eq!(detail.assets[0].size, 10);

    let mut edited = detail.card.clone();
    edited.name = "Flux the Cat".into();
    edited.tags = vec!["cat".into(), "cute".into()];
    store
        .update_character_card(&id, &edited, &content_hash(&edited))
        .await
        .unwrap();
    let after = store.character_detail(&id).await.unwrap();
    assert_eq!(after.card, edited);
    assert_eq!(after.summary.name, "Flux the Cat");
    assert_eq!(after.summary.tags, ["cat", "cute"]);

    let full = store.stored_character(&id).await.unwrap();
    assert_eq!(full.original.unwrap()["data"]["x_unknown"], 1);
    assert_eq!(full.avatar.unwrap().bytes, [1, 2, 3]);
    assert_eq!(full.assets[0].path, "assets/other/forest.webp");
    assert_eq!(store.avatar(&id, true).await.unwrap().unwrap().1, [9, 9]);
    assert_eq!(
        store.avatar(&id, false).await.unwrap().unwrap().0,
        "image/png"
    );

    // After the edit, the edited card is "already in library"; the old one is not.
    let again = insert(&store, &edited, &[]).await;
    assert!(matches!(again, Inserted::Duplicate { .. }));
}

#[tokio::test]
async fn replace_keeps_the_target_id_and_chats_and_removes_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let old = new_id(insert(&store, &card("Aqua", "v1", &["old"]), &["Pack A"]).await);
    let new = new_id(insert(&store, &card("Aqua", "v2", &["new"]), &["Pack B"]).await);
    store.replace_character(&old, &new).await.unwrap();

    let detail = store.character_detail(&old).await.unwrap();
    assert_eq!(detail.card.creator, "v2");
    assert_eq!(detail.summary.tags, ["new"]);
    assert_eq!(detail.summary.collections, ["Pack A", "Pack B"]);
    assert_eq!(detail.assets.len(), 1);
    let err = store.character_detail(&new).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(store.counts().await.unwrap().characters, 1);
    assert_eq!(
        store
            .replace_character(&old, &old)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
}

#[tokio::test]
async fn delete_cascades_and_empties_unused_collections() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let id = new_id(insert(&store, &card("Megumin", "K", &["mage"]), &["Konosuba"]).await);
    store.delete_character(&id).await.unwrap();
    assert_eq!(store.counts().await.unwrap().characters, 0);
    assert_eq!(store.library_facets().await.unwrap(), Default::default());
    assert!(store.avatar(&id, true).await.unwrap().is_none());
    assert_eq!(
        store.delete_character(&id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
}
