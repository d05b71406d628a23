//! Build script: declares Confab's commands so the ACL can grant them one by one.

fn main() {
    // The app manifest makes every command deny-by-default; capabilities/ grants them.
    let manifest =
        tauri_build::AppManifest::new().commands(&["app_info", "get_settings", "set_settings"]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("failed to run the Tauri build script");
}
