//! Long chats that remember: rolling summaries that follow the branch, and
//! retrieval of earlier passages by embeddings.

pub mod retrieval;
pub mod settings;
pub mod summary;
