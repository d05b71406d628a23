//! `confab template …` and `confab profile …`: the instruct and context
//! templates text-completion providers render prompts with, and connection
//! profiles (a provider, model, templates and samplers under one name).
//!
//! Profiles and providers are named by id or, when no id matches, by name (any
//! case); templates by their name (exact), as the app shows them.
//!
//! `template.rs` holds the template commands, `profile.rs` the profile
//! commands; this file their reports and how they print.

mod profile;
mod template;

pub(crate) use profile::{profile_cmd, ProfileCommand};
pub(crate) use template::{template_cmd, TemplateCommand};

use confab_core::connection::{
    self, ConnectionProfile, InstructChoice, TemplateKind, TemplateSummary,
};
use confab_core::llm::GenerationSettings;
use confab_core::session::turn::{DEFAULT_CONTEXT, FALLBACK_INSTRUCT};
use confab_core::store::Store;
use confab_core::Error;
use serde::Serialize;

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
