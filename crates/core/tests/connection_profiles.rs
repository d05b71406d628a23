//! Connection profiles and pins on a real SQLite file: a chat's profile wins
//! over its own provider and model, a character's pinned profile serves its
//! chats that chose nothing, the profile's samplers lie over the provider's
//! in the request that leaves, and the instruct template's precedence.

mod chat_engine_support;
mod chat_support;
mod http_support;

use chat_engine_support::quick;
use chat_support::*;
use confab_core::connection::{
    self, instruct_in_force, overlay, CharacterPins, ChoiceSource, ConnectionProfile,
    InstructChoice,
};
use confab_core::llm::{GenerationSettings, ProviderConfig, ProviderKind};
use confab_core::providers::session_model;
use confab_core::session::turn::turn_target;
use confab_core::ErrorCode;

fn profile(name: &str, provider_id: &str) -> ConnectionProfile {
    ConnectionProfile {
        id: String::new(),
        name: name.into(),
        provider_id: provider_id.into(),
        model: None,
        instruct: None,
        context_template: None,
        generation: GenerationSettings::default(),
    }
}

#[tokio::test]
async fn a_chats_profile_chooses_provider_model_and_samplers_for_the_request_that_leaves() {
    let server = Server::start(reply_script(&["Hi."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    // The provider's own settings, and a second provider the profile does not use.
    let mut provider = f.provider.clone();
    provider.generation.temperature = Some(0.5);
    provider.generation.top_p = Some(0.9);
    provider.generation.max_tokens = Some(64);
    f.store.save_provider(&provider).await.unwrap();

    let mut warm = profile("  Warm  ", &provider.id);
    warm.model = Some("profile-model".into());
    warm.generation.temperature = Some(1.2);
    warm.generation.seed = Some(7);
    let warm = connection::save_profile(&f.store, warm).await.unwrap();
    assert_eq!(warm.name, "Warm", "trimmed");
    assert!(!warm.id.is_empty(), "given an id");

    connection::use_profile(&f.store, &f.session, Some(&warm.id))
        .await
        .unwrap();
    let chosen = session_model(&f.store, &f.session).await.unwrap();
    assert_eq!(chosen.model, "profile-model");
    assert_eq!(chosen.profile_name.as_deref(), Some("Warm"));
    assert_eq!(chosen.profile_source, Some(ChoiceSource::Chat));

    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Hello", &[], sink.clone())
        .await
        .unwrap();
    sink.terminal().await;
    let body = server.last_body();
    assert_eq!(body["model"], "profile-model");
    assert_eq!(
        body["temperature"].as_f64().map(|t| (t * 10.0).round()),
        Some(12.0)
    );
    assert_eq!(
        body["top_p"].as_f64().map(|t| (t * 10.0).round()),
        Some(9.0),
        "the provider's, kept"
    );
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["seed"], 7);

    // Choosing a model in the chat lets the profile go: the newer choice wins.
    confab_core::providers::set_session_model(
        &f.store,
        &f.session,
        Some(provider.id.clone()),
        Some("own-model".into()),
    )
    .await
    .unwrap();
    let chosen = session_model(&f.store, &f.session).await.unwrap();
    assert_eq!(
        (chosen.model.as_str(), chosen.profile_id),
        ("own-model", None)
    );
}

#[tokio::test]
async fn a_characters_pinned_profile_serves_its_chats_that_chose_nothing() {
    let server = Server::start(reply_script(&["Hi."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let mut pinned = profile("Pinned", &f.provider.id);
    pinned.model = Some("pinned-model".into());
    let pinned = connection::save_profile(&f.store, pinned).await.unwrap();
    let other = connection::save_profile(&f.store, profile("Other", &f.provider.id))
        .await
        .unwrap();

    let pins = connection::pin_character(
        &f.store,
        &f.character,
        CharacterPins {
            profile_id: Some(pinned.id.clone()),
            instruct: Some(" Mistral V7 ".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(pins.instruct.as_deref(), Some("Mistral V7"));
    let chosen = session_model(&f.store, &f.session).await.unwrap();
    assert_eq!(chosen.model, "pinned-model");
    assert_eq!(chosen.profile_source, Some(ChoiceSource::Character));
    let target = turn_target(&f.store, &f.session).await.unwrap();
    assert_eq!(
        target.config.unwrap().instruct,
        InstructChoice::Named {
            name: "Mistral V7".into()
        }
    );
    assert_eq!(target.instruct_source, ChoiceSource::Character);

    // The chat's own profile wins over the pin.
    connection::use_profile(&f.store, &f.session, Some(&other.id))
        .await
        .unwrap();
    let chosen = session_model(&f.store, &f.session).await.unwrap();
    assert_eq!(chosen.profile_name.as_deref(), Some("Other"));
    assert_eq!(chosen.model, "test-model", "the provider's default model");

    // A deleted profile: the chat falls back to the pin, then to the default.
    f.store.delete_profile(&other.id).await.unwrap();
    let chosen = session_model(&f.store, &f.session).await.unwrap();
    assert_eq!(chosen.profile_name.as_deref(), Some("Pinned"));
    f.store.delete_profile(&pinned.id).await.unwrap();
    let chosen = session_model(&f.store, &f.session).await.unwrap();
    assert_eq!(
        (chosen.profile_id, chosen.model.as_str()),
        (None, "test-model")
    );
    assert_eq!(
        f.store.character_pins(&f.character).await.unwrap(),
        CharacterPins {
            profile_id: None,
            instruct: Some("Mistral V7".into())
        },
        "the template pin stays"
    );
}

#[tokio::test]
async fn profiles_refuse_a_taken_name_an_unknown_provider_and_samplers_out_of_range() {
    let server = Server::start(reply_script(&["Hi."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    connection::save_profile(&f.store, profile("One", &f.provider.id))
        .await
        .unwrap();
    let taken = connection::save_profile(&f.store, profile("One", &f.provider.id)).await;
    assert_eq!(taken.unwrap_err().code(), ErrorCode::InvalidInput);
    let unknown = connection::save_profile(&f.store, profile("Two", "no-such-provider")).await;
    assert_eq!(unknown.unwrap_err().code(), ErrorCode::NotFound);
    let mut hot = profile("Hot", &f.provider.id);
    hot.generation.temperature = Some(9.0);
    let hot = connection::save_profile(&f.store, hot).await;
    assert_eq!(hot.unwrap_err().code(), ErrorCode::InvalidInput);
    let empty = connection::save_profile(&f.store, profile("   ", &f.provider.id)).await;
    assert_eq!(empty.unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(
        f.store.profiles().await.unwrap().len(),
        1,
        "nothing else saved"
    );
    let unknown_chat = connection::use_profile(&f.store, "no-such-chat", None).await;
    assert_eq!(unknown_chat.unwrap_err().code(), ErrorCode::NotFound);
}

#[test]
fn the_instruct_template_comes_from_the_pin_then_the_profile_then_the_provider() {
    let named = |n: &str| InstructChoice::Named { name: n.into() };
    let mut p = ConnectionProfile {
        id: "p".into(),
        name: "P".into(),
        provider_id: "x".into(),
        model: None,
        instruct: Some(named("Gemma 2")),
        context_template: None,
        generation: GenerationSettings::default(),
    };
    let pinned = CharacterPins {
        profile_id: None,
        instruct: Some("Alpaca".into()),
    };
    let none = CharacterPins::default();
    assert_eq!(
        instruct_in_force(&pinned, Some(&p), &named("ChatML")),
        (named("Alpaca"), ChoiceSource::Character)
    );
    assert_eq!(
        instruct_in_force(&none, Some(&p), &named("ChatML")),
        (named("Gemma 2"), ChoiceSource::Profile)
    );
    p.instruct = None;
    assert_eq!(
        instruct_in_force(&none, Some(&p), &named("ChatML")),
        (named("ChatML"), ChoiceSource::Provider)
    );
    assert_eq!(
        instruct_in_force(&none, None, &InstructChoice::Auto),
        (InstructChoice::Auto, ChoiceSource::Default)
    );
}

#[test]
fn a_profiles_samplers_lie_over_the_providers_and_leave_the_rest() {
    let mut base = ProviderConfig::new(ProviderKind::KoboldCpp, "K").generation;
    base.temperature = Some(0.7);
    base.top_k = Some(40);
    base.stop = vec!["\nUser:".into()];
    let mut over = GenerationSettings {
        temperature: Some(1.1),
        min_p: Some(0.05),
        ..Default::default()
    };
    let merged = overlay(&base, &over);
    assert_eq!(merged.temperature, Some(1.1));
    assert_eq!(merged.min_p, Some(0.05));
    assert_eq!(merged.top_k, Some(40));
    assert_eq!(
        merged.stop,
        ["\nUser:"],
        "no stop strings of its own: the provider's"
    );
    over.stop = vec!["</s>".into()];
    assert_eq!(overlay(&base, &over).stop, ["</s>"]);
}

#[tokio::test]
async fn sillytavern_templates_import_shadow_a_preset_export_and_delete() {
    use confab_core::connection::{
        delete_template, export_template, import_templates, template_catalog, TemplateKind,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = confab_core::store::Store::open(dir.path()).await.unwrap();
    let catalog = template_catalog(&store).await.unwrap();
    assert!(catalog
        .iter()
        .any(|t| t.kind == TemplateKind::Instruct && t.name == "ChatML" && t.builtin && !t.saved));
    assert!(catalog.iter().any(|t| t.kind == TemplateKind::Context));

    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/st_templates");
    let mut imported = Vec::new();
    for file in [
        "instruct-chatml-current.json",
        "context-llama3-in-chat.json",
    ] {
        let json = std::fs::read_to_string(fixtures.join(file)).unwrap();
        imported.extend(import_templates(&store, &json).await.unwrap());
    }
    assert_eq!(imported.len(), 2);
    assert_eq!(imported[0].kind, TemplateKind::Instruct);
    assert_eq!(imported[1].kind, TemplateKind::Context);
    assert!(imported.iter().all(|t| t.saved));

    // Exported and imported again, the same template.
    let name = imported[0].name.clone();
    let exported = export_template(&store, TemplateKind::Instruct, &name)
        .await
        .unwrap();
    let again = import_templates(&store, &exported).await.unwrap();
    assert_eq!(again[0].name, name);
    assert_eq!(
        export_template(&store, TemplateKind::Instruct, &name)
            .await
            .unwrap(),
        exported,
        "a round trip changes nothing"
    );
    // A preset exports too; an unknown name does not.
    assert!(export_template(&store, TemplateKind::Context, "Default")
        .await
        .unwrap()
        .contains("story_string"));
    let missing = export_template(&store, TemplateKind::Instruct, "Nope").await;
    assert_eq!(missing.unwrap_err().code(), ErrorCode::NotFound);

    // Hostile and wrong files: typed errors, nothing saved.
    let before = template_catalog(&store).await.unwrap();
    for bad in [
        "not json",
        "{\"name\":\"x\"}",
        "[1,2,3]",
        &format!(
            "{{\"name\":\"big\",\"input_sequence\":\"{}\"}}",
            "a".repeat(400_000)
        ),
    ] {
        let err = import_templates(&store, bad).await.unwrap_err();
        assert!(
            matches!(err.code(), ErrorCode::InvalidInput | ErrorCode::TooLarge),
            "{err}"
        );
    }
    assert_eq!(template_catalog(&store).await.unwrap(), before);

    delete_template(&store, TemplateKind::Instruct, &name)
        .await
        .unwrap();
    let gone = delete_template(&store, TemplateKind::Instruct, &name).await;
    assert_eq!(gone.unwrap_err().code(), ErrorCode::NotFound);
}
