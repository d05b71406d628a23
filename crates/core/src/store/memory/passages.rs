//! Passages embedded for retrieval.
