//! Shared by the session tests: a store on a real SQLite file with one
//! character, messages to add, and the active path read page by page.
#![allow(dead_code)] // each test binary uses its own part of this

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::session::{MessageStatus, Role};
use confab_core::store::{Inserted, NewCharacter, NewMessage, Store};

/// A store in a temporary folder, with one character; returns its id.
pub async fn store_with_character() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let card = CardData {
        name: "Seraphina".into(),
        first_mes: "*{{char}} smiles at {{user}}.* Welcome to my glade.".into(),
        alternate_greetings: vec!["Hello, <USER>.".into(), "".into(), "You wake up.".into()],
        ..Default::default()
    };
    let hash = content_hash(&card);
    let Inserted::New { id } = store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "s.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .unwrap()
    else {
        panic!("new character")
    };
    (dir, store, id)
}

/// A complete user message.
pub fn user(text: &str) -> NewMessage<'_> {
    NewMessage {
        role: Role::User,
        name: "Traveller",
        content: text,
        status: MessageStatus::Complete,
        image_ids: &[],
        speaker: None,
    }
}

/// A complete reply.
pub fn reply(text: &str) -> NewMessage<'_> {
    NewMessage {
        role: Role::Assistant,
        name: "Seraphina",
        content: text,
        status: MessageStatus::Complete,
        image_ids: &[],
        speaker: None,
    }
}

/// The active path, oldest first, as (id, content).
pub async fn path_of(store: &Store, session: &str) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .messages_page(session, cursor.as_deref(), 500)
            .await
            .unwrap();
        let mut ids: Vec<(String, String)> = page
            .messages
            .iter()
            .map(|m| (m.id.clone(), m.content.clone()))
            .collect();
        ids.append(&mut all);
        all = ids;
        match page.older_cursor {
            Some(c) => cursor = Some(c),
            None => return all,
        }
    }
}
