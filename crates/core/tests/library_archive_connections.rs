//! Connection profiles, saved templates and characters' pins travel in a
//! whole-library archive: added where the library lacks them, never
//! overwriting its own, a profile following its provider, a chat keeping its
//! profile.

use std::path::Path;

use confab_core::card::Limits;
use confab_core::chat::Quiet;
use confab_core::connection::{self, CharacterPins, ConnectionProfile, InstructChoice};
use confab_core::library::archive::{export_library, import_library, ArchiveLimits, ImportChoices};
use confab_core::library::{import_bytes, ImportStatus};
use confab_core::llm::{GenerationSettings, ProviderConfig, ProviderKind};
use confab_core::store::Store;

const T0: i64 = 1_764_000_000_000;

async fn import_card(store: &Store, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cards")
        .join(name);
    let outcome = import_bytes(
        store,
        name,
        std::fs::read(path).unwrap(),
        &Limits::default(),
    )
    .await;
    assert_ne!(outcome.status, ImportStatus::Failed, "{outcome:?}");
    outcome.character_id.unwrap()
}

fn profile(name: &str, provider_id: &str, temperature: f32) -> ConnectionProfile {
    ConnectionProfile {
        id: String::new(),
        name: name.into(),
        provider_id: provider_id.into(),
        model: Some("m".into()),
        instruct: Some(InstructChoice::Named {
            name: "Alpaca".into(),
        }),
        context_template: None,
        generation: GenerationSettings {
            temperature: Some(temperature),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn profiles_templates_and_pins_are_added_where_missing_and_never_overwrite() {
    let from = tempfile::tempdir().unwrap();
    let a = Store::open(from.path()).await.unwrap();
    let seraphina = import_card(&a, "v2_png__st_default_Seraphina_2024.png").await;
    let kobold = a
        .save_provider(&ProviderConfig::new(ProviderKind::KoboldCpp, "Kobold"))
        .await
        .unwrap();
    let warm = connection::save_profile(&a, profile("Warm", &kobold.id, 1.1))
        .await
        .unwrap();
    let shared = connection::save_profile(&a, profile("Shared", &kobold.id, 0.3))
        .await
        .unwrap();
    let session = a.create_session(&seraphina, None, "T").await.unwrap();
    connection::use_profile(&a, &session, Some(&warm.id))
        .await
        .unwrap();
    connection::pin_character(
        &a,
        &seraphina,
        CharacterPins {
            profile_id: Some(warm.id.clone()),
            instruct: Some("Alpaca".into()),
        },
    )
    .await
    .unwrap();
    a.save_template(
        "instruct",
        "Mine",
        "{\"name\":\"Mine\",\"input_sequence\":\"A\"}",
    )
    .await
    .unwrap();
    a.save_template(
        "instruct",
        "Both",
        "{\"name\":\"Both\",\"input_sequence\":\"from the archive\"}",
    )
    .await
    .unwrap();
    let archive = from.path().join("library.confab");
    export_library(&a, &archive, T0).await.unwrap();

    // The other library has its own "Shared" profile and "Both" template.
    let to = tempfile::tempdir().unwrap();
    let b = Store::open(to.path()).await.unwrap();
    let local = b
        .save_provider(&ProviderConfig::new(ProviderKind::LlamaCpp, "Here"))
        .await
        .unwrap();
    let own = connection::save_profile(&b, profile("Shared", &local.id, 0.9))
        .await
        .unwrap();
    b.save_template(
        "instruct",
        "Both",
        "{\"name\":\"Both\",\"input_sequence\":\"here\"}",
    )
    .await
    .unwrap();
    import_library(
        &b,
        &Quiet::sole(b.path()).unwrap(),
        &archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap();

    let profiles = b.profiles().await.unwrap();
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["Shared", "Warm"],
        "the archive's Shared is not taken over"
    );
    assert_eq!(profiles[0], own);
    let brought = &profiles[1];
    assert_eq!(brought.id, warm.id);
    assert_eq!(brought.generation.temperature, Some(1.1));
    b.provider(&brought.provider_id).await.unwrap();
    // The chat and the character keep their profile; the templates the library lacked arrive.
    assert_eq!(
        b.session_profile(&session).await.unwrap(),
        Some(warm.id.clone())
    );
    let pins = b.character_pins(&seraphina).await.unwrap();
    assert_eq!(pins.profile_id, Some(warm.id.clone()));
    assert_eq!(pins.instruct.as_deref(), Some("Alpaca"));
    assert!(b
        .saved_template("instruct", "Mine")
        .await
        .unwrap()
        .is_some());
    assert!(b
        .saved_template("instruct", "Both")
        .await
        .unwrap()
        .unwrap()
        .json
        .contains("here"));
    let _ = shared;
    a.close().await;
    b.close().await;
}
