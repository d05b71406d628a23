//! Retrieval: earlier passages of a chat (and notes attached to it) embedded and found again by similarity.
