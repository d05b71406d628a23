//! Chats through the IPC commands on Tauri's mock runtime: a reply streaming
//! (busy, stop and all), a chat's own window, and images arriving as raw bytes.

mod support;

use serde_json::{json, Value};
use support::{
    app_set_up_in, chat_with_slow_provider, fixture, invoke, real_config_app, seraphina_chat,
};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

/// Waits until the last message of a session satisfies `done`, returning it.
fn wait_for_last(
    window: &WebviewWindow<MockRuntime>,
    session: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let page = invoke(
            window,
            "get_messages",
            json!({"sessionId": session, "cursor": null, "limit": 10}),
        )
        .unwrap();
        let last = page["messages"]
            .as_array()
            .unwrap()
            .last()
            .cloned()
            .unwrap();
        if done(&last) {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the last message never got there");
}

#[test]
fn a_reply_streams_through_the_commands_busy_stop_and_all() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window, session) = chat_with_slow_provider(
        &dir.path().join("data"),
        40,
        std::time::Duration::from_millis(10),
    );

    let started = invoke(
        &window,
        "send_message",
        json!({"sessionId": session, "text": "Hello there", "imageIds": [], "onEvent": "__CHANNEL__:8"}),
    )
    .unwrap();
    assert_eq!(started["kind"], "send");
    let reply_id = started["assistantMessageId"].as_str().unwrap().to_owned();
    assert!(started["userMessageId"].is_string());
    // While it streams: the session is live, and a second send is busy.
    let live = invoke(&window, "live_sessions", json!({})).unwrap();
    assert_eq!(live["sessionIds"], json!([session]));
    let err = invoke(
        &window,
        "send_message",
        json!({"sessionId": session, "text": "again", "imageIds": [], "onEvent": "__CHANNEL__:9"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "busy");
    // Another window follows it (twice: the second replaces the first's channel).
    for channel in ["__CHANNEL__:11", "__CHANNEL__:12"] {
        let attached = invoke(
            &window,
            "attach_stream",
            json!({"sessionId": session, "windowLabel": "chat-2", "onEvent": channel}),
        )
        .unwrap();
        assert_eq!(attached, true);
    }

    let reply = wait_for_last(&window, &session, |m| m["status"] == "complete");
    assert_eq!(reply["id"], reply_id.as_str());
    assert!(reply["content"].as_str().unwrap().starts_with("w0 w1 "));
    assert_eq!(reply["meta"]["model"], "local-model");
    assert_eq!(reply["meta"]["finishReason"], "stop");

    // A slow one, stopped: the partial reply is kept as cancelled.
    let started = invoke(
        &window,
        "regenerate_reply",
        json!({"sessionId": session, "onEvent": "__CHANNEL__:10"}),
    )
    .unwrap();
    assert_eq!(started["kind"], "regenerate");
    wait_for_last(&window, &session, |m| {
        m["content"].as_str().is_some_and(|c| c.contains("w2 "))
    });
    assert_eq!(
        invoke(&window, "stop_stream", json!({"sessionId": session})).unwrap(),
        true
    );
    let stopped = wait_for_last(&window, &session, |m| m["status"] == "cancelled");
    assert_eq!(stopped["swipeCount"], 2, "regenerate made a swipe");
    assert!(!stopped["content"].as_str().unwrap().contains("w39"));
    // The session is freed just after the final save.
    let mut free = false;
    for _ in 0..100 {
        let live = invoke(&window, "live_sessions", json!({})).unwrap();
        if live["sessionIds"] == json!([]) {
            free = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(free, "the session is free again");
    assert_eq!(
        invoke(&window, "stop_stream", json!({"sessionId": session})).unwrap(),
        false
    );
    let attached = invoke(
        &window,
        "attach_stream",
        json!({"sessionId": session, "windowLabel": null, "onEvent": "__CHANNEL__:13"}),
    )
    .unwrap();
    assert_eq!(attached, false, "nothing streams");
}

#[test]
fn a_chat_opens_in_a_window_of_its_own_once() {
    use tauri::Manager;
    let dir = tempfile::tempdir().unwrap();
    // The window opener is set in the app's setup.
    let (app, window) = app_set_up_in(&dir.path().join("data"));
    let (_, session) = seraphina_chat(&window);

    invoke(&window, "open_chat_window", json!({"sessionId": session})).unwrap();
    let label = format!("chat-{session}");
    assert!(app.get_webview_window(&label).is_some());
    // Asking again brings the same window forward.
    invoke(&window, "open_chat_window", json!({"sessionId": session})).unwrap();
    assert_eq!(app.webview_windows().len(), 2);

    let err = invoke(&window, "open_chat_window", json!({"sessionId": "nope"})).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

/// Sends a file's bytes to a raw command with `headers`, as ui/src/lib/api.ts does.
fn invoke_file(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    headers: &[(&'static str, &str)],
    bytes: Vec<u8>,
) -> Result<Value, Value> {
    let mut map = tauri::http::HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, tauri::http::HeaderValue::from_str(value).unwrap());
    }
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: if cfg!(windows) {
                "http://tauri.localhost"
            } else {
                "tauri://localhost"
            }
            .parse()
            .unwrap(),
            body: InvokeBody::Raw(bytes),
            headers: map,
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

#[test]
fn a_chat_an_attached_image_and_a_persona_avatar_arrive_as_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let card = std::fs::read(fixture("v2_png__st_default_Seraphina_2024.png")).unwrap();
    let outcome = invoke_file(
        &window,
        "import_file",
        &[("x-file-name", "Seraphina.png")],
        card.clone(),
    )
    .unwrap();
    let character = outcome["characterId"].as_str().unwrap().to_owned();

    // A SillyTavern chat with swipes, for that character.
    let chat = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates/core/tests/fixtures/chats/st_chat_swipes__seraphina_backup.jsonl"),
    )
    .unwrap();
    let headers = [
        ("x-file-name", "seraphina%20backup.jsonl"),
        ("x-character-id", character.as_str()),
    ];
    let session = invoke_file(&window, "import_chat", &headers, chat.clone()).unwrap();
    assert_eq!(session["characterId"], character.as_str(), "{session}");
    let page = invoke(
        &window,
        "get_messages",
        json!({"sessionId": session["id"], "cursor": null, "limit": 50}),
    )
    .unwrap();
    assert!(page["messages"].as_array().unwrap().len() > 1, "{page}");
    // Without the character it says what is missing.
    let err = invoke_file(&window, "import_chat", &[("x-file-name", "a.jsonl")], chat).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("x-character-id"));

    // An image for the next message: a real PNG is kept, bytes that are no image are refused.
    let image = invoke_file(
        &window,
        "attach_image",
        &[("x-file-name", "glade.png")],
        card.clone(),
    )
    .unwrap();
    assert!(image["id"].is_string(), "{image}");
    let err = invoke_file(
        &window,
        "attach_image",
        &[("x-file-name", "notes.png")],
        b"not an image".to_vec(),
    )
    .unwrap_err();
    assert!(err["code"].is_string(), "{err}");

    // A persona's avatar.
    let persona = invoke(
        &window,
        "create_persona",
        json!({"name": "Traveller", "description": "Lost in the forest."}),
    )
    .unwrap();
    let id = persona["id"].as_str().unwrap();
    let updated =
        invoke_file(&window, "set_persona_avatar", &[("x-persona-id", id)], card).unwrap();
    assert_eq!(updated["id"], id);
    assert_ne!(updated["avatarKey"], persona["avatarKey"], "{updated}");
}

#[test]
fn a_group_is_made_driven_and_given_a_sillytavern_group_chat_through_the_real_app() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let mut ids = Vec::new();
    for card in [
        "v2_png__st_default_Seraphina_2024.png",
        "v2_png__st_default_CodingSensei.png",
    ] {
        let bytes = std::fs::read(fixture(card)).unwrap();
        let outcome = invoke_file(&window, "import_file", &[("x-file-name", card)], bytes).unwrap();
        ids.push(outcome["characterId"].as_str().unwrap().to_owned());
    }
    let group = invoke(&window, "create_group_chat", json!({"characterIds": ids})).unwrap();
    let session = group["id"].as_str().unwrap().to_owned();
    let state = invoke(
        &window,
        "set_member_presence",
        json!({"sessionId": session, "characterId": ids[1], "presence": "muted"}),
    )
    .unwrap();
    assert_eq!(state["members"][1]["presence"], "muted");
    let state = invoke(
        &window,
        "set_group_settings",
        json!({"sessionId": session, "settings": {"turnOrder": "list", "autoTurns": 3, "cardMode": "speaker"}}),
    )
    .unwrap();
    assert_eq!(state["settings"]["autoTurns"], 3);
    assert_eq!(state["nextSpeaker"], ids[0].as_str());
    let preview = invoke(
        &window,
        "preview_prompt",
        json!({"sessionId": session, "message": "Hi", "imageIds": [], "speakerId": ids[1], "withRequestBody": false}),
    )
    .unwrap();
    assert_eq!(preview["speakerId"], ids[1].as_str());

    // A SillyTavern group chat into a new chat of the same group: speakers by name.
    let chat = [
        r#"{"user_name":"unused","character_name":"unused"}"#,
        r#"{"name":"Coding Sensei","is_user":false,"mes":"Borrow first."}"#,
        r#"{"name":"You","is_user":true,"mes":"Why?"}"#,
    ]
    .join("\n");
    let headers = [
        ("x-file-name", "study.jsonl"),
        ("x-group-session-id", session.as_str()),
    ];
    let imported = invoke_file(&window, "import_chat", &headers, chat.into_bytes()).unwrap();
    let state = invoke(&window, "get_group", json!({"sessionId": imported["id"]})).unwrap();
    assert_eq!(state["isGroup"], true);
    assert_eq!(state["members"][1]["presence"], "muted");
    let page = invoke(
        &window,
        "get_messages",
        json!({"sessionId": imported["id"], "cursor": null, "limit": 10}),
    )
    .unwrap();
    assert_eq!(page["messages"][0]["speakerId"], ids[1].as_str());

    // Removing a member turns the chat back into a 1:1 chat; its messages stay.
    let state = invoke(
        &window,
        "remove_group_member",
        json!({"sessionId": imported["id"], "characterId": ids[1]}),
    )
    .unwrap();
    assert_eq!(state["isGroup"], false);
    let again = invoke(
        &window,
        "get_messages",
        json!({"sessionId": imported["id"], "cursor": null, "limit": 10}),
    )
    .unwrap();
    assert_eq!(again["messages"].as_array().unwrap().len(), 2);
}
