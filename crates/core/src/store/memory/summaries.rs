//! Summaries of a path's earlier messages, and each chat's memory settings.
