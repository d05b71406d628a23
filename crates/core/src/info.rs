//! What the About box and `confab info` show.

use serde::{Deserialize, Serialize};

use crate::store::{LibraryCounts, Store};
use crate::{Result, VERSION};

/// Version, where the data lives, schema version and what the library holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// Confab's version.
    pub version: String,
    /// The data folder.
    pub data_dir: String,
    /// The database file.
    pub database_path: String,
    /// The schema version of the open database.
    pub schema_version: u32,
    /// How much the library holds.
    pub counts: LibraryCounts,
}

impl AppInfo {
    /// Reads the facts from an open store.
    pub async fn gather(store: &Store) -> Result<AppInfo> {
        let path = store.path();
        Ok(AppInfo {
            version: VERSION.to_owned(),
            data_dir: path
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            database_path: path.display().to_string(),
            schema_version: u32::try_from(store.schema_version().await?).unwrap_or(u32::MAX),
            counts: store.counts().await?,
        })
    }
}
