//! The first run: whether the walk-through still has to be shown, and the demo
//! character that ships inside Confab (imported through the normal import path).

use serde::{Deserialize, Serialize};

use crate::card::Limits;
use crate::library::{self, ImportOutcome};
use crate::store::Store;
use crate::Result;

#[cfg(feature = "specta")]
use crate::TsNumber;

/// The demo character's card: a PNG with the card embedded (chara V2 and ccv3),
/// built from `assets/demo/card.json` by `tests/demo_card.rs`, which fails when
/// the two drift apart.
pub const DEMO_CARD_PNG: &[u8] = include_bytes!("../assets/demo/mira-vell.png");

/// The file name the demo card is imported under (what the character page shows).
pub const DEMO_CARD_FILE_NAME: &str = "Mira Vell (Confab demo).png";

/// Environment variable that marks the walk-through as done for this run
/// (`1`): the end-to-end suite uses it for every app that is not testing it.
pub const SKIP_FIRST_RUN_ENV: &str = "CONFAB_SKIP_FIRST_RUN";

/// Whether the first-run walk-through is over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FirstRun {
    /// True once finished or skipped (or for a library that was in use before
    /// the walk-through existed); the UI shows it only while false.
    pub done: bool,
    /// When it was finished or skipped, Unix milliseconds; `None` if never.
    #[cfg_attr(feature = "specta", specta(type = Option<TsNumber>))]
    pub done_at: Option<f64>,
}

/// True when [`SKIP_FIRST_RUN_ENV`] asks to skip the walk-through.
pub fn skipped_by_env() -> bool {
    std::env::var_os(SKIP_FIRST_RUN_ENV).is_some_and(|v| v == "1")
}

/// Whether to show the walk-through. A library that already has characters or
/// providers was set up before: its owner is not walked through an empty-app tour.
pub async fn first_run(store: &Store, skipped_by_env: bool) -> Result<FirstRun> {
    let done_at = store.first_run_done_at().await?;
    let done = done_at.is_some()
        || skipped_by_env
        || store.counts().await?.characters > 0
        || !store.providers().await?.is_empty();
    Ok(FirstRun { done, done_at })
}

/// Records that the walk-through was finished or skipped, so it is not shown again.
pub async fn finish_first_run(store: &Store) -> Result<FirstRun> {
    let done_at = store.set_first_run_done().await?;
    Ok(FirstRun {
        done: true,
        done_at: Some(done_at),
    })
}

/// Imports the demo character from the card inside the app, exactly as if the
/// user had picked the file: its world book, example dialogue, greetings and
/// chat dictionary (pending review) come in the same way. A second call finds
/// it already in the library and says so, with its id.
pub async fn import_demo_character(store: &Store) -> ImportOutcome {
    library::import_bytes(
        store,
        DEMO_CARD_FILE_NAME,
        DEMO_CARD_PNG.to_vec(),
        &Limits::default(),
    )
    .await
}
