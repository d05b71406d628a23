//! The template library: the built-in presets and the user's saved templates
//! (imported from SillyTavern files, or a preset edited), listed, imported,
//! exported and deleted. A saved template shadows the preset of its name;
//! deleting it brings the preset back.

use serde::{Deserialize, Serialize};

use super::check_name;
use crate::store::Store;
use crate::template::{
    context_presets, instruct_presets, templates_from_st_master_json, ContextTemplate,
    InstructTemplate, MAX_TEMPLATE_FILE_BYTES,
};
use crate::{Error, Result};

/// Which kind of template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TemplateKind {
    /// How turns are wrapped (SillyTavern's instruct template).
    Instruct,
    /// How the card's fields open the prompt (SillyTavern's context template / story string).
    Context,
}

impl TemplateKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::Instruct => "instruct",
            TemplateKind::Context => "context",
        }
    }
}

/// A template in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TemplateSummary {
    /// Instruct or context.
    pub kind: TemplateKind,
    /// Its name.
    pub name: String,
    /// Confab ships a preset of this name.
    pub builtin: bool,
    /// The user saved one of this name (it is the one used).
    pub saved: bool,
}

/// Every template of both kinds, by kind then name: presets and saved ones.
pub async fn template_catalog(store: &Store) -> Result<Vec<TemplateSummary>> {
    let mut out = Vec::new();
    for kind in [TemplateKind::Instruct, TemplateKind::Context] {
        let builtin: Vec<String> = match kind {
            TemplateKind::Instruct => instruct_presets().iter().map(|t| t.name.clone()).collect(),
            TemplateKind::Context => context_presets().iter().map(|t| t.name.clone()).collect(),
        };
        let saved: Vec<String> = store
            .saved_templates(kind.as_str())
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let mut names: Vec<&String> = builtin.iter().chain(&saved).collect();
        names.sort_by_key(|n| n.to_lowercase());
        names.dedup();
        out.extend(names.into_iter().map(|name| TemplateSummary {
            kind,
            name: name.clone(),
            builtin: builtin.contains(name),
            saved: saved.contains(name),
        }));
    }
    Ok(out)
}

/// Imports a SillyTavern instruct template, context template, or a master
/// export holding both; saved under their own names (replacing saved ones of
/// the same name). Returns what was saved.
pub async fn import_templates(store: &Store, json: &str) -> Result<Vec<TemplateSummary>> {
    if json.len() > MAX_TEMPLATE_FILE_BYTES {
        return Err(Error::TooLarge {
            what: "the template file".into(),
            limit: format!("{} KB", MAX_TEMPLATE_FILE_BYTES / 1024),
        });
    }
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::InvalidInput(format!("the template file is not JSON: {e}")))?;
    let has = |key: &str| value.get(key).is_some();
    let (instruct, context) = if has("instruct") || has("context") {
        templates_from_st_master_json(json)?
    } else if has("story_string") {
        (None, Some(ContextTemplate::from_st_json(json)?))
    } else if has("input_sequence") || has("output_sequence") {
        (Some(InstructTemplate::from_st_json(json)?), None)
    } else {
        return Err(Error::InvalidInput(
            "this is not a SillyTavern instruct or context template (no input_sequence or story_string)"
                .into(),
        ));
    };
    if instruct.is_none() && context.is_none() {
        return Err(Error::InvalidInput(
            "the file holds no instruct or context template".into(),
        ));
    }
    let mut saved = Vec::new();
    if let Some(t) = instruct {
        let name = check_name(&t.name, "the instruct template's name")?;
        store
            .save_template(TemplateKind::Instruct.as_str(), &name, &t.to_st_json()?)
            .await?;
        saved.push((TemplateKind::Instruct, name));
    }
    if let Some(t) = context {
        let name = check_name(&t.name, "the context template's name")?;
        store
            .save_template(TemplateKind::Context.as_str(), &name, &t.to_st_json()?)
            .await?;
        saved.push((TemplateKind::Context, name));
    }
    let catalog = template_catalog(store).await?;
    Ok(catalog
        .into_iter()
        .filter(|t| saved.iter().any(|(k, n)| *k == t.kind && *n == t.name))
        .collect())
}

/// A template as SillyTavern JSON: the saved one of that name, else the preset.
pub async fn export_template(store: &Store, kind: TemplateKind, name: &str) -> Result<String> {
    if let Some(saved) = store.saved_template(kind.as_str(), name).await? {
        // Re-read and re-written, so the export is the normalised form.
        return match kind {
            TemplateKind::Instruct => InstructTemplate::from_st_json(&saved.json)?.to_st_json(),
            TemplateKind::Context => ContextTemplate::from_st_json(&saved.json)?.to_st_json(),
        };
    }
    let found = match kind {
        TemplateKind::Instruct => crate::template::instruct_preset(name).map(|t| t.to_st_json()),
        TemplateKind::Context => crate::template::context_preset(name).map(|t| t.to_st_json()),
    };
    found.unwrap_or_else(|| {
        Err(Error::NotFound {
            what: format!("{} template \"{name}\"", kind.as_str()),
        })
    })
}

/// Deletes a saved template ([`Error::NotFound`] when none of that name is saved).
pub async fn delete_template(store: &Store, kind: TemplateKind, name: &str) -> Result<()> {
    if store.delete_template(kind.as_str(), name).await? {
        Ok(())
    } else {
        Err(Error::NotFound {
            what: format!("saved {} template \"{name}\"", kind.as_str()),
        })
    }
}
