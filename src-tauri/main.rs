// No console window behind the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    // Started as a template worker (by this very binary): serve renders, never open a window.
    if let Some(code) = confab_core::template::serve_worker_if_asked() {
        return code;
    }
    confab_app::run();
    std::process::ExitCode::SUCCESS
}
