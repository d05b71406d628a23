//! The IPC commands: each a few lines that call confab-core.

mod app;
mod library;
mod lore;
mod sessions;

pub use app::*;
pub use library::*;
pub use lore::*;
pub use sessions::*;

use confab_core::sink::Sink;
use tauri::ipc::Channel;

/// Adapts a Tauri channel to the core's [`Sink`].
pub(crate) struct ChannelSink<T: tauri::ipc::IpcResponse>(pub(crate) Channel<T>);

impl<T: tauri::ipc::IpcResponse + Send + Sync> Sink<T> for ChannelSink<T> {
    fn send(&self, event: T) {
        // A closed window stops listening; the work itself carries on.
        let _ = self.0.send(event);
    }
}
