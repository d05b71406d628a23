//! Shared by the `confab` binary's tests: running it on a data folder, reading
//! its JSON output, the fixtures' paths, and a card with notes and examples.
#![allow(dead_code)] // each test binary uses its own part of this

use std::path::Path;
use std::process::{Command, Output};

pub fn confab(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        .output()
        .expect("the confab binary runs")
}

pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/cards")
        .join(name)
}

pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A V2 card as SillyTavern writes it: example dialogue and a Character's note.
pub const NOTED_CARD: &str = r#"{
  "spec": "chara_card_v2", "spec_version": "2.0",
  "data": {
    "name": "Seraphina", "description": "A forest guardian.", "personality": "kind",
    "scenario": "", "first_mes": "You are awake.", "creator_notes": "",
    "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: The glade's keeper.",
    "system_prompt": "", "post_history_instructions": "Stay gentle.",
    "alternate_greetings": [], "tags": ["forest"], "creator": "", "character_version": "",
    "extensions": {"depth_prompt": {"prompt": "{{char}} hides her wound.", "depth": 2, "role": "system"}}
  }
}"#;
