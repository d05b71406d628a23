//! Confab's desktop shell: window, state and IPC. The thinking happens in confab-core.

#![warn(missing_docs)]

pub mod avatars;
pub mod commands;
pub mod state;

use tauri::{Manager, Runtime};
use tauri_specta::{collect_commands, ErrorHandlingMode};

pub use state::AppState;

/// Which sessions are streaming changed: other windows show them as busy.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, specta::Type, tauri_specta::Event)]
pub struct LiveSessionsChanged(pub confab_core::chat::LiveSessions);

/// Emits [`LiveSessionsChanged`] for the engine's notices.
struct LiveSessionsEmitter<R: Runtime>(tauri::AppHandle<R>);

impl<R: Runtime> confab_core::sink::Sink<confab_core::chat::LiveSessions>
    for LiveSessionsEmitter<R>
{
    fn send(&self, event: confab_core::chat::LiveSessions) {
        use tauri_specta::Event as _;
        // No window listening is fine: the next one asks for the list.
        let _ = LiveSessionsChanged(event).emit(&self.0);
    }
}

/// Where the generated TypeScript bindings live, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

/// The typed command set, shared by the app, the mock-runtime tests and the bindings export.
pub fn specta_builder<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .error_handling(ErrorHandlingMode::Result)
        .disable_serde_phases()
        .commands(collect_commands![
            commands::app_info,
            commands::get_settings,
            commands::set_settings,
            commands::list_characters,
            commands::library_facets,
            commands::get_character,
            commands::update_character,
            commands::delete_character,
            commands::replace_character,
            commands::import_paths,
            commands::export_character,
            commands::list_world_books,
            commands::get_world_book,
            commands::create_world_book,
            commands::update_world_book,
            commands::delete_world_book,
            commands::save_entries,
            commands::add_entry,
            commands::delete_entries,
            commands::set_entries_enabled,
            commands::set_world_book_global,
            commands::attach_world_book,
            commands::detach_world_book,
            commands::character_world_books,
            commands::export_world_book,
            commands::test_activation,
            commands::get_dictionary,
            commands::set_dictionary,
            commands::display_texts,
            commands::check_dictionary,
            commands::list_sessions,
            commands::open_or_create_session,
            commands::create_session,
            commands::get_messages,
            commands::add_message,
            commands::edit_message,
            commands::message_versions,
            commands::delete_message,
            commands::select_swipe,
            commands::branch_session,
            commands::rename_session,
            commands::archive_session,
            commands::delete_session,
            commands::search_messages,
            commands::list_personas,
            commands::create_persona,
            commands::update_persona,
            commands::delete_persona,
            commands::set_default_persona,
            commands::set_session_persona,
            commands::get_preferences,
            commands::set_preferences,
            commands::delete_preferences,
            commands::get_primary_context,
            commands::save_primary_context,
            commands::list_context_versions,
            commands::restore_context_version,
            commands::set_post_history,
            commands::preview_prompt,
            commands::export_session,
            commands::attach_image_path,
            commands::send_message,
            commands::regenerate_reply,
            commands::continue_reply,
            commands::impersonate,
            commands::attach_stream,
            commands::stop_stream,
            commands::live_sessions,
            commands::list_providers,
            commands::new_provider,
            commands::save_provider,
            commands::delete_provider,
            commands::set_default_provider,
            commands::set_api_key,
            commands::delete_api_key,
            commands::test_api_key,
            commands::key_storage_options,
            commands::get_models,
            commands::refresh_models,
            commands::set_favourite_model,
            commands::find_local_servers,
            commands::get_session_model,
            commands::set_session_model,
            commands::get_usage,
            commands::open_chat_window,
        ])
        .events(tauri_specta::collect_events![LiveSessionsChanged])
}

/// Writes the TypeScript bindings for every command and type to `path`.
pub fn export_bindings(path: &std::path::Path) -> Result<(), specta_typescript::Error> {
    specta_builder::<tauri::Wry>().export(
        specta_typescript::Typescript::default()
            .header("// Generated from Rust by tauri-specta (`make bindings`). Do not edit.\n"),
        path,
    )
}

/// Sets up Confab on a builder of any runtime: the real one in [`run`], the mock one in tests.
pub fn app_builder<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let specta = specta_builder::<R>();
    let typed = specta.invoke_handler();
    // Commands taking raw bytes, which tauri-specta cannot describe: routed by hand.
    let raw: Box<dyn Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync> =
        Box::new(tauri::generate_handler![
            commands::import_file,
            commands::import_world_book
        ]);
    builder
        .invoke_handler(move |invoke| match invoke.message.command() {
            "import_file" | "import_world_book" | "import_chat" | "attach_image"
            | "set_persona_avatar" => raw(invoke),
            _ => typed(invoke),
        })
        .register_asynchronous_uri_scheme_protocol(avatars::SCHEME, avatars::handle)
        .register_asynchronous_uri_scheme_protocol(
            avatars::ATTACHMENT_SCHEME,
            avatars::handle_attachment,
        )
        .manage(state.clone())
        .setup(move |app| {
            specta.mount_events(app);
            state.set_notices(std::sync::Arc::new(LiveSessionsEmitter(
                app.handle().clone(),
            )));
            let handle = app.handle().clone();
            state.set_window_opener(std::sync::Arc::new(move |session| {
                open_chat_window(&handle, session)
            }));
            Ok(())
        })
}

/// Opens `session` in a window of its own, or brings its window forward.
fn open_chat_window<R: Runtime>(
    app: &tauri::AppHandle<R>,
    session: &confab_core::session::SessionSummary,
) -> Result<(), confab_core::AppError> {
    // Session ids are UUIDs: valid in a window label, one window per session.
    let label = format!("chat-{}", session.id);
    if let Some(window) = app.get_webview_window(&label) {
        let _ = window.unminimize();
        let _ = window.set_focus();
        return Ok(());
    }
    let url = tauri::WebviewUrl::App(format!("index.html?session={}", session.id).into());
    tauri::WebviewWindowBuilder::new(app, label, url)
        .title(format!("{} — Confab", session.title))
        .inner_size(980.0, 760.0)
        .min_inner_size(640.0, 480.0)
        .build()
        .map(|_| ())
        .map_err(|e| {
            confab_core::AppError::from(confab_core::Error::Internal(format!(
                "could not open a window: {e}"
            )))
        })
}

/// Starts Confab.
pub fn run() {
    let state = AppState::from_env();
    // Open and migrate now, so the first command rarely waits; a failure is
    // kept for the UI to show (the state retries on its next use).
    let warm = state.clone();
    tauri::async_runtime::spawn(async move {
        let _ = warm.store().await;
    });
    let app = app_builder(tauri::Builder::default(), state)
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Confab could not start: {e}");
            std::process::exit(1);
        });
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            // Leave one self-contained database file behind on a clean exit.
            let state = handle.state::<AppState>().inner().clone();
            tauri::async_runtime::block_on(state.close());
        }
    });
}
