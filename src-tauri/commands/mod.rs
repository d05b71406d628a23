//! The IPC commands: each a few lines that call confab-core.

mod app;
mod backups;
mod chat;
mod connections;
mod groups;
mod library;
mod lore;
mod memory;
mod onboarding;
mod prompt;
mod providers;
mod sessions;

pub use app::*;
pub use backups::*;
pub use chat::*;
pub use connections::*;
pub use groups::*;
pub use library::*;
pub use lore::*;
pub use memory::*;
pub use onboarding::*;
pub use prompt::*;
pub use providers::*;
pub use sessions::*;

use confab_core::sink::Sink;
use confab_core::{AppError, Error};
use percent_encoding::percent_decode_str;
use tauri::ipc::{Channel, Invoke, InvokeBody, Request};
use tauri::Runtime;

/// Declares the raw-byte commands once: [`RAW_COMMANDS`] (their names, which the
/// router sends to [`raw_handler`]) and the handler itself come from the same list.
macro_rules! raw_commands {
    ($($command:ident),+ $(,)?) => {
        /// The commands taking a file's bytes as the request body, which
        /// tauri-specta cannot describe; ui/src/lib/api.ts wraps them by hand.
        pub const RAW_COMMANDS: &[&str] = &[$(stringify!($command)),+];

        /// The invoke handler for [`RAW_COMMANDS`].
        pub fn raw_handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($command),+]
        }
    };
}

raw_commands![
    import_file,
    import_world_book,
    import_chat,
    attach_image,
    set_persona_avatar,
];

/// Adapts a Tauri channel to the core's [`Sink`].
pub(crate) struct ChannelSink<T: tauri::ipc::IpcResponse>(pub(crate) Channel<T>);

impl<T: tauri::ipc::IpcResponse + Send + Sync> Sink<T> for ChannelSink<T> {
    fn send(&self, event: T) {
        // A closed window stops listening; the work itself carries on.
        let _ = self.0.send(event);
    }
}

/// A header of a raw-bytes command, percent-decoded (the UI encodes file names).
pub(crate) fn header(request: &Request<'_>, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned())
}

/// The bytes of a raw-bytes command, or a typed error naming the command.
pub(crate) fn raw_body<'a>(request: &'a Request<'_>, command: &str) -> Result<&'a [u8], AppError> {
    match request.body() {
        InvokeBody::Raw(bytes) => Ok(bytes),
        _ => Err(AppError::from(Error::InvalidInput(format!(
            "{command} expects the file's bytes as the request body"
        )))),
    }
}
