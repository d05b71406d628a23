//! Compiled dictionaries kept between sends, by character (and the global
//! one), compiled again only when their stored rules change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::Dictionary;
use crate::lore::model::DictionaryRule;
use crate::store::Store;
use crate::Result;

/// Compiled dictionaries by character (or `None` for the global one), kept
/// until their stored rules change: a send compiles nothing it compiled before.
#[derive(Debug, Default)]
pub struct CompiledDictionaries {
    cache: Mutex<HashMap<Option<String>, Cached>>,
    compiles: AtomicU64,
}

#[derive(Debug)]
struct Cached {
    /// The stored rules exactly as read: any change to them is a new key.
    source: String,
    dictionary: Arc<Dictionary>,
}

/// Most dictionaries kept compiled (the global one and recently used characters').
const CACHED_DICTIONARIES: usize = 64;

impl CompiledDictionaries {
    /// The compiled dictionary of a character (`None`: the global one). The
    /// stored rules are read and compared with what was compiled; they are
    /// compiled again only when they changed (a character without rules has
    /// an empty dictionary).
    pub async fn get(&self, store: &Store, character_id: Option<&str>) -> Result<Arc<Dictionary>> {
        let key = character_id.map(str::to_owned);
        let Some(source) = store.dictionary_source(character_id).await? else {
            self.lock().remove(&key);
            return Ok(Arc::new(Dictionary::default()));
        };
        if let Some(hit) = self.lock().get(&key).filter(|c| c.source == source) {
            return Ok(hit.dictionary.clone());
        }
        let (source, dictionary) = crate::offload::run("compiling a chat dictionary", move || {
            // Stored rules were checked when saved; unreadable JSON counts as none.
            let rules: Vec<DictionaryRule> = serde_json::from_str(&source).unwrap_or_default();
            let (dictionary, _) = Dictionary::compile(&rules);
            (source, Arc::new(dictionary))
        })
        .await?;
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let mut cache = self.lock();
        if cache.len() >= CACHED_DICTIONARIES && !cache.contains_key(&key) {
            // Keep the global one; any character's is cheap to compile again.
            if let Some(victim) = cache.keys().find(|k| k.is_some()).cloned() {
                cache.remove(&victim);
            }
        }
        cache.insert(
            key,
            Cached {
                source,
                dictionary: dictionary.clone(),
            },
        );
        Ok(dictionary)
    }

    /// The character's dictionary and the global one, for [`apply_all`](super::apply_all).
    pub async fn for_character(
        &self,
        store: &Store,
        character_id: &str,
    ) -> Result<(Arc<Dictionary>, Arc<Dictionary>)> {
        tokio::try_join!(self.get(store, Some(character_id)), self.get(store, None))
    }

    /// How many times a dictionary was compiled (not served from the cache).
    pub fn compile_count(&self) -> u64 {
        self.compiles.load(Ordering::Relaxed)
    }

    /// Forgets every compiled dictionary (the whole library was replaced by a restore).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Option<String>, Cached>> {
        // Every change is one insert or remove: the map stays whole if a holder panicked.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
