//! Token counting: one counter shared by the world-book engine and prompt assembly.
//!
//! The default is OpenAI's `o200k_base` BPE (via `tiktoken-rs`, vocabulary
//! embedded in the crate, so nothing is downloaded). Other model families
//! tokenise differently; o200k is a close, honest stand-in for budgeting,
//! and a provider-specific counter can implement [`TokenCounter`] later.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use tiktoken_rs::CoreBPE;

/// Counts the tokens of a text.
pub trait TokenCounter: Send + Sync {
    /// How many tokens `text` takes.
    fn count(&self, text: &str) -> u32;

    /// The tokenizer's name: stored counts are reused only under the same name.
    fn name(&self) -> &str {
        "custom"
    }
}

/// The `o200k_base` tokenizer (GPT-4o and later).
pub struct TiktokenCounter {
    bpe: CoreBPE,
}

impl TokenCounter for TiktokenCounter {
    fn count(&self, text: &str) -> u32 {
        // Ordinary encoding: text like "<|endoftext|>" inside a lore entry is just text.
        u32::try_from(self.bpe.encode_ordinary(text).len()).unwrap_or(u32::MAX)
    }

    fn name(&self) -> &str {
        "o200k_base"
    }
}

/// A tokenizer-free estimate: one token per four bytes, rounded up.
///
/// Only used if the real vocabulary cannot be loaded (it is compiled in, so
/// that would be a bug), and handy in tests that want predictable numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct EstimateCounter;

impl TokenCounter for EstimateCounter {
    fn count(&self, text: &str) -> u32 {
        u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX)
    }

    fn name(&self) -> &str {
        "estimate"
    }
}

enum DefaultCounter {
    Tiktoken(TiktokenCounter),
    Estimate(EstimateCounter),
}

impl TokenCounter for DefaultCounter {
    fn count(&self, text: &str) -> u32 {
        match self {
            DefaultCounter::Tiktoken(t) => t.count(text),
            DefaultCounter::Estimate(e) => e.count(text),
        }
    }

    fn name(&self) -> &str {
        match self {
            DefaultCounter::Tiktoken(t) => t.name(),
            DefaultCounter::Estimate(e) => e.name(),
        }
    }
}

/// The shared default counter, built once on first use (building the BPE takes ~100 ms).
pub fn default_counter() -> &'static dyn TokenCounter {
    static COUNTER: OnceLock<DefaultCounter> = OnceLock::new();
    COUNTER.get_or_init(|| match tiktoken_rs::o200k_base() {
        Ok(bpe) => DefaultCounter::Tiktoken(TiktokenCounter { bpe }),
        Err(_) => DefaultCounter::Estimate(EstimateCounter),
    })
}

/// The default counter with a memory of texts it counted before.
///
/// A history's counts are stored with its messages; this keeps the other parts
/// of a prompt (system prompt, world info, example dialogue), which rarely
/// change between turns, from being tokenised again on every send.
pub struct CachedCounter {
    counts: Mutex<HashMap<(u64, usize), u32>>,
}

/// Texts shorter than this are counted directly (hashing costs about as much).
const CACHE_MIN_BYTES: usize = 64;
/// Entries kept before the cache starts over (about 6 MB at most).
const CACHE_MAX_ENTRIES: usize = 200_000;

impl TokenCounter for CachedCounter {
    fn count(&self, text: &str) -> u32 {
        let counter = default_counter();
        if text.len() < CACHE_MIN_BYTES {
            return counter.count(text);
        }
        let mut h = std::hash::DefaultHasher::new();
        text.hash(&mut h);
        let key = (h.finish(), text.len());
        if let Some(n) = self.counts.lock().ok().and_then(|c| c.get(&key).copied()) {
            return n;
        }
        let n = counter.count(text);
        if let Ok(mut counts) = self.counts.lock() {
            if counts.len() >= CACHE_MAX_ENTRIES {
                counts.clear();
            }
            counts.insert(key, n);
        }
        n
    }

    fn name(&self) -> &str {
        default_counter().name()
    }
}

/// The shared [`CachedCounter`] over the default counter: what prompts are counted with.
pub fn shared_counter() -> &'static CachedCounter {
    static CACHE: OnceLock<CachedCounter> = OnceLock::new();
    CACHE.get_or_init(|| CachedCounter {
        counts: Mutex::new(HashMap::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_counter_is_a_real_tokenizer() {
        let c = default_counter();
        assert_eq!(c.count(""), 0);
        // "hello world" is two o200k tokens; the estimator would say 3.
        assert_eq!(c.count("hello world"), 2);
    }

    #[test]
    fn estimate_rounds_up() {
        assert_eq!(EstimateCounter.count("abcde"), 2);
    }
}
