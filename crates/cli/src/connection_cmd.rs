//! `confab template …` and `confab profile …`: the instruct and context
//! templates text-completion providers render prompts with, and connection
//! profiles (a provider, model, templates and samplers under one name).
//!
//! Profiles and providers are named by id or, when no id matches, by name (any
//! case); templates by their name (exact), as the app shows them.

use std::io::Write;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use confab_core::connection::{
    self, CharacterPins, ConnectionProfile, InstructChoice, TemplateKind, TemplateSummary,
};
use confab_core::llm::GenerationSettings;
use confab_core::session::turn::{DEFAULT_CONTEXT, FALLBACK_INSTRUCT};
use confab_core::session::Role;
use confab_core::store::Store;
use confab_core::template::{
    context_preset, instruct_preset, render_text_prompt, ContextTemplate, InstructTemplate,
    StoryFields, TextPromptInput, Turn,
};
use confab_core::Error;
use serde::Serialize;

use crate::{file_name, group_cmd, provider_cmd, read_text, to_json};

#[derive(Debug, Subcommand)]
pub(crate) enum TemplateCommand {
    /// The instruct and context templates: Confab's presets and the ones you saved.
    List {
        /// Only this kind.
        #[arg(long, value_enum)]
        kind: Option<CliTemplateKind>,
    },
    /// Import SillyTavern instruct, context or master-export JSON files (a
    /// saved template replaces one of the same name; a bad file does not stop the others).
    Import {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// A template as SillyTavern JSON (the saved one of that name, else the preset).
    Export {
        /// instruct or context.
        #[arg(value_enum)]
        kind: CliTemplateKind,
        /// Its name (see `confab template list`).
        name: String,
        /// Write it to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A template's fields, and a short sample conversation rendered through it.
    Show {
        /// instruct or context.
        #[arg(value_enum)]
        kind: CliTemplateKind,
        /// Its name.
        name: String,
    },
    /// Pin a character's prompts to an instruct template, whatever its
    /// connection says (`none` unpins it).
    Pin {
        /// The instruct template's name, or `none`.
        name: String,
        /// The character, by id or name.
        #[arg(long)]
        character: String,
    },
    /// Delete a saved template (the preset of its name, if any, is used again).
    Delete {
        /// instruct or context.
        #[arg(value_enum)]
        kind: CliTemplateKind,
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CliTemplateKind {
    /// How turns are wrapped.
    Instruct,
    /// How the card's fields open the prompt (the story string).
    Context,
}

impl From<CliTemplateKind> for TemplateKind {
    fn from(k: CliTemplateKind) -> Self {
        match k {
            CliTemplateKind::Instruct => TemplateKind::Instruct,
            CliTemplateKind::Context => TemplateKind::Context,
        }
    }
}

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

/// What a template or profile command produced.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ConnectionReport {
    Templates(Vec<TemplateSummary>),
    Shown(Box<ShownTemplate>),
    Profiles(Vec<ProfileView>),
    Profile(Box<ProfileView>),
    Done(serde_json::Value),
    /// Already printed (JSON lines or the exported template).
    #[serde(skip)]
    Printed,
}

/// A template's fields and a sample rendering.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ShownTemplate {
    kind: TemplateKind,
    name: String,
    builtin: bool,
    saved: bool,
    /// The template as SillyTavern JSON.
    template: serde_json::Value,
    /// A short conversation rendered through it.
    sample: String,
}

/// A profile with its provider's name.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileView {
    #[serde(flatten)]
    profile: ConnectionProfile,
    provider_name: String,
}

pub(crate) async fn template_cmd(
    store: &Store,
    command: TemplateCommand,
    json: bool,
) -> Result<ConnectionReport, Error> {
    match command {
        TemplateCommand::List { kind } => {
            let kind = kind.map(TemplateKind::from);
            let list = connection::template_catalog(store)
                .await?
                .into_iter()
                .filter(|t| kind.is_none_or(|k| k == t.kind))
                .collect();
            Ok(ConnectionReport::Templates(list))
        }
        TemplateCommand::Import { files } => import(store, &files, json).await,
        TemplateCommand::Export { kind, name, out } => {
            let text = connection::export_template(store, kind.into(), &name).await?;
            match out {
                Some(path) => {
                    let mut bytes = text.into_bytes();
                    bytes.push(b'\n');
                    confab_core::library::write_atomically(&path, &bytes)?;
                    Ok(ConnectionReport::Done(serde_json::json!({
                        "wrote": path.display().to_string(),
                    })))
                }
                None => {
                    // The file itself, with --json or without.
                    let mut stdout = std::io::stdout().lock();
                    let _ = writeln!(stdout, "{text}");
                    Ok(ConnectionReport::Printed)
                }
            }
        }
        TemplateCommand::Show { kind, name } => show(store, kind.into(), &name).await,
        TemplateCommand::Pin { name, character } => {
            let character = group_cmd::character_id(store, &character).await?;
            let instruct = if name.trim().eq_ignore_ascii_case("none") {
                None
            } else {
                known_template(store, TemplateKind::Instruct, &name).await?;
                Some(name.trim().to_owned())
            };
            let pins = store.character_pins(&character).await?;
            let pins =
                connection::pin_character(store, &character, CharacterPins { instruct, ..pins })
                    .await?;
            Ok(ConnectionReport::Done(serde_json::json!({
                "character": character,
                "profileId": pins.profile_id,
                "instruct": pins.instruct,
            })))
        }
        TemplateCommand::Delete { kind, name } => {
            let kind = TemplateKind::from(kind);
            connection::delete_template(store, kind, &name).await?;
            let builtin = match kind {
                TemplateKind::Instruct => instruct_preset(&name).is_some(),
                TemplateKind::Context => context_preset(&name).is_some(),
            };
            Ok(ConnectionReport::Done(serde_json::json!({
                "deleted": name,
                "kind": kind.as_str(),
                "presetRestored": builtin,
            })))
        }
    }
}

/// Imports each file, printing what it saved (or why not) as it goes; the
/// first bad file's error is the command's, once every file was tried.
async fn import(store: &Store, files: &[PathBuf], json: bool) -> Result<ConnectionReport, Error> {
    let mut first_error = None;
    let mut failed = 0;
    for path in files {
        let saved = match read_text(path) {
            Ok(text) => connection::import_templates(store, &text).await,
            Err(e) => Err(e),
        };
        let file = path.display().to_string();
        match saved {
            Ok(saved) => {
                if json {
                    println!("{}", serde_json::json!({ "file": file, "saved": saved }));
                } else {
                    for t in &saved {
                        println!(
                            "{}: saved {} template \"{}\"{}",
                            file_name(path),
                            t.kind.as_str(),
                            t.name,
                            if t.builtin {
                                " (used instead of the preset of that name)"
                            } else {
                                ""
                            }
                        );
                    }
                }
            }
            Err(e) => {
                if json {
                    let error = serde_json::json!({ "code": e.code(), "message": e.to_string() });
                    println!("{}", serde_json::json!({ "file": file, "error": error }));
                } else {
                    eprintln!("confab: {}: {} [{}]", file_name(path), e, e.code());
                }
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        // A bad file: each was named above, so the ending only counts them.
        Some(Error::InvalidInput(_)) => Err(Error::InvalidInput(format!(
            "{failed} of {} template files could not be imported",
            files.len()
        ))),
        // Anything else (a missing file, a full disk) keeps its own code.
        Some(e) => Err(e),
        None => Ok(ConnectionReport::Printed),
    }
}

async fn show(store: &Store, kind: TemplateKind, name: &str) -> Result<ConnectionReport, Error> {
    let text = connection::export_template(store, kind, name).await?;
    let summary = connection::template_catalog(store)
        .await?
        .into_iter()
        .find(|t| t.kind == kind && t.name == name);
    let (instruct, context) = match kind {
        TemplateKind::Instruct => (
            InstructTemplate::from_st_json(&text)?,
            preset_context(DEFAULT_CONTEXT)?,
        ),
        TemplateKind::Context => (
            preset_instruct(FALLBACK_INSTRUCT)?,
            ContextTemplate::from_st_json(&text)?,
        ),
    };
    let sample = render_text_prompt(&instruct, &context, &sample_input())?.text;
    let template: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Internal(format!("an exported template is not JSON: {e}")))?;
    Ok(ConnectionReport::Shown(Box::new(ShownTemplate {
        kind,
        name: name.to_owned(),
        builtin: summary.as_ref().is_some_and(|s| s.builtin),
        saved: summary.as_ref().is_some_and(|s| s.saved),
        template,
        sample,
    })))
}

fn preset_instruct(name: &str) -> Result<InstructTemplate, Error> {
    instruct_preset(name)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("the {name} preset is missing")))
}

fn preset_context(name: &str) -> Result<ContextTemplate, Error> {
    context_preset(name)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("the {name} context preset is missing")))
}

/// A system prompt and a two-turn exchange (the user, the character, the
/// user again), ending where the character's reply would start.
fn sample_input() -> TextPromptInput {
    let (char_name, user_name) = ("Mira", "Alex");
    TextPromptInput {
        story: StoryFields {
            system: "You are Mira, a ship's navigator. Stay in character.".into(),
            description: "Mira reads the stars for a living.".into(),
            ..StoryFields::default()
        },
        history: vec![
            Turn::new(Role::User, user_name, "Where are we headed?"),
            Turn::new(Role::Assistant, char_name, "South, past the reef."),
            Turn::new(Role::User, user_name, "And if the reef moves?"),
        ],
        char_name: char_name.into(),
        user_name: user_name.into(),
        ..TextPromptInput::default()
    }
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

/// A template of that kind and name exists (saved or a preset).
async fn known_template(store: &Store, kind: TemplateKind, name: &str) -> Result<(), Error> {
    let all = connection::template_catalog(store).await?;
    if all.iter().any(|t| t.kind == kind && t.name == name.trim()) {
        return Ok(());
    }
    Err(Error::NotFound {
        what: format!(
            "{} template \"{}\" (see `confab template list --kind {}`)",
            kind.as_str(),
            name.trim(),
            kind.as_str()
        ),
    })
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

/// The samplers a profile sets, as `name value` pairs.
fn sampler_words(g: &GenerationSettings) -> String {
    // Through text, so an f32 reads as written (0.8, not 0.800000011920929).
    let text = serde_json::to_string(g).unwrap_or_default();
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) else {
        return String::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_profile(f: &mut std::fmt::Formatter<'_>, v: &ProfileView) -> std::fmt::Result {
    let p = &v.profile;
    write!(
        f,
        "{}  {}  provider: {}  model: {}  instruct: {}  context: {}",
        p.id,
        p.name,
        v.provider_name,
        p.model.as_deref().unwrap_or("(provider's)"),
        match &p.instruct {
            None => "(provider's)",
            Some(InstructChoice::Auto) => "auto",
            Some(InstructChoice::Named { name }) => name,
        },
        p.context_template.as_deref().unwrap_or("(provider's)"),
    )?;
    let samplers = sampler_words(&p.generation);
    if !samplers.is_empty() {
        write!(f, "  samplers: {samplers}")?;
    }
    Ok(())
}

impl std::fmt::Display for ConnectionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectionReport::Templates(list) => {
                for (i, t) in list.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    let origin = match (t.builtin, t.saved) {
                        (true, true) => "saved (replaces the built-in)",
                        (false, true) => "saved",
                        _ => "built-in",
                    };
                    write!(f, "{:<9} {}  [{origin}]", t.kind.as_str(), t.name)?;
                }
                Ok(())
            }
            ConnectionReport::Shown(s) => {
                let origin = match (s.builtin, s.saved) {
                    (true, true) => "saved, replaces the built-in",
                    (false, true) => "saved",
                    _ => "built-in",
                };
                writeln!(f, "{} template \"{}\" ({origin})", s.kind.as_str(), s.name)?;
                if let Some(fields) = s.template.as_object() {
                    for (k, v) in fields {
                        if k == "name" {
                            continue;
                        }
                        // Strings as JSON strings, so line breaks show as \n.
                        writeln!(f, "  {k}: {v}")?;
                    }
                }
                let with = match s.kind {
                    TemplateKind::Instruct => format!("context template {DEFAULT_CONTEXT}"),
                    TemplateKind::Context => format!("instruct template {FALLBACK_INSTRUCT}"),
                };
                writeln!(f, "sample ({with}), between the lines:")?;
                writeln!(f, "----")?;
                writeln!(f, "{}", s.sample)?;
                write!(f, "----")
            }
            ConnectionReport::Profiles(list) if list.is_empty() => {
                write!(
                    f,
                    "no connection profiles yet; add one with `confab profile add`"
                )
            }
            ConnectionReport::Profiles(list) => {
                for (i, p) in list.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write_profile(f, p)?;
                }
                Ok(())
            }
            ConnectionReport::Profile(p) => write_profile(f, p),
            ConnectionReport::Done(value) => {
                let s = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
                if let Some(id) = s("deleted") {
                    match s("kind") {
                        Some(kind) => {
                            write!(f, "deleted the saved {kind} template \"{id}\"")?;
                            if value["presetRestored"] == true {
                                write!(f, "; the built-in one of that name is used again")?;
                            }
                            Ok(())
                        }
                        None => write!(f, "deleted profile {id}"),
                    }
                } else if let Some(path) = s("wrote") {
                    write!(f, "wrote {path}")
                } else if let Some(session) = s("session") {
                    match s("profileName") {
                        Some(name) => write!(f, "chat {session} now uses profile \"{name}\""),
                        None => write!(
                            f,
                            "chat {session} uses no profile now (its character's pin, else its own provider)"
                        ),
                    }
                } else if let Some(character) = s("character") {
                    if value.get("profileName").is_none() {
                        return match s("instruct") {
                            Some(name) => write!(
                                f,
                                "character {character}'s prompts use instruct template \"{name}\""
                            ),
                            None => {
                                write!(f, "character {character} is pinned to no instruct template")
                            }
                        };
                    }
                    match s("profileName") {
                        Some(name) => {
                            write!(f, "character {character} is pinned to profile \"{name}\"")
                        }
                        None => write!(f, "character {character} is pinned to no profile"),
                    }
                } else {
                    write!(f, "{value}")
                }
            }
            ConnectionReport::Printed => Ok(()),
        }
    }
}
