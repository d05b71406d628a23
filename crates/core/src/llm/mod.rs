//! Talking to language-model providers: the wire layer.
//!
//! [`sse`] turns bytes into SSE events, [`wire`] turns those into
//! provider-neutral [`WireEvent`]s, and [`http_error`] maps error responses to
//! typed [`crate::Error`]s; [`stream`] drives them over a reqwest response.

pub mod http_error;
pub mod sse;
pub mod stream;
pub mod wire;

pub use http_error::{error_from_response, parse_retry_after};
pub use sse::{SseDecoder, SseEvent, DEFAULT_MAX_EVENT_BYTES};
pub use stream::{error_from_reqwest, stream_events};
pub use wire::{AnthropicStream, OpenAiStream, StreamParser, Usage, WireEvent};
