//! Sampling settings, and which of them each provider kind accepts.
//!
//! One [`GenerationSettings`] serves every kind; each request builder sends only
//! the samplers its backend understands ([`supported_samplers`]), under the
//! backend's own names, so a setting meant for a local model never reaches a
//! cloud API that would reject the request over an unknown field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::provider::ProviderKind;

/// Sampling settings sent with every request; unset values are left to the provider.
///
/// Every field has a default, so a configuration saved before a field existed
/// still loads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct GenerationSettings {
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// The most tokens of the reply (Anthropic requires one: 1024 when unset).
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// Only the k most likely tokens are considered.
    pub top_k: Option<u32>,
    /// Tokens below this share of the most likely token's probability are dropped.
    pub min_p: Option<f32>,
    /// Locally typical sampling.
    pub typical_p: Option<f32>,
    /// Multiplicative repetition penalty (1.0 is none).
    pub repetition_penalty: Option<f32>,
    /// How many recent tokens the repetition penalty looks at.
    pub repetition_penalty_range: Option<u32>,
    /// KoboldCpp's slope of the repetition penalty over its range.
    pub repetition_penalty_slope: Option<f32>,
    /// Additive penalty for tokens already present.
    pub presence_penalty: Option<f32>,
    /// Additive penalty growing with each repeat.
    pub frequency_penalty: Option<f32>,
    /// DRY ("don't repeat yourself") repetition penalty.
    pub dry: Option<DrySettings>,
    /// XTC ("exclude top choices").
    pub xtc: Option<XtcSettings>,
    /// Mirostat.
    pub mirostat: Option<MirostatSettings>,
    /// A fixed seed for reproducible replies; unset is random.
    pub seed: Option<u32>,
    /// A GBNF grammar the reply must follow (llama.cpp, KoboldCpp).
    pub grammar: Option<String>,
    /// A JSON schema (as JSON text) the reply must follow (llama.cpp).
    pub json_schema: Option<String>,
}

/// DRY repetition penalty settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct DrySettings {
    /// Strength; 0 turns DRY off.
    pub multiplier: f32,
    /// How fast the penalty grows with the repeated length.
    pub base: f32,
    /// Repeats up to this many tokens are not penalised.
    pub allowed_length: u32,
    /// Strings that end a repeated sequence.
    pub sequence_breakers: Vec<String>,
}

impl Default for DrySettings {
    fn default() -> Self {
        // The defaults KoboldCpp, llama.cpp and SillyTavern share.
        DrySettings {
            multiplier: 0.8,
            base: 1.75,
            allowed_length: 2,
            sequence_breakers: ["\n", ":", "\"", "*"].map(str::to_owned).to_vec(),
        }
    }
}

/// XTC settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct XtcSettings {
    /// Tokens above this probability may be excluded.
    pub threshold: f32,
    /// The chance that exclusion happens at a step.
    pub probability: f32,
}

/// Mirostat settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct MirostatSettings {
    /// 1 (Mirostat) or 2 (Mirostat 2.0); 0 is off.
    pub mode: u8,
    /// Target entropy.
    pub tau: f32,
    /// Learning rate.
    pub eta: f32,
}

impl Default for MirostatSettings {
    fn default() -> Self {
        MirostatSettings {
            mode: 2,
            tau: 5.0,
            eta: 0.1,
        }
    }
}

/// One setting of [`GenerationSettings`], for asking which ones a kind accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Sampler {
    /// [`GenerationSettings::temperature`].
    Temperature,
    /// [`GenerationSettings::top_p`].
    TopP,
    /// [`GenerationSettings::max_tokens`].
    MaxTokens,
    /// [`GenerationSettings::stop`].
    Stop,
    /// [`GenerationSettings::top_k`].
    TopK,
    /// [`GenerationSettings::min_p`].
    MinP,
    /// [`GenerationSettings::typical_p`].
    TypicalP,
    /// [`GenerationSettings::repetition_penalty`].
    RepetitionPenalty,
    /// [`GenerationSettings::repetition_penalty_range`].
    RepetitionPenaltyRange,
    /// [`GenerationSettings::repetition_penalty_slope`].
    RepetitionPenaltySlope,
    /// [`GenerationSettings::presence_penalty`].
    PresencePenalty,
    /// [`GenerationSettings::frequency_penalty`].
    FrequencyPenalty,
    /// [`GenerationSettings::dry`].
    Dry,
    /// [`GenerationSettings::xtc`].
    Xtc,
    /// [`GenerationSettings::mirostat`].
    Mirostat,
    /// [`GenerationSettings::seed`].
    Seed,
    /// [`GenerationSettings::grammar`].
    Grammar,
    /// [`GenerationSettings::json_schema`].
    JsonSchema,
}

use Sampler::*;

const BASIC: [Sampler; 4] = [Temperature, TopP, MaxTokens, Stop];

// OpenAI's chat completions reference: presence/frequency penalties and seed.
const OPENAI: &[Sampler] = &[
    Temperature,
    TopP,
    MaxTokens,
    Stop,
    PresencePenalty,
    FrequencyPenalty,
    Seed,
];
// OpenRouter's parameters page: top_k, min_p, repetition_penalty, seed and the
// OpenAI penalties (passed to the providers that support them, ignored by others).
const OPENROUTER: &[Sampler] = &[
    Temperature,
    TopP,
    MaxTokens,
    Stop,
    TopK,
    MinP,
    RepetitionPenalty,
    PresencePenalty,
    FrequencyPenalty,
    Seed,
];
// Anthropic's Messages API: top_k besides the basics.
const ANTHROPIC: &[Sampler] = &[Temperature, TopP, MaxTokens, Stop, TopK];
// KoboldCpp's /api/v1/generate (koboldcpp.py, the KoboldAI United API schema).
// No frequency penalty, no JSON schema on the native API.
const KOBOLD: &[Sampler] = &[
    Temperature,
    TopP,
    MaxTokens,
    Stop,
    TopK,
    MinP,
    TypicalP,
    RepetitionPenalty,
    RepetitionPenaltyRange,
    RepetitionPenaltySlope,
    PresencePenalty,
    Dry,
    Xtc,
    Mirostat,
    Seed,
    Grammar,
];
// llama.cpp's tools/server/README.md, POST /completion. No slope.
const LLAMACPP: &[Sampler] = &[
    Temperature,
    TopP,
    MaxTokens,
    Stop,
    TopK,
    MinP,
    TypicalP,
    RepetitionPenalty,
    RepetitionPenaltyRange,
    PresencePenalty,
    FrequencyPenalty,
    Dry,
    Xtc,
    Mirostat,
    Seed,
    Grammar,
    JsonSchema,
];
// /v1/completions: OpenAI's fields plus the extra samplers vLLM (top_k, min_p,
// repetition_penalty), Aphrodite and TabbyAPI (also typical_p, DRY, XTC,
// mirostat) accept; servers that do not know one ignore it, which is why each is
// sent only when set.
const COMPLETIONS: &[Sampler] = &[
    Temperature,
    TopP,
    MaxTokens,
    Stop,
    TopK,
    MinP,
    TypicalP,
    RepetitionPenalty,
    PresencePenalty,
    FrequencyPenalty,
    Dry,
    Xtc,
    Mirostat,
    Seed,
];

/// The settings a provider kind accepts, so the UI shows only those.
pub fn supported_samplers(kind: ProviderKind) -> &'static [Sampler] {
    match kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => OPENAI,
        ProviderKind::OpenRouter => OPENROUTER,
        ProviderKind::Anthropic => ANTHROPIC,
        ProviderKind::KoboldCpp => KOBOLD,
        ProviderKind::LlamaCpp => LLAMACPP,
        ProviderKind::TextCompletions => COMPLETIONS,
    }
}

/// Whether `kind` accepts `sampler`.
pub fn supports(kind: ProviderKind, sampler: Sampler) -> bool {
    BASIC.contains(&sampler) || supported_samplers(kind).contains(&sampler)
}

/// A float as JSON by way of its shortest decimal, so 0.7f32 is sent as 0.7;
/// `None` for NaN and infinities, which JSON cannot carry.
pub(crate) fn num(x: f32) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// Writes sampler values into a request body under a backend's names.
pub(crate) struct Body<'a>(pub &'a mut Map<String, Value>);

impl Body<'_> {
    /// Inserts a float when it is set and finite.
    pub fn float(&mut self, name: &str, x: Option<f32>) {
        if let Some(v) = x.and_then(num) {
            self.0.insert(name.to_owned(), v);
        }
    }

    /// Inserts a whole number when it is set.
    pub fn int(&mut self, name: &str, x: Option<u32>) {
        if let Some(x) = x {
            self.0.insert(name.to_owned(), Value::from(x));
        }
    }

    /// Inserts any JSON value.
    pub fn value(&mut self, name: &str, v: Value) {
        self.0.insert(name.to_owned(), v);
    }
}

/// The non-empty grammar, when one is set.
pub(crate) fn grammar(g: &GenerationSettings) -> Option<&str> {
    g.grammar.as_deref().filter(|s| !s.trim().is_empty())
}
