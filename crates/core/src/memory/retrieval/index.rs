//! The in-memory index a search scans: one chat's vectors for one model,
//! normalised and quantised to i8 (a quarter of f32's bytes: 100,000
//! passages of 768 dimensions are 77 MB, scanned in a few milliseconds by
//! simsimd's i8 kernels), then the best candidates scored again exactly, in
//! f32, from the stored vectors.
//!
//! The index catches up with the database by the chat's passage clock (a
//! trigger moves it on every change): only the passages added since are read.
//! The active path is kept by depth and caught up from the path's end
//! upwards until it meets a message it already knows (ancestry never
//! changes), so a swipe or a branch costs a few rows, not a walk of the chat.

use std::collections::HashSet;

use simsimd::SpatialSimilarity;

use crate::error::Result;
use crate::store::{vector_from_bytes, Store};

/// Ids read per query when catching up.
const LOAD_CHUNK: usize = 2000;
/// Path rows read per query when catching up.
const PATH_CHUNK: u32 = 256;
/// The approximate score may be this far below the exact one: candidates
/// are taken this far below the lowest score asked for.
const QUANTISATION_SLACK: f32 = 0.05;
/// Candidates taken beyond those asked for, so exact scores may reorder them.
const EXTRA_CANDIDATES: usize = 8;

/// A candidate of a search: its passage and where its message sits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub id: i64,
    pub approx: f32,
}

/// One chat's vectors for one model.
#[derive(Debug, Default)]
pub(crate) struct ChatIndex {
    pub session_id: String,
    pub model: String,
    /// The cache's generation it was made in (see `RetrievalCache::clear`).
    pub generation: u64,
    tick: i64,
    /// The largest passage id loaded.
    max_id: i64,
    dims: usize,
    ids: Vec<i64>,
    /// The message and its depth; `None` for a note.
    messages: Vec<Option<(Box<str>, u32)>>,
    /// `dims` codes per passage.
    codes: Vec<i8>,
    /// The active path's message ids by depth, up to `path_end`.
    path: Vec<String>,
    path_end: Option<String>,
}

impl ChatIndex {
    /// An empty index of `session_id` for `model`.
    pub fn new(session_id: &str, model: &str, generation: u64) -> ChatIndex {
        ChatIndex {
            session_id: session_id.to_owned(),
            model: model.to_owned(),
            generation,
            tick: -1,
            ..ChatIndex::default()
        }
    }

    /// Reads what changed since the last catch-up: the passages added (and
    /// forgets those deleted) when the chat's passage clock moved.
    pub async fn catch_up(&mut self, store: &Store) -> Result<()> {
        let tick = store.passage_tick(&self.session_id).await?;
        if tick == self.tick {
            return Ok(());
        }
        // Ids are never reused: what is new is past the last one known, and a
        // count that does not add up means some were deleted (then all ids are compared).
        let fresh = store
            .passage_ids(&self.session_id, &self.model, self.max_id)
            .await?;
        // Every change moves the clock by one: when it moved by exactly the
        // passages added, nothing else changed and the count need not be read.
        let only_added = self.tick >= 0
            && usize::try_from(tick - self.tick).is_ok_and(|moved| moved == fresh.len());
        let count = match only_added {
            true => self.ids.len() + fresh.len(),
            false => store.passage_count(&self.session_id, &self.model).await? as usize,
        };
        let missing = if count == self.ids.len() + fresh.len() {
            fresh
        } else {
            let now = store.passage_ids(&self.session_id, &self.model, 0).await?;
            let wanted: HashSet<i64> = now.iter().copied().collect();
            self.retain(&wanted);
            let known: HashSet<i64> = self.ids.iter().copied().collect();
            now.into_iter().filter(|id| !known.contains(id)).collect()
        };
        if let Some(&last) = missing.last() {
            self.max_id = self.max_id.max(last);
        }
        for chunk in missing.chunks(LOAD_CHUNK) {
            for row in store.passage_vectors(chunk).await? {
                let vector = vector_from_bytes(&row.embedding);
                if self.dims == 0 {
                    self.dims = vector.len();
                }
                // Rows of another length (never written by this model) are left out.
                if vector.is_empty() || vector.len() != self.dims {
                    continue;
                }
                self.ids.push(row.id);
                self.messages
                    .push(row.message.map(|(id, depth)| (id.into_boxed_str(), depth)));
                self.codes.extend(quantise(&vector));
            }
        }
        if self.ids.is_empty() {
            self.dims = 0;
        }
        self.tick = tick;
        Ok(())
    }

    fn retain(&mut self, wanted: &HashSet<i64>) {
        let dims = self.dims;
        let mut ids = Vec::with_capacity(self.ids.len());
        let mut messages = Vec::with_capacity(self.ids.len());
        let mut codes = Vec::with_capacity(self.codes.len());
        for (i, id) in self.ids.iter().enumerate() {
            if wanted.contains(id) {
                ids.push(*id);
                messages.push(self.messages[i].clone());
                codes.extend_from_slice(&self.codes[i * dims..(i + 1) * dims]);
            }
        }
        (self.ids, self.messages, self.codes) = (ids, messages, codes);
    }

    /// Brings the active path up to `end` (its last message; `None`: no messages).
    pub async fn follow_path(&mut self, store: &Store, end: Option<&str>) -> Result<()> {
        if self.path_end.as_deref() == end {
            return Ok(());
        }
        let Some(end) = end else {
            self.path.clear();
            self.path_end = None;
            return Ok(());
        };
        let mut fresh: Vec<(String, usize)> = Vec::new();
        let mut end_depth = None;
        let mut cursor = Some(end.to_owned());
        'walk: while let Some(from) = cursor.take() {
            let rows = store.path_up(&from, PATH_CHUNK).await?;
            let full = rows.len() == PATH_CHUNK as usize;
            for (id, parent, depth) in rows {
                let Ok(depth) = usize::try_from(depth) else {
                    break 'walk;
                };
                end_depth.get_or_insert(depth);
                // Ancestry never changes: above a message already known, all is known.
                if self.path.get(depth) == Some(&id) {
                    break 'walk;
                }
                fresh.push((id, depth));
                cursor = if full { parent } else { None };
            }
        }
        match end_depth {
            Some(d) => self.path.resize(d + 1, String::new()),
            None => self.path.clear(),
        }
        for (id, depth) in fresh {
            if let Some(slot) = self.path.get_mut(depth) {
                *slot = id;
            }
        }
        self.path_end = Some(end.to_owned());
        Ok(())
    }

    /// Whether passage `i` may be returned: a note, or a passage of a message on the active path.
    fn on_path(&self, i: usize) -> bool {
        match &self.messages[i] {
            None => true,
            Some((id, depth)) => self
                .path
                .get(*depth as usize)
                .is_some_and(|on| on.as_str() == &**id),
        }
    }

    /// The message (and its depth) of passage `id`.
    pub fn message_of(&self, i: usize) -> Option<(&str, u32)> {
        self.messages[i].as_ref().map(|(id, d)| (&**id, *d))
    }

    /// The passages most similar to `query` by their quantised vectors, best
    /// first: those on the active path, scoring at least `min_score` less the
    /// quantisation's slack, until `enough` says the list is long enough (it
    /// is asked after each candidate, with its message when it has one).
    pub fn candidates(
        &self,
        query: &[f32],
        min_score: f32,
        mut enough: impl FnMut(Option<&str>) -> bool,
    ) -> Vec<Candidate> {
        if self.dims == 0 || query.len() != self.dims {
            return Vec::new();
        }
        let q = quantise(query);
        let scale = 1.0 / (127.0f32 * 127.0);
        let floor = min_score - QUANTISATION_SLACK;
        let mut scored: Vec<(f32, usize)> = Vec::new();
        for (i, code) in self.codes.chunks_exact(self.dims).enumerate() {
            let dot = i8::dot(&q, code).unwrap_or(0.0) as f32 * scale;
            if dot >= floor {
                scored.push((dot, i));
            }
        }
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let mut out = Vec::new();
        let mut extra = None;
        for (score, i) in scored {
            if !self.on_path(i) {
                continue;
            }
            out.push(Candidate {
                id: self.ids[i],
                approx: score,
            });
            match &mut extra {
                Some(0) => break,
                Some(n) => *n -= 1,
                None if enough(self.message_of(i).map(|(id, _)| id)) => {
                    extra = Some(EXTRA_CANDIDATES)
                }
                None => {}
            }
        }
        out
    }
}

/// `v` scaled to length 1 (zeros stay zeros).
pub fn normalise(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter().map(|x| x / norm).collect()
    } else {
        vec![0.0; v.len()]
    }
}

/// `v` normalised, as i8 codes (x 127).
pub fn quantise(v: &[f32]) -> Vec<i8> {
    normalise(v)
        .into_iter()
        .map(|x| (x * 127.0).round().clamp(-127.0, 127.0) as i8)
        .collect()
}

/// The exact cosine similarity of two vectors (0 when either is zero or their lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    match f32::cosine(a, b) {
        // simsimd answers the distance, 1 - similarity.
        Some(d) if d.is_finite() => (1.0 - d as f32).clamp(-1.0, 1.0),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-6);
        assert!((cosine(&[1.0, 0.0], &[-2.0, 0.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn quantised_scores_are_close_to_exact() {
        let a: Vec<f32> = (0..768)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let b: Vec<f32> = (0..768)
            .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
            .collect();
        let exact = cosine(&a, &b);
        let approx = i8::dot(&quantise(&a), &quantise(&b)).unwrap_or(0.0) as f32 / (127.0 * 127.0);
        assert!(
            (exact - approx).abs() < QUANTISATION_SLACK / 2.0,
            "{exact} {approx}"
        );
    }
}
