//! Connection profiles, pins and the template library through the IPC
//! commands on Tauri's mock runtime (the real command set and builder).

mod support;

use serde_json::json;
use support::{app_in, app_set_up_in, invoke, seraphina_chat};

#[test]
fn profiles_pins_and_templates_through_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(&dir.path().join("data"));
    let mut config = invoke(
        &window,
        "new_provider",
        json!({"kind": "koboldCpp", "name": "KoboldCpp"}),
    )
    .unwrap();
    config["instruct"] = json!({"type": "named", "name": "Alpaca"});
    let provider = invoke(&window, "save_provider", json!({"config": config})).unwrap();
    let provider_id = provider["config"]["id"].as_str().unwrap().to_owned();
    assert_eq!(provider["config"]["instruct"]["name"], "Alpaca");

    let profile = invoke(
        &window,
        "save_profile",
        json!({"profile": {
            "id": "", "name": "Warm Kobold", "providerId": provider_id, "model": null,
            "instruct": {"type": "auto"}, "contextTemplate": null,
            "generation": {"temperature": 1.1, "minP": 0.05},
        }}),
    )
    .unwrap();
    let profile_id = profile["id"].as_str().unwrap().to_owned();
    assert!(!profile_id.is_empty());
    assert_eq!(
        invoke(&window, "list_profiles", json!({})).unwrap()[0]["name"],
        "Warm Kobold"
    );
    let bad = invoke(
        &window,
        "save_profile",
        json!({"profile": {"id": "", "name": "Warm Kobold", "providerId": provider_id}}),
    )
    .unwrap_err();
    assert_eq!(bad["code"], "invalid_input", "{bad}");

    let (character, session) = seraphina_chat(&window);
    let chosen = invoke(
        &window,
        "use_profile",
        json!({"sessionId": session, "profileId": profile_id}),
    )
    .unwrap();
    assert_eq!(chosen["profileName"], "Warm Kobold");
    assert_eq!(chosen["profileSource"], "chat");
    assert_eq!(chosen["providerName"], "KoboldCpp");

    let pins = invoke(
        &window,
        "pin_character",
        json!({"characterId": character, "pins": {"profileId": null, "instruct": "ChatML"}}),
    )
    .unwrap();
    assert_eq!(pins, json!({"profileId": null, "instruct": "ChatML"}));
    assert_eq!(
        invoke(&window, "character_pins", json!({"characterId": character})).unwrap(),
        pins
    );

    // The template library: presets, an imported SillyTavern template, its export, deleting it.
    let templates = invoke(&window, "list_templates", json!({})).unwrap();
    assert!(templates
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "Llama 3 Instruct" || t["name"] == "Llama 3"));
    let st = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates/core/tests/fixtures/st_templates/instruct-chatml-current.json"),
    )
    .unwrap();
    let imported = invoke(&window, "import_template", json!({"json": st})).unwrap();
    assert_eq!(imported[0]["name"], "My ChatML");
    assert_eq!(imported[0]["kind"], "instruct");
    let exported = invoke(
        &window,
        "export_template",
        json!({"kind": "instruct", "name": "My ChatML"}),
    )
    .unwrap();
    assert!(exported.as_str().unwrap().contains("<|im_start|>"));
    invoke(
        &window,
        "delete_template",
        json!({"kind": "instruct", "name": "My ChatML"}),
    )
    .unwrap();
    let refused = invoke(&window, "import_template", json!({"json": "{}"})).unwrap_err();
    assert_eq!(refused["code"], "invalid_input");

    invoke(&window, "delete_profile", json!({"profileId": profile_id})).unwrap();
    let chosen = invoke(
        &window,
        "use_profile",
        json!({"sessionId": session, "profileId": null}),
    )
    .unwrap();
    assert_eq!(chosen["profileName"], json!(null));
}

/// A KoboldCpp stand-in on 127.0.0.1 whose `/v1/models` lists the one model it
/// has loaded, as KoboldCpp's does; its base URL.
fn kobold_listing_one_model() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            // A GET without a body: its head comes in one read on loopback.
            let _ = stream.read(&mut [0u8; 8192]);
            let body =
                r#"{"object":"list","data":[{"id":"koboldcpp/Llama-3.1-8B","object":"model"}]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// Each change to what chats reply with tells every window, so a chat open in
/// another window does not keep a stale header; a refused change tells none.
#[test]
fn changes_to_connections_are_announced_to_every_window() {
    use std::sync::{Arc, Mutex};
    use tauri::Listener;

    let dir = tempfile::tempdir().unwrap();
    let (app, window) = app_set_up_in(&dir.path().join("data"));
    let heard: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let sink = Arc::clone(&heard);
    app.listen_any("chat-connections-changed", move |event| {
        sink.lock()
            .unwrap()
            .push(serde_json::from_str(event.payload()).unwrap());
    });
    let take = || std::mem::take(&mut *heard.lock().unwrap());
    let any = json!({"sessionId": null});

    let mut config = invoke(
        &window,
        "new_provider",
        json!({"kind": "koboldCpp", "name": "KoboldCpp"}),
    )
    .unwrap();
    config["baseUrl"] = json!(kobold_listing_one_model());
    assert_eq!(
        take(),
        Vec::<serde_json::Value>::new(),
        "a blank form changes nothing"
    );
    let provider = invoke(&window, "save_provider", json!({"config": config})).unwrap();
    let provider_id = provider["config"]["id"].as_str().unwrap().to_owned();
    assert_eq!(take(), vec![any.clone()]);
    invoke(
        &window,
        "set_default_provider",
        json!({"providerId": provider_id}),
    )
    .unwrap();
    assert_eq!(take(), vec![any.clone()]);

    let profile = invoke(
        &window,
        "save_profile",
        json!({"profile": {"id": "", "name": "Kobold", "providerId": provider_id, "model": null,
            "instruct": null, "contextTemplate": null, "generation": {}}}),
    )
    .unwrap();
    let profile_id = profile["id"].as_str().unwrap().to_owned();
    assert_eq!(take(), vec![any.clone()]);
    let refused = invoke(
        &window,
        "save_profile",
        json!({"profile": {"id": "", "name": "  ", "providerId": provider_id}}),
    );
    assert!(refused.is_err());
    assert_eq!(
        take(),
        Vec::<serde_json::Value>::new(),
        "a refused save tells no one"
    );

    let (character, session) = seraphina_chat(&window);
    assert_eq!(
        take(),
        Vec::<serde_json::Value>::new(),
        "importing and opening a chat changes no connection"
    );
    let one = json!({"sessionId": session});
    invoke(
        &window,
        "use_profile",
        json!({"sessionId": session, "profileId": profile_id}),
    )
    .unwrap();
    assert_eq!(take(), vec![one.clone()]);
    invoke(
        &window,
        "set_session_model",
        json!({"sessionId": session, "providerId": null, "model": "other.gguf"}),
    )
    .unwrap();
    assert_eq!(take(), vec![one.clone()]);
    // Back to the server's own model: once listed, every window can name it.
    invoke(
        &window,
        "set_session_model",
        json!({"sessionId": session, "providerId": null, "model": null}),
    )
    .unwrap();
    assert_eq!(take(), vec![one]);
    invoke(
        &window,
        "refresh_models",
        json!({"providerId": provider_id}),
    )
    .unwrap();
    assert_eq!(take(), vec![any.clone()]);
    let shown = invoke(&window, "get_session_model", json!({"sessionId": session})).unwrap();
    assert_eq!(shown["serverModel"], true);
    assert_eq!(shown["loadedModel"], "koboldcpp/Llama-3.1-8B");
    let refused = invoke(&window, "refresh_models", json!({"providerId": "nope"}));
    assert!(refused.is_err());
    assert_eq!(
        take(),
        Vec::<serde_json::Value>::new(),
        "a failed refresh tells no one"
    );
    invoke(
        &window,
        "pin_character",
        json!({"characterId": character, "pins": {"profileId": profile_id, "instruct": null}}),
    )
    .unwrap();
    assert_eq!(take(), vec![any.clone()]);
    invoke(&window, "delete_profile", json!({"profileId": profile_id})).unwrap();
    assert_eq!(take(), vec![any.clone()]);
    invoke(
        &window,
        "delete_provider",
        json!({"providerId": provider_id}),
    )
    .unwrap();
    assert_eq!(take(), vec![any]);
}
