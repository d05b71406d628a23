//! The committed TypeScript bindings match the Rust commands and types.
//!
//! `make bindings` (CONFAB_UPDATE_BINDINGS=1) rewrites them after a change.

use std::path::Path;

#[test]
fn committed_bindings_match_the_rust_commands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed_path = root.join(confab_app::BINDINGS_PATH);
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("bindings.ts");
    confab_app::export_bindings(&fresh_path).expect("bindings export");
    let fresh = std::fs::read_to_string(&fresh_path).unwrap();

    if std::env::var_os("CONFAB_UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is out of date with the Rust commands: run `make bindings` and commit it",
        committed_path.display()
    );
}

#[test]
fn the_app_identifier_matches_the_cores_data_folder_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tauri.conf.json")).unwrap())
            .unwrap();
    assert_eq!(conf["identifier"], confab_core::paths::APP_IDENTIFIER);
    assert_eq!(conf["version"], env!("CARGO_PKG_VERSION"));
}
