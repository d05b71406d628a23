//! Where progress and stream events go: a Tauri channel in the app, stdout in the CLI.

/// Receives events in order. Sending never fails from the sender's point of
/// view: a receiver that went away (a closed window) simply stops listening.
pub trait Sink<T>: Send + Sync {
    /// Delivers one event.
    fn send(&self, event: T);
}

/// A sink that drops everything, for callers that do not watch progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl<T> Sink<T> for Discard {
    fn send(&self, _event: T) {}
}

/// A sink that keeps everything, for tests.
#[derive(Debug)]
pub struct Collect<T>(pub std::sync::Mutex<Vec<T>>);

impl<T> Default for Collect<T> {
    fn default() -> Self {
        Collect(std::sync::Mutex::new(Vec::new()))
    }
}

impl<T: Send> Sink<T> for Collect<T> {
    fn send(&self, event: T) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }
}

impl<T: Clone> Collect<T> {
    /// Everything received so far.
    pub fn events(&self) -> Vec<T> {
        self.0.lock().map(|e| e.clone()).unwrap_or_default()
    }
}
