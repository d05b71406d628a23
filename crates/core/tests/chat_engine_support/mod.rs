//! Shared by the chat engine's test files (beside chat_support, which serves
//! the model): the engine's configuration for tests, reading the `started` and
//! `failed` events, waiting for the session to be free.
#![allow(dead_code)] // each test binary uses its own part of this

use std::time::Duration;

use crate::chat_support::*;
use confab_core::chat::{EngineConfig, StreamEvent, StreamStarted};
use confab_core::ErrorCode;

pub const SECOND: Duration = Duration::from_secs(1);

pub fn quick() -> EngineConfig {
    EngineConfig {
        idle_timeout: Duration::from_secs(10),
        ..EngineConfig::default()
    }
}

pub fn started_of(events: &[StreamEvent]) -> StreamStarted {
    match &events[0] {
        StreamEvent::Started(s) => s.clone(),
        other => panic!("the first event is {other:?}"),
    }
}

pub fn error_of(event: &StreamEvent) -> (ErrorCode, Option<u32>, bool) {
    match event {
        StreamEvent::Failed {
            error,
            partial_saved,
        } => (error.code, error.retry_after_secs, *partial_saved),
        other => panic!("expected failed, got {other:?}"),
    }
}

/// Waits until nothing streams in the fixture's session.
pub async fn wait_free(f: &Fixture) {
    for _ in 0..400 {
        if f.engine.live_sessions().session_ids.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the session stayed busy");
}
