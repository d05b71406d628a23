//! Confab's desktop shell: window, state and IPC. The thinking happens in confab-core.

#![warn(missing_docs)]

pub mod avatars;
pub mod commands;
pub mod startup;
pub mod state;

use tauri::{Manager, Runtime};
use tauri_specta::{collect_commands, ErrorHandlingMode};

pub use state::AppState;

/// Which sessions are streaming changed: other windows show them as busy.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, specta::Type, tauri_specta::Event)]
pub struct LiveSessionsChanged(pub confab_core::chat::LiveSessions);

/// A chat's memory changed (a summary written, a passage embedded): its Memory panel reloads.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, specta::Type, tauri_specta::Event)]
pub struct ChatMemoryChanged(pub confab_core::memory::summary::MemoryChanged);

/// What chats reply with may have changed: windows showing an affected chat read its model again.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, specta::Type, tauri_specta::Event)]
pub struct ChatConnectionsChanged(pub confab_core::connection::ConnectionsChanged);

/// Emits a core notice to every window as the event `E` wraps it in.
struct Emitter<R: Runtime, T, E> {
    app: tauri::AppHandle<R>,
    wrap: fn(T) -> E,
}

impl<R: Runtime, T, E> Emitter<R, T, E> {
    fn sink(app: &tauri::AppHandle<R>, wrap: fn(T) -> E) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Emitter {
            app: app.clone(),
            wrap,
        })
    }
}

impl<R, T, E> confab_core::sink::Sink<T> for Emitter<R, T, E>
where
    R: Runtime,
    E: tauri_specta::Event + serde::Serialize + Clone,
{
    fn send(&self, notice: T) {
        // No window listening is fine: a window opened later reads afresh.
        let _ = (self.wrap)(notice).emit(&self.app);
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
            commands::memory_view,
            commands::set_memory_settings,
            commands::edit_summary,
            commands::pin_summary,
            commands::delete_summary,
            commands::regenerate_summary,
            commands::summarize_now,
            commands::add_memory_note,
            commands::delete_memory_note,
            commands::search_memory,
            commands::get_authors_note,
            commands::set_authors_note,
            commands::set_default_authors_note,
            commands::export_session,
            commands::attach_image_path,
            commands::send_message,
            commands::regenerate_reply,
            commands::continue_reply,
            commands::impersonate,
            commands::attach_stream,
            commands::stop_stream,
            commands::get_group,
            commands::create_group_chat,
            commands::add_group_member,
            commands::remove_group_member,
            commands::set_member_presence,
            commands::set_group_settings,
            commands::speak,
            commands::live_sessions,
            commands::list_providers,
            commands::new_provider,
            commands::provider_samplers,
            commands::list_profiles,
            commands::save_profile,
            commands::delete_profile,
            commands::use_profile,
            commands::character_pins,
            commands::pin_character,
            commands::list_templates,
            commands::import_template,
            commands::export_template,
            commands::delete_template,
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
            commands::list_backups,
            commands::create_backup,
            commands::restore_backup,
            commands::get_backup_settings,
            commands::set_backup_settings,
            commands::export_library,
            commands::import_library,
            commands::preview_library_import,
            commands::first_run_status,
            commands::finish_first_run,
            commands::import_demo_character,
        ])
        .events(tauri_specta::collect_events![
            LiveSessionsChanged,
            ChatMemoryChanged,
            ChatConnectionsChanged
        ])
}

/// Writes the TypeScript bindings for every command and type to `path`.
pub fn export_bindings(path: &std::path::Path) -> Result<(), specta_typescript::Error> {
    specta_builder::<tauri::Wry>().export(
        specta_typescript::Typescript::default()
            .header("// Generated from Rust by tauri-specta (`make bindings`). Do not edit.\n"),
        path,
    )
}

/// A command the UI can call, as registered: its IPC name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCommand {
    /// The name the UI invokes.
    pub name: String,
    /// The arguments' Rust names (the UI sends them camelCased); empty for raw-byte commands.
    pub args: Vec<String>,
    /// True for a raw-byte command (body = a file's bytes, details in headers).
    pub raw: bool,
}

/// Every command the shell routes: the typed ones (exactly those in the
/// generated bindings) and the raw-byte ones, read from the same registry the
/// router uses.
pub fn registered_commands() -> Vec<RegisteredCommand> {
    /// Reads the builder's configuration through tauri-specta's exporter hook.
    struct Collect<'a>(&'a mut Vec<RegisteredCommand>);
    impl tauri_specta::LanguageExt for Collect<'_> {
        type Error = std::io::Error;
        fn export(
            self,
            cfg: &tauri_specta::BuilderConfiguration,
            _: &std::path::Path,
        ) -> Result<(), std::io::Error> {
            self.0
                .extend(cfg.commands.iter().map(|f| RegisteredCommand {
                    name: f.name().to_owned(),
                    args: f.args().iter().map(|(name, _)| name.to_string()).collect(),
                    raw: false,
                }));
            Ok(())
        }
    }
    let mut all = Vec::new();
    // Writes nothing: the exporter only collects.
    let _ = specta_builder::<tauri::Wry>().export(Collect(&mut all), std::path::Path::new(""));
    all.extend(commands::RAW_COMMANDS.iter().map(|name| RegisteredCommand {
        name: (*name).to_owned(),
        args: Vec::new(),
        raw: true,
    }));
    all
}

/// Sets up Confab on a builder of any runtime: the real one in [`run`], the mock one in tests.
pub fn app_builder<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let specta = specta_builder::<R>();
    let typed = specta.invoke_handler();
    let raw = commands::raw_handler::<R>();
    builder
        // Native file dialogs (choosing a library archive): Tauri's official
        // plugin, kept by the Tauri team beside the runtime, with each OS's own
        // chooser (GTK on Linux, NSOpenPanel, IFileDialog) and ACL permissions
        // like our commands'; capabilities/ grants only `open`.
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(move |invoke| {
            if commands::RAW_COMMANDS.contains(&invoke.message.command()) {
                raw(invoke)
            } else {
                typed(invoke)
            }
        })
        .register_asynchronous_uri_scheme_protocol(avatars::SCHEME, avatars::handle)
        .register_asynchronous_uri_scheme_protocol(
            avatars::ATTACHMENT_SCHEME,
            avatars::handle_attachment,
        )
        .manage(state.clone())
        .on_page_load(|webview, payload| {
            if webview.label() == "main" {
                startup::step(match payload.event() {
                    tauri::webview::PageLoadEvent::Started => "page-started",
                    tauri::webview::PageLoadEvent::Finished => "page-finished",
                });
            }
        })
        .setup(move |app| {
            specta.mount_events(app);
            state.set_notices(Emitter::sink(app.handle(), LiveSessionsChanged));
            state.set_memory_notices(Emitter::sink(app.handle(), ChatMemoryChanged));
            state.set_connection_notices(Emitter::sink(app.handle(), ChatConnectionsChanged));
            let handle = app.handle().clone();
            state.set_window_opener(std::sync::Arc::new(move |session| {
                open_chat_window(&handle, session)
            }));
            // The windows of tauri.conf.json exist by now (their page may be loading).
            for window in app.webview_windows().values() {
                startup::tune_webview(window);
            }
            startup::step("setup");
            Ok(())
        })
}

/// Confab as it ships: the single-instance guard first (a second launch on
/// the same library hands over to the first and exits), then [`app_builder`].
pub fn desktop_builder<R: Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    #[allow(unused_mut)] // the library-wide name is only chosen on Linux
    let mut guard = tauri_plugin_single_instance::Builder::new()
        .callback(|app, _args, _cwd| show_main_window(app));
    // On Linux the guard is a D-Bus name: one per library, so Confab on another
    // CONFAB_DATA_DIR still opens (Windows and macOS key it by the app's identifier).
    #[cfg(target_os = "linux")]
    if let Ok(dir) = state.data_dir() {
        guard = guard.dbus_id(library_bus_id(dir));
    }
    // The plugin's docs: register it before any other, so that a second
    // instance exits before the rest of the setup runs.
    app_builder(builder.plugin(guard.build()), state)
}

/// The D-Bus name (less the plugin's `.SingleInstance`) of the library in `dir`.
#[cfg(target_os = "linux")]
fn library_bus_id(dir: &std::path::Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    // FNV-1a: a hash that stays the same across builds (std's may not), and
    // keeps the name short and within D-Bus's characters whatever the path.
    let hash = dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{}.Library_{hash:016x}", confab_core::paths::APP_IDENTIFIER)
}

/// Brings the main window forward (a second launch asked for Confab).
fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
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
        .map(|window| startup::tune_webview(&window))
        .map_err(|e| {
            confab_core::AppError::from(confab_core::Error::Internal(format!(
                "could not open a window: {e}"
            )))
        })
}

/// Starts Confab.
pub fn run() {
    startup::prepare_webkit();
    startup::init_log();
    startup::isolate_template_renders();
    startup::step("main");
    let state = AppState::from_env();
    // Open and migrate now, so the first command rarely waits; a failure is
    // kept for the UI to show (the state retries on its next use).
    let warm = state.clone();
    tauri::async_runtime::spawn(async move {
        let _ = warm.store().await;
        // Scheduled backups: checked now and every few minutes, taken when due.
        loop {
            if let Ok(store) = warm.store().await {
                let _ = confab_core::backup::run_if_due(store, confab_core::backup::now_ms()).await;
            }
            tokio::time::sleep(confab_core::backup::CHECK_EVERY).await;
        }
    });
    let app = desktop_builder(tauri::Builder::default(), state)
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Confab could not start: {e}");
            std::process::exit(1);
        });
    app.run(|handle, event| {
        if let tauri::RunEvent::Ready = event {
            startup::step("ready");
        }
        if let tauri::RunEvent::Exit = event {
            // Leave one self-contained database file behind on a clean exit.
            let state = handle.state::<AppState>().inner().clone();
            tauri::async_runtime::block_on(state.close());
        }
    });
}
