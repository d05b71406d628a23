//! Connections: which provider, model, instruct template and samplers a chat
//! replies with. A chat may choose a connection profile (from its header) or a
//! provider and model of its own; a character may pin a profile for its chats
//! and an instruct template for its prompts. This module decides what is in
//! force, and says where each choice came from so the UI can show it.

mod model;
mod templates;

pub use model::{
    CharacterPins, ChoiceSource, ConnectionProfile, ConnectionsChanged, InstructChoice,
};
pub use templates::{
    delete_template, export_template, import_templates, template_catalog, TemplateKind,
    TemplateSummary,
};

use serde_json::Value;

use crate::llm::GenerationSettings;
use crate::providers::validate;
use crate::store::Store;
use crate::{Error, Result};

/// The longest profile or template name.
pub const MAX_NAME_CHARS: usize = 80;

/// Checks a profile before it is saved: a name, a known provider, a sane model
/// id, samplers in range (the provider's rules); a fresh id when it has none.
pub async fn save_profile(
    store: &Store,
    mut profile: ConnectionProfile,
) -> Result<ConnectionProfile> {
    profile.name = check_name(&profile.name, "the profile's name")?;
    profile.model = profile
        .model
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    if let Some(m) = &profile.model {
        validate::check_model_id(m, "the profile's model")?;
    }
    if let Some(InstructChoice::Named { name }) = &mut profile.instruct {
        *name = check_name(name, "the profile's instruct template")?;
    }
    validate::check_generation(&mut profile.generation)?;
    if profile.id.trim().is_empty() {
        profile.id = uuid::Uuid::new_v4().to_string();
    }
    store.save_profile(&profile).await
}

/// A name trimmed, not empty, not too long.
pub fn check_name(name: &str, what: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::InvalidInput(format!("{what} is empty")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::InvalidInput(format!(
            "{what} is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// What decides a session's connection, each read once: the chat's own
/// choice of provider and model, its character's pins, and the profile in
/// force with who chose it.
#[derive(Debug, Clone)]
pub struct InForce {
    /// The chat's own provider and model (`None`s: the defaults).
    pub own_choice: (Option<String>, Option<String>),
    /// What the chat's character is pinned to.
    pub pins: CharacterPins,
    /// The profile in force and who chose it.
    pub profile: Option<(ConnectionProfile, ChoiceSource)>,
}

/// Reads what decides a session's connection. The profile in force is the
/// chat's own profile; else none when the chat chose a provider or model
/// itself; else the one its character is pinned to.
pub async fn in_force(store: &Store, session_id: &str) -> Result<InForce> {
    let own_profile = store.session_profile(session_id).await?;
    let own_choice = store.session_model(session_id).await?;
    let cast = store.session_cast(session_id).await?;
    let pins = store.character_pins(&cast.character_id).await?;
    let profile = match (own_profile, &own_choice) {
        (Some(id), _) => Some((store.profile(&id).await?, ChoiceSource::Chat)),
        (None, (Some(_), _) | (_, Some(_))) => None,
        (None, (None, None)) => match &pins.profile_id {
            Some(id) => Some((store.profile(id).await?, ChoiceSource::Character)),
            None => None,
        },
    };
    Ok(InForce {
        own_choice,
        pins,
        profile,
    })
}

/// The instruct template in force and who chose it: the character's pin, the
/// profile's, the provider's, else [`InstructChoice::Auto`].
pub fn instruct_in_force(
    pins: &CharacterPins,
    profile: Option<&ConnectionProfile>,
    provider: &InstructChoice,
) -> (InstructChoice, ChoiceSource) {
    if let Some(name) = &pins.instruct {
        return (
            InstructChoice::Named { name: name.clone() },
            ChoiceSource::Character,
        );
    }
    if let Some(choice) = profile.and_then(|p| p.instruct.clone()) {
        return (choice, ChoiceSource::Profile);
    }
    match provider {
        InstructChoice::Auto => (InstructChoice::Auto, ChoiceSource::Default),
        named => (named.clone(), ChoiceSource::Provider),
    }
}

/// The provider's configuration as a reply uses it: the profile in force laid
/// over it (samplers, instruct and context template), then the character's
/// instruct pin. Returns it with who chose its instruct template.
pub fn apply(
    mut config: crate::llm::ProviderConfig,
    profile: Option<&ConnectionProfile>,
    pins: &CharacterPins,
) -> (crate::llm::ProviderConfig, ChoiceSource) {
    let (instruct, source) = instruct_in_force(pins, profile, &config.instruct);
    if let Some(p) = profile {
        config.generation = overlay(&config.generation, &p.generation);
        if p.context_template.is_some() {
            config.context_template = p.context_template.clone();
        }
    }
    config.instruct = instruct;
    (config, source)
}

/// `base` with every setting `over` sets laid on top (stop strings as a whole
/// when `over` has any). Done on the JSON form so a sampler added later is
/// covered without a line here.
pub fn overlay(base: &GenerationSettings, over: &GenerationSettings) -> GenerationSettings {
    let (Ok(Value::Object(mut merged)), Ok(Value::Object(top))) =
        (serde_json::to_value(base), serde_json::to_value(over))
    else {
        return base.clone();
    };
    for (key, value) in top {
        let unset = value.is_null() || value.as_array().is_some_and(|a| a.is_empty());
        if !unset {
            merged.insert(key, value);
        }
    }
    serde_json::from_value(Value::Object(merged)).unwrap_or_else(|_| base.clone())
}

/// A chat takes a profile (`None`: lets it go).
pub async fn use_profile(store: &Store, session_id: &str, profile_id: Option<&str>) -> Result<()> {
    store.set_session_profile(session_id, profile_id).await
}

/// Pins a character to a profile and/or an instruct template.
pub async fn pin_character(
    store: &Store,
    character_id: &str,
    mut pins: CharacterPins,
) -> Result<CharacterPins> {
    pins.instruct = pins
        .instruct
        .map(|n| check_name(&n, "the pinned instruct template"))
        .transpose()?;
    pins.profile_id = pins.profile_id.filter(|p| !p.trim().is_empty());
    store.set_character_pins(character_id, &pins).await?;
    store.character_pins(character_id).await
}
