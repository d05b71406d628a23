//! The library the streaming benchmark runs in: a character with example
//! dialogue and a Character's note, a world book of `ENTRIES` entries, a chat of
//! `HISTORY` messages with an Author's Note, and a provider pointing at the
//! local server.

use std::sync::Arc;

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::chat::{ChatEngine, EngineConfig};
use confab_core::library::content_hash;
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::lore::{Book, BookSettings, Entry, EntryPosition, EntryRole};
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::session::Role;
use confab_core::sink::Discard;
use confab_core::store::{BookOrigin, ImportedMessage, Inserted, NewCharacter, Store};

use super::Server;
use crate::{ENTRIES, HISTORY};

fn words(seed: usize, len: usize) -> String {
    const W: &[&str] = &[
        "the", "old", "road", "river", "light", "night", "said", "looked", "toward", "city",
        "quiet", "under", "over", "she", "he", "and", "lantern", "harbor", "storm", "glade",
    ];
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = String::with_capacity(len + 10);
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(W[(x % W.len() as u64) as usize]);
    }
    s
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

async fn character(store: &Store) -> Option<String> {
    let card = CardData {
        name: "Mira".into(),
        description: "{{char}} is a ship's navigator. ".repeat(20),
        personality: "bold, dry, loyal".into(),
        scenario: "A long voyage.".into(),
        post_history_instructions: "Stay in character.".into(),
        first_mes: "We sail at dawn.".into(),
        // Example dialogue and a Character's note, as cards carry them.
        mes_example: EXAMPLES.into(),
        extensions: serde_json::json!({
            "depth_prompt": {"prompt": "{{char}} never admits being lost.", "depth": 4, "role": "system"}
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
        ..CardData::default()
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
    {
        Ok(Inserted::New { id }) => Some(id),
        _ => None,
    }
}

fn book() -> Book {
    let positions = [
        EntryPosition::BeforeCharacter,
        EntryPosition::AfterCharacter,
        EntryPosition::AtDepth,
        EntryPosition::AuthorsNoteBottom,
    ];
    let entries = (0..ENTRIES)
        .map(|uid| {
            let mut e = Entry::new(uid as u32);
            e.comment = format!("place {uid}");
            e.keys = vec![format!("place{uid}"), format!("alias{uid}x")];
            e.position = positions[uid % positions.len()];
            e.depth = (uid % 6) as u32;
            e.role = EntryRole::System;
            e.content = format!("{{{{char}}}} knows place{uid}: {}", words(uid, 200));
            e
        })
        .collect();
    Book {
        name: "bench".into(),
        description: String::new(),
        settings: BookSettings {
            scan_depth: 50,
            ..BookSettings::default()
        },
        entries,
        extensions: Default::default(),
    }
}

fn history() -> Vec<ImportedMessage> {
    (0..HISTORY)
        .map(|i| {
            let mut content = words(i + 77, 280);
            if i % 3 == 0 {
                content.push_str(&format!(" place{}", (i * 37) % ENTRIES));
            }
            let (role, name) = if i % 2 == 0 {
                (Role::User, "Ann")
            } else {
                (Role::Assistant, "Mira")
            };
            ImportedMessage {
                role,
                name: name.into(),
                swipes: vec![content],
                swipe_index: 0,
                created_at: 1_700_000_000_000 + i as i64,
                speaker: None,
            }
        })
        .collect()
}

pub struct Setup {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub caches: Arc<PromptCaches>,
    pub keys: Arc<Keys>,
    pub provider: ProviderConfig,
    pub session: String,
    pub http: reqwest::Client,
}

pub async fn setup(server: &Server) -> Option<Setup> {
    let dir = tempfile::tempdir().ok()?;
    let store = Store::open(dir.path()).await.ok()?;
    let character = character(&store).await?;
    store
        .insert_world_book(
            &book(),
            BookOrigin {
                source_file: "bench.json",
                character_id: Some(&character),
            },
        )
        .await
        .ok()?;
    let session = store
        .import_session(&character, "bench", &history())
        .await
        .ok()?;
    let note = confab_core::prompt::AuthorsNote {
        text: "[Style: terse, salty, present tense.]".into(),
        ..Default::default()
    };
    store
        .set_session_authors_note(&session, Some(&note))
        .await
        .ok()?;
    let mut provider = ProviderConfig::new(ProviderKind::OpenAiCompatible, "Bench");
    provider.base_url = format!("http://{}/v1", server.addr);
    provider.default_model = "bench-model".into();
    let provider = store.save_provider(&provider).await.ok()?;
    Some(Setup {
        keys: Arc::new(Keys::in_memory(store.clone())),
        caches: Arc::new(PromptCaches::default()),
        http: reqwest::Client::builder().no_proxy().build().ok()?,
        _dir: dir,
        store,
        provider,
        session,
    })
}

impl Setup {
    pub fn engine(&self, config: EngineConfig) -> ChatEngine {
        ChatEngine::new(
            self.store.clone(),
            self.keys.clone(),
            self.caches.clone(),
            self.http.clone(),
            config,
            Arc::new(Discard),
        )
    }

    /// A fresh session of the same character (a short history).
    pub async fn short_session(&self) -> Option<String> {
        let summary = self.store.session_summary(&self.session).await.ok()?;
        self.store
            .create_session(&summary.character_id, None, "Ann")
            .await
            .ok()
    }
}
