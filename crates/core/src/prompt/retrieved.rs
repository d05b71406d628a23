//! Passages retrieved from earlier in the chat (or its notes), as the pieces
//! of one system message placed at the retrieval depth.

use super::model::{PromptInput, PromptSource};
use super::text::{Piece, Prep};

/// One piece per retrieved passage, best first: passages whose message may be
/// inside the kept window (history index at or after `keep_from`) are left
/// out, and at most `retrieval_count` are taken (all when it is 0).
pub(crate) fn retrieved_pieces(
    input: &PromptInput,
    prep: &Prep<'_>,
    keep_from: usize,
) -> Vec<Piece> {
    let memory = &input.memory;
    let limit = match memory.retrieval_count {
        0 => usize::MAX,
        n => n as usize,
    };
    memory
        .retrieved
        .iter()
        .filter(|p| p.history_index.is_none_or(|i| (i as usize) < keep_from))
        .filter_map(|p| {
            // Chat text, so macros and the dictionaries apply as to history.
            let (text, used) = prep.message(&p.text);
            let text = text.trim();
            (!text.is_empty()).then(|| {
                let label = crate::memory::retrieval::retrieved_label(p.score, p.position);
                Piece::new(PromptSource::RetrievedMemory, label, text.to_owned()).using(used)
            })
        })
        .take(limit)
        .collect()
}
