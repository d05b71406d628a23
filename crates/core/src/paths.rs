//! Where Confab keeps its data.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The app's identifier; must equal `identifier` in tauri.conf.json.
pub const APP_IDENTIFIER: &str = "app.confab.desktop";

/// Environment variable that overrides the data folder (the app and the CLI alike).
pub const DATA_DIR_ENV: &str = "CONFAB_DATA_DIR";

/// The data folder: `$CONFAB_DATA_DIR` if set, else the platform's app-data
/// folder for [`APP_IDENTIFIER`] (the same folder Tauri's `app_data_dir` gives).
pub fn data_dir() -> Result<PathBuf> {
    resolve_data_dir(
        std::env::var_os(DATA_DIR_ENV).map(PathBuf::from),
        dirs::data_dir(),
    )
}

/// [`data_dir`] without the environment, for tests.
pub fn resolve_data_dir(
    override_dir: Option<PathBuf>,
    platform_data_dir: Option<PathBuf>,
) -> Result<PathBuf> {
    match override_dir.filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => absolute(&dir),
        None => platform_data_dir
            .map(|base| base.join(APP_IDENTIFIER))
            .ok_or_else(|| {
                Error::Internal(format!(
                    "this system has no app-data folder; set {DATA_DIR_ENV} to choose one"
                ))
            }),
    }
}

fn absolute(dir: &Path) -> Result<PathBuf> {
    std::path::absolute(dir).map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_wins_and_is_made_absolute() {
        let dir =
            resolve_data_dir(Some("rel/data".into()), Some("/home/u/.local/share".into())).unwrap();
        assert!(dir.is_absolute());
        assert!(dir.ends_with("rel/data"));
    }

    #[test]
    fn an_empty_override_is_ignored() {
        let dir = resolve_data_dir(Some("".into()), Some("/home/u/.local/share".into())).unwrap();
        assert_eq!(
            dir,
            PathBuf::from("/home/u/.local/share/app.confab.desktop")
        );
    }

    #[test]
    fn no_platform_folder_and_no_override_is_a_clear_error() {
        let err = resolve_data_dir(None, None).unwrap_err();
        assert!(err.to_string().contains(DATA_DIR_ENV));
    }
}
