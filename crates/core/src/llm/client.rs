//! Sending one reply request: the HTTP request out, [`WireEvent`]s back, for
//! streaming and non-streaming providers alike.
#![allow(unused_variables, clippy::todo)] // CONTRACT: remove with the last todo!().

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;

use super::provider::{HttpRequest, ProviderConfig};
use super::wire::WireEvent;
use crate::error::Result;

/// A reply's events; dropping it drops the connection (the provider stops generating).
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<WireEvent>> + Send>>;

/// Sends `request` and returns its events. A non-streaming provider's whole
/// answer arrives as one `Text` (plus usage and finish). Each wait for bytes is
/// bounded by `idle_timeout`; events over `max_event_bytes` are refused.
pub async fn start_reply(
    http: &reqwest::Client,
    config: &ProviderConfig,
    request: &HttpRequest,
    idle_timeout: Duration,
    max_event_bytes: usize,
) -> Result<ReplyStream> {
    todo!("CONTRACT: chat engine work")
}
