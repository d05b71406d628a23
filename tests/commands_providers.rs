//! Providers and keys through the IPC commands on Tauri's mock runtime: the
//! key never comes back, and without a keyring the user chooses a visible fallback.

mod support;

use confab_app::AppState;
use serde_json::json;
use support::{app_with, invoke};

/// A keyring that never answers, as on a Linux box without a Secret Service.
#[derive(Debug)]
struct NoKeyring;

impl confab_core::secrets::SecretStore for NoKeyring {
    fn get(&self, _: &str) -> confab_core::Result<Option<String>> {
        Err(confab_core::Error::KeyringUnavailable(
            "no Secret Service".into(),
        ))
    }
    fn set(&self, _: &str, _: &str) -> confab_core::Result<()> {
        Err(confab_core::Error::KeyringUnavailable(
            "no Secret Service".into(),
        ))
    }
    fn delete(&self, _: &str) -> confab_core::Result<()> {
        Err(confab_core::Error::KeyringUnavailable(
            "no Secret Service".into(),
        ))
    }
}

const IPC_KEY: &str = "sk-ipc-secret-0123456789abcdef";

#[test]
fn providers_and_keys_through_ipc_never_carry_the_key_back() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::with_keys(
        Ok(dir.path().to_owned()),
        confab_core::secrets::Keys::in_memory,
    );
    let (_app, window) = app_with(state);

    let config = invoke(
        &window,
        "new_provider",
        json!({"kind": "openRouter", "name": "OpenRouter"}),
    )
    .unwrap();
    assert_eq!(
        config["extraHeaders"]["X-Title"], "Confab",
        "OpenRouter's attribution headers"
    );
    let saved = invoke(&window, "save_provider", json!({"config": config})).unwrap();
    let id = saved["config"]["id"].as_str().unwrap().to_owned();
    assert_eq!(saved["key"], json!({"set": false, "storage": null}));
    assert_eq!(
        saved["isDefault"], true,
        "the first provider is the default"
    );

    let status = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "keyring"}),
    )
    .unwrap();
    assert_eq!(status, json!({"set": true, "storage": "keyring"}));
    let list = invoke(&window, "list_providers", json!({})).unwrap();
    assert_eq!(list[0]["key"], json!({"set": true, "storage": "keyring"}));
    for response in [&status, &list] {
        assert!(!response.to_string().contains("0123456789abcdef"));
    }

    let status = invoke(&window, "delete_api_key", json!({"providerId": id})).unwrap();
    assert_eq!(status, json!({"set": false, "storage": null}));
    // No key: testing it asks nobody and says what is wrong.
    let err = invoke(&window, "test_api_key", json!({"providerId": id})).unwrap_err();
    assert_eq!(err["code"], "unauthorized");
}

#[test]
fn without_a_keyring_the_user_chooses_a_visible_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::with_keys(Ok(dir.path().to_owned()), |store| {
        confab_core::secrets::Keys::new(std::sync::Arc::new(NoKeyring), store, None)
    });
    let (_app, window) = app_with(state);
    let config = invoke(
        &window,
        "new_provider",
        json!({"kind": "openAi", "name": "OpenAI"}),
    )
    .unwrap();
    let id = invoke(&window, "save_provider", json!({"config": config})).unwrap()["config"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let options = invoke(&window, "key_storage_options", json!({})).unwrap();
    assert_eq!(options, json!({"keyring": false, "encrypted": false}));
    let err = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "keyring"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "keyring_unavailable");
    assert!(!err.to_string().contains("0123456789abcdef"));
    // Nothing was kept anywhere.
    let list = invoke(&window, "list_providers", json!({})).unwrap();
    assert_eq!(list[0]["key"]["set"], false);

    let err = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "encrypted"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("CONFAB_ENCRYPTION_KEY"));

    let status = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "session"}),
    )
    .unwrap();
    assert_eq!(status, json!({"set": true, "storage": "session"}));
}
