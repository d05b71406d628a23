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

#[test]
fn each_kind_names_the_samplers_its_backend_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = support::app_in(dir.path());
    let samplers = |kind: &str| {
        let list = invoke(&window, "provider_samplers", json!({"kind": kind})).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let kobold = samplers("koboldCpp");
    for s in [
        "temperature",
        "topK",
        "minP",
        "dry",
        "xtc",
        "mirostat",
        "grammar",
    ] {
        assert!(kobold.contains(&s.to_owned()), "KoboldCpp accepts {s}");
    }
    assert!(!kobold.contains(&"jsonSchema".to_owned()));
    assert!(samplers("llamaCpp").contains(&"jsonSchema".to_owned()));
    let openai = samplers("openAi");
    assert!(openai.contains(&"presencePenalty".to_owned()));
    assert!(!openai.contains(&"topK".to_owned()) && !openai.contains(&"minP".to_owned()));
    assert!(samplers("anthropic").contains(&"topK".to_owned()));
    assert!(!samplers("textCompletions").contains(&"grammar".to_owned()));

    // The samplers are saved under their names, and a value out of range is refused.
    let mut config = invoke(
        &window,
        "new_provider",
        json!({"kind": "koboldCpp", "name": "KoboldCpp"}),
    )
    .unwrap();
    config["generation"]["minP"] = json!(0.05);
    config["generation"]["dry"] =
        json!({"multiplier": 0.8, "base": 1.75, "allowedLength": 2, "sequenceBreakers": ["\n"]});
    let saved = invoke(&window, "save_provider", json!({"config": config.clone()})).unwrap();
    assert_eq!(saved["config"]["kind"], "koboldCpp");
    assert_eq!(saved["config"]["generation"]["dry"]["allowedLength"], 2);
    config["generation"]["minP"] = json!(1.5);
    let err = invoke(&window, "save_provider", json!({"config": config})).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("min-p"));
}
