//! The async glue: an HTTP response in, a stream of [`WireEvent`]s out.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::http_error::error_from_response;
use super::sse::SseDecoder;
use super::wire::{StreamParser, WireEvent};
use crate::error::{redact_secrets, Error};

/// The most of an error response's body Confab reads (the rest is not needed).
const MAX_ERROR_BODY: usize = 64 * 1024;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Turns a provider's response into its events, ending after the first error.
///
/// A non-2xx status yields one typed error read from the body (Retry-After
/// included). Each wait for the next chunk is bounded by `idle_timeout`
/// ([`Error::Timeout`]); a broken connection is [`Error::Network`]; one event
/// over `max_event_bytes` is [`Error::TooLarge`]. The stream ends by itself: after
/// an error, or after the parser accepted the end of the body.
pub fn stream_events<P>(
    response: reqwest::Response,
    parser: P,
    idle_timeout: Duration,
    max_event_bytes: usize,
) -> impl Stream<Item = Result<WireEvent, Error>> + Send
where
    P: StreamParser + Send + 'static,
{
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let state = State {
        body: Box::pin(response.bytes_stream()),
        decoder: SseDecoder::with_max_event_bytes(max_event_bytes),
        parser,
        queue: VecDeque::new(),
        idle_timeout,
        http_error: (!status.is_success()).then(|| (status.as_u16(), retry_after)),
        at_eof: false,
    };
    futures_util::stream::unfold(Some(state), |state| async move {
        let mut st = state?;
        let item = st.next_item().await?;
        let keep_going = item.is_ok();
        Some((item, keep_going.then_some(st)))
    })
}

/// The typed error for a failure reqwest reports (connecting, reading).
pub fn error_from_reqwest(err: reqwest::Error) -> Error {
    let timed_out = err.is_timeout();
    let text = describe(err);
    if timed_out {
        Error::Timeout(text)
    } else {
        Error::Network(text)
    }
}

struct State<P> {
    body: ByteStream,
    decoder: SseDecoder,
    parser: P,
    queue: VecDeque<Result<WireEvent, Error>>,
    idle_timeout: Duration,
    http_error: Option<(u16, Option<String>)>,
    at_eof: bool,
}

impl<P: StreamParser> State<P> {
    /// The next event or error; `None` once the stream is over.
    async fn next_item(&mut self) -> Option<Result<WireEvent, Error>> {
        if let Some((status, retry_after)) = self.http_error.take() {
            return Some(Err(self.read_error(status, retry_after.as_deref()).await));
        }
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.at_eof {
                return None;
            }
            match tokio::time::timeout(self.idle_timeout, self.body.next()).await {
                Err(_) => return Some(Err(self.idle_error())),
                Ok(Some(Err(e))) => return Some(Err(error_from_reqwest(e))),
                Ok(Some(Ok(bytes))) => {
                    let events = self.decoder.feed(&bytes);
                    self.interpret(events, false);
                }
                Ok(None) => {
                    self.at_eof = true;
                    let events = self.decoder.finish();
                    self.interpret(events, true);
                    if !self.queue.iter().any(Result::is_err) {
                        match self.parser.on_eof() {
                            Ok(evs) => self.queue.extend(evs.into_iter().map(Ok)),
                            Err(e) => self.queue.push_back(Err(e)),
                        }
                    }
                }
            }
        }
    }

    /// Runs decoded events through the parser, queueing up to the first error.
    fn interpret(&mut self, events: Result<Vec<super::SseEvent>, Error>, flushed_at_eof: bool) {
        let events = match events {
            Ok(evs) => evs,
            Err(e) => {
                self.queue.push_back(Err(e));
                return;
            }
        };
        for ev in &events {
            let result = if flushed_at_eof {
                self.parser.on_final_event(ev)
            } else {
                self.parser.on_event(ev)
            };
            match result {
                Ok(out) => self.queue.extend(out.into_iter().map(Ok)),
                Err(e) => {
                    self.queue.push_back(Err(e));
                    return;
                }
            }
        }
    }

    fn idle_error(&self) -> Error {
        Error::Timeout(format!(
            "nothing arrived for {} seconds",
            self.idle_timeout.as_secs_f32()
        ))
    }

    /// Reads at most [`MAX_ERROR_BODY`] of an error response, each wait bounded.
    async fn read_error(&mut self, status: u16, retry_after: Option<&str>) -> Error {
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match tokio::time::timeout(self.idle_timeout, self.body.next()).await {
                Ok(Some(Ok(chunk))) => {
                    let room = MAX_ERROR_BODY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                // A body cut short still tells us the status: map what arrived.
                Ok(Some(Err(_))) | Ok(None) | Err(_) => break,
            }
        }
        error_from_response(status, retry_after, &body)
    }
}

/// reqwest's message and its causes, without the URL (it may hold a key).
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    redact_secrets(&text)
}
