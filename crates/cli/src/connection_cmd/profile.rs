//! `confab profile …`: list, add, use and remove connection profiles.

use clap::Subcommand;
use confab_core::connection::{
    self, CharacterPins, ConnectionProfile, InstructChoice, TemplateKind,
};
use confab_core::llm::GenerationSettings;
use confab_core::store::Store;
use confab_core::Error;

use crate::{group_cmd, provider_cmd, to_json};

use super::{known_template, ConnectionReport, ProfileView};

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// The connection profiles, in order.
    List,
    /// Add a profile: a provider, a model, templates and samplers under one name.
    Add {
        /// Its name (unique).
        name: String,
        /// The provider, by id or name.
        #[arg(long)]
        provider: String,
        /// The model (default: the provider's).
        #[arg(long)]
        model: Option<String>,
        /// The instruct template: `auto` (the model's own, else matched by its
        /// name, else ChatML) or a template's name (default: the provider's choice).
        #[arg(long)]
        instruct: Option<String>,
        /// The context template's name (default: the provider's choice, else "Default").
        #[arg(long)]
        context: Option<String>,
        /// Sampling temperature.
        #[arg(long)]
        temperature: Option<f32>,
        /// Nucleus sampling (0–1).
        #[arg(long)]
        top_p: Option<f32>,
        /// Min-p (0–1).
        #[arg(long)]
        min_p: Option<f32>,
        /// Top-k (0 is off).
        #[arg(long)]
        top_k: Option<u32>,
        /// Typical-p (0–1).
        #[arg(long)]
        typical_p: Option<f32>,
        /// Repetition penalty (1 is none).
        #[arg(long)]
        rep_pen: Option<f32>,
        /// How many recent tokens the repetition penalty looks at.
        #[arg(long)]
        rep_pen_range: Option<u32>,
        /// Presence penalty.
        #[arg(long)]
        presence_penalty: Option<f32>,
        /// Frequency penalty.
        #[arg(long)]
        frequency_penalty: Option<f32>,
        /// The most tokens of a reply.
        #[arg(long)]
        max_tokens: Option<u32>,
        /// A fixed seed.
        #[arg(long)]
        seed: Option<u32>,
        /// A stop string (repeatable).
        #[arg(long = "stop")]
        stop: Vec<String>,
        /// Any other samplers as JSON, with the app's names, e.g.
        /// '{"dry":{"multiplier":0.8},"xtc":{"threshold":0.1,"probability":0.5}}'
        /// (the flags above win over it).
        #[arg(long, value_name = "JSON")]
        samplers: Option<String>,
    },
    /// A chat uses a profile (`none` lets it go), or a character is pinned to one.
    #[command(group(clap::ArgGroup::new("target").required(true).args(["session", "character"])))]
    Use {
        /// The profile, by id or name; `none` to let go.
        profile: String,
        /// The chat.
        #[arg(long)]
        session: Option<String>,
        /// The character (by id or name): its chats use the profile unless they chose their own.
        #[arg(long)]
        character: Option<String>,
    },
    /// Remove a profile (chats and characters that used it fall back to their own choice).
    Remove {
        /// The profile, by id or name.
        profile: String,
    },
}

pub(crate) async fn profile_cmd(
    store: &Store,
    command: ProfileCommand,
) -> Result<ConnectionReport, Error> {
    match command {
        ProfileCommand::List => {
            let mut out = Vec::new();
            for p in store.profiles().await? {
                out.push(view(store, p).await?);
            }
            Ok(ConnectionReport::Profiles(out))
        }
        ProfileCommand::Add {
            name,
            provider,
            model,
            instruct,
            context,
            temperature,
            top_p,
            min_p,
            top_k,
            typical_p,
            rep_pen,
            rep_pen_range,
            presence_penalty,
            frequency_penalty,
            max_tokens,
            seed,
            stop,
            samplers,
        } => {
            let provider_id = provider_cmd::resolve(store, &provider).await?;
            let mut g = match samplers {
                Some(json) => parse_samplers(&json)?,
                None => GenerationSettings::default(),
            };
            let set = |slot: &mut Option<f32>, v: Option<f32>| {
                if v.is_some() {
                    *slot = v;
                }
            };
            set(&mut g.temperature, temperature);
            set(&mut g.top_p, top_p);
            set(&mut g.min_p, min_p);
            set(&mut g.typical_p, typical_p);
            set(&mut g.repetition_penalty, rep_pen);
            set(&mut g.presence_penalty, presence_penalty);
            set(&mut g.frequency_penalty, frequency_penalty);
            g.top_k = top_k.or(g.top_k);
            g.repetition_penalty_range = rep_pen_range.or(g.repetition_penalty_range);
            g.max_tokens = max_tokens.or(g.max_tokens);
            g.seed = seed.or(g.seed);
            if !stop.is_empty() {
                g.stop = stop;
            }
            let instruct = instruct.map(|i| {
                if i.trim().eq_ignore_ascii_case("auto") {
                    InstructChoice::Auto
                } else {
                    InstructChoice::Named { name: i }
                }
            });
            if let Some(InstructChoice::Named { name }) = &instruct {
                known_template(store, TemplateKind::Instruct, name).await?;
            }
            if let Some(name) = &context {
                known_template(store, TemplateKind::Context, name).await?;
            }
            let profile = ConnectionProfile {
                id: String::new(),
                name,
                provider_id,
                model,
                instruct,
                context_template: context,
                generation: g,
            };
            let saved = connection::save_profile(store, profile).await?;
            Ok(ConnectionReport::Profile(Box::new(
                view(store, saved).await?,
            )))
        }
        ProfileCommand::Use {
            profile,
            session,
            character,
        } => {
            let profile_id = if profile.trim().eq_ignore_ascii_case("none") {
                None
            } else {
                Some(resolve(store, &profile).await?)
            };
            let profile_name = match &profile_id {
                Some(id) => Some(store.profile(id).await?.name),
                None => None,
            };
            if let Some(session) = session {
                connection::use_profile(store, &session, profile_id.as_deref()).await?;
                return Ok(ConnectionReport::Done(serde_json::json!({
                    "session": session,
                    "profileId": profile_id,
                    "profileName": profile_name,
                })));
            }
            let given = character.unwrap_or_default();
            let character = group_cmd::character_id(store, &given).await?;
            let pins = store.character_pins(&character).await?;
            let pins = connection::pin_character(
                store,
                &character,
                CharacterPins {
                    profile_id: profile_id.clone(),
                    ..pins
                },
            )
            .await?;
            Ok(ConnectionReport::Done(serde_json::json!({
                "character": character,
                "profileId": pins.profile_id,
                "profileName": profile_name,
                "instruct": pins.instruct,
            })))
        }
        ProfileCommand::Remove { profile } => {
            let id = resolve(store, &profile).await?;
            store.delete_profile(&id).await?;
            Ok(ConnectionReport::Done(serde_json::json!({ "deleted": id })))
        }
    }
}

/// `--samplers`: the app's JSON names; a name it does not know is refused
/// rather than dropped without a word.
fn parse_samplers(json: &str) -> Result<GenerationSettings, Error> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::InvalidInput(format!("--samplers is not JSON: {e}")))?;
    let Some(given) = value.as_object() else {
        return Err(Error::InvalidInput(
            "--samplers must be a JSON object, e.g. '{\"minP\":0.05}'".into(),
        ));
    };
    let settings: GenerationSettings = serde_json::from_value(value.clone())
        .map_err(|e| Error::InvalidInput(format!("--samplers: {e}")))?;
    let known = to_json(&GenerationSettings::default())?;
    let unknown: Vec<&String> = given
        .keys()
        .filter(|k| known.get(k.as_str()).is_none())
        .collect();
    if let Some(first) = unknown.first() {
        let names: Vec<&String> = known
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        return Err(Error::InvalidInput(format!(
            "--samplers: no sampler is called {first:?}; known: {}",
            names
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(settings)
}

async fn view(store: &Store, profile: ConnectionProfile) -> Result<ProfileView, Error> {
    let provider_name = match store.provider(&profile.provider_id).await {
        Ok(p) => p.name,
        Err(Error::NotFound { .. }) => "(deleted provider)".to_owned(),
        Err(e) => return Err(e),
    };
    Ok(ProfileView {
        profile,
        provider_name,
    })
}

/// A profile's id from its id or its name (any case); ambiguous names are refused.
pub(crate) async fn resolve(store: &Store, id_or_name: &str) -> Result<String, Error> {
    let wanted = id_or_name.trim();
    let all = store.profiles().await?;
    if let Some(p) = all.iter().find(|p| p.id == wanted) {
        return Ok(p.id.clone());
    }
    let named: Vec<&ConnectionProfile> = all
        .iter()
        .filter(|p| p.name.to_lowercase() == wanted.to_lowercase())
        .collect();
    match named.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::NotFound {
            what: format!("connection profile {wanted}"),
        }),
        _ => Err(Error::InvalidInput(format!(
            "{} profiles are named {wanted:?}; use the id (see `confab profile list`)",
            named.len()
        ))),
    }
}
