//! A chat's memory settings.
