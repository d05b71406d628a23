//! Build script: declares Confab's commands so the ACL can grant them one by one.

/// Every command the shell registers; each gets `allow-<name>` for capabilities/.
const COMMANDS: &[&str] = &[
    "app_info",
    "get_settings",
    "set_settings",
    "list_characters",
    "library_facets",
    "get_character",
    "update_character",
    "delete_character",
    "replace_character",
    "import_paths",
    "import_file",
    "export_character",
];

fn main() {
    // With an app manifest, a command not granted in capabilities/ is refused.
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("failed to run the Tauri build script");
}
