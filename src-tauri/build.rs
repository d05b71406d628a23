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
    "list_world_books",
    "get_world_book",
    "create_world_book",
    "update_world_book",
    "delete_world_book",
    "save_entries",
    "add_entry",
    "delete_entries",
    "set_entries_enabled",
    "set_world_book_global",
    "attach_world_book",
    "detach_world_book",
    "character_world_books",
    "export_world_book",
    "test_activation",
    "get_dictionary",
    "set_dictionary",
    "import_world_book",
];

fn main() {
    // With an app manifest, a command not granted in capabilities/ is refused.
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("failed to run the Tauri build script");
}
