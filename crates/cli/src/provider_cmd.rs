//! `confab provider ...` and `confab usage`: providers, their keys and model lists, and usage.
//!
//! A provider is named by its id or, when no id matches, by its name (any case).
//! Keys are read from stdin, never from an argument (arguments end up in shell
//! history and `ps`), and no output ever contains one.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};

use clap::{Subcommand, ValueEnum};
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::providers::{self, ModelList, Provider, UsageReport};
use confab_core::secrets::{KeyStatus, KeyStorage, Keys};
use confab_core::store::Store;
use confab_core::Error;
use serde::Serialize;

/// The longest key read from stdin.
const MAX_KEY_BYTES: u64 = 16 * 1024;

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// List the configured providers, whether each has a key, and the default.
    List,
    /// Add a provider.
    Add {
        /// Its name.
        name: String,
        /// Its protocol and defaults.
        #[arg(long, value_enum)]
        kind: CliKind,
        /// The API root (default: the kind's; `compatible` defaults to http://127.0.0.1:8080/v1).
        #[arg(long)]
        base_url: Option<String>,
        /// The model used unless a session picks another.
        #[arg(long)]
        model: Option<String>,
        /// An extra header, `Name: value` (repeatable; OpenRouter's are set already).
        #[arg(long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// Sampling temperature (0–2).
        #[arg(long)]
        temperature: Option<f32>,
        /// Nucleus sampling (0–1).
        #[arg(long)]
        top_p: Option<f32>,
        /// The most tokens of a reply.
        #[arg(long)]
        max_tokens: Option<u32>,
        /// A stop string (repeatable, at most 16).
        #[arg(long = "stop")]
        stop: Vec<String>,
        /// Ask for whole replies instead of streamed ones.
        #[arg(long)]
        no_stream: bool,
        /// Make it the default provider.
        #[arg(long)]
        default: bool,
    },
    /// Remove a provider, its key, its model list and its favourites.
    Remove {
        /// The provider's id or name.
        provider: String,
    },
    /// Make a provider the one sessions use unless they chose another.
    SetDefault {
        /// The provider's id or name.
        provider: String,
    },
    /// A provider's model list (cached; favourites first).
    Models {
        /// The provider's id or name.
        provider: String,
        /// Fetch the list from the provider first.
        #[arg(long)]
        refresh: bool,
    },
    /// Look for model servers on this computer's usual ports (11434, 8080, 5001, 1234).
    FindLocal,
    /// A provider's API key.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Store a key read from stdin (`confab provider key set openrouter < key.txt`).
    Set {
        /// The provider's id or name.
        provider: String,
        /// Where to keep it: the system keyring, or encrypted in the database
        /// under CONFAB_ENCRYPTION_KEY.
        #[arg(long, value_enum, default_value = "keyring")]
        storage: CliStorage,
    },
    /// Remove a provider's key from everywhere it is kept.
    Delete {
        /// The provider's id or name.
        provider: String,
    },
    /// Check that the provider accepts the key (lists its models).
    Test {
        /// The provider's id or name.
        provider: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CliKind {
    /// OpenRouter (its attribution headers are set).
    Openrouter,
    /// OpenAI.
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// Any OpenAI-compatible server: xAI, llama.cpp, KoboldCpp, LM Studio, Ollama's /v1.
    Compatible,
    /// KoboldCpp's native text API.
    Koboldcpp,
    /// llama.cpp's server, native /completion.
    Llamacpp,
    /// OpenAI-style text completions (/v1/completions): vLLM, TabbyAPI, Aphrodite.
    Completions,
}

impl From<CliKind> for ProviderKind {
    fn from(k: CliKind) -> Self {
        match k {
            CliKind::Openrouter => ProviderKind::OpenRouter,
            CliKind::Openai => ProviderKind::OpenAi,
            CliKind::Anthropic => ProviderKind::Anthropic,
            CliKind::Compatible => ProviderKind::OpenAiCompatible,
            CliKind::Koboldcpp => ProviderKind::KoboldCpp,
            CliKind::Llamacpp => ProviderKind::LlamaCpp,
            CliKind::Completions => ProviderKind::TextCompletions,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CliStorage {
    /// The system keyring (Secret Service, Keychain, Credential Manager).
    Keyring,
    /// Refused: a key kept for this run only is gone when `confab` exits.
    Session,
    /// Encrypted in the database with a key derived from CONFAB_ENCRYPTION_KEY.
    Encrypted,
}

/// What a provider command produced.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ProviderReport {
    Providers(Vec<Provider>),
    // Boxed: a provider's sampling settings make it many times the other variants' size.
    Provider(Box<Provider>),
    Models(ModelList),
    Key(KeyStatus),
    Tested {
        #[serde(rename = "providerId")]
        provider_id: String,
        models: u32,
    },
    Local(Vec<confab_core::llm::LocalServer>),
    Done(serde_json::Value),
    Usage(UsageReport),
}

/// The keys the CLI uses: the OS keyring, and the encrypted fallback when
/// `CONFAB_ENCRYPTION_KEY` is set. The one place the CLI makes its `Keys`.
fn keys(store: &Store) -> Keys {
    Keys::from_env(store.clone())
}

/// Runs a provider command.
pub async fn run(store: &Store, command: ProviderCommand) -> Result<ProviderReport, Error> {
    match command {
        ProviderCommand::List => {
            let keys = keys(store);
            Ok(ProviderReport::Providers(
                providers::list(store, &keys).await?,
            ))
        }
        ProviderCommand::Add {
            name,
            kind,
            base_url,
            model,
            headers,
            temperature,
            top_p,
            max_tokens,
            stop,
            no_stream,
            default,
        } => {
            let mut config = ProviderConfig::new(kind.into(), &name);
            if let Some(url) = base_url {
                config.base_url = url;
            }
            config.default_model = model.unwrap_or_default();
            for header in &headers {
                let (n, v) = parse_header(header)?;
                config.extra_headers.insert(n, v);
            }
            config.generation.temperature = temperature;
            config.generation.top_p = top_p;
            config.generation.max_tokens = max_tokens;
            config.generation.stop = stop;
            config.streaming = !no_stream;
            // Checked before the keyring is touched: a typo costs no prompt.
            let config = providers::validate_config(config)?;
            let keys = keys(store);
            let saved = providers::save(store, &keys, config).await?;
            if default {
                store.set_default_provider(&saved.config.id).await?;
                let list = providers::list(store, &keys).await?;
                if let Some(p) = list.into_iter().find(|p| p.config.id == saved.config.id) {
                    return Ok(ProviderReport::Provider(Box::new(p)));
                }
            }
            Ok(ProviderReport::Provider(Box::new(saved)))
        }
        ProviderCommand::Remove { provider } => {
            let id = resolve(store, &provider).await?;
            providers::delete(store, &keys(store), &id).await?;
            Ok(ProviderReport::Done(serde_json::json!({ "deleted": id })))
        }
        ProviderCommand::SetDefault { provider } => {
            let id = resolve(store, &provider).await?;
            store.set_default_provider(&id).await?;
            Ok(ProviderReport::Done(serde_json::json!({ "default": id })))
        }
        ProviderCommand::Models { provider, refresh } => {
            let id = resolve(store, &provider).await?;
            let list = if refresh {
                let http = providers::http_client()?;
                providers::refresh_models(store, &keys(store), &http, &id).await?
            } else {
                providers::models(store, &id).await?
            };
            Ok(ProviderReport::Models(list))
        }
        ProviderCommand::FindLocal => {
            Ok(ProviderReport::Local(providers::find_local_servers().await))
        }
        ProviderCommand::Key(KeyCommand::Set { provider, storage }) => {
            let storage = match storage {
                CliStorage::Keyring => KeyStorage::Keyring,
                CliStorage::Encrypted => KeyStorage::Encrypted,
                CliStorage::Session => {
                    return Err(Error::InvalidInput(
                        "--storage session keeps a key only while the program runs, and \
                         `confab` ends right away; use --storage keyring, or --storage \
                         encrypted with CONFAB_ENCRYPTION_KEY set"
                            .into(),
                    ))
                }
            };
            let id = resolve(store, &provider).await?;
            let key = read_key()?;
            Ok(ProviderReport::Key(
                keys(store).set(&id, &key, storage).await?,
            ))
        }
        ProviderCommand::Key(KeyCommand::Delete { provider }) => {
            let id = resolve(store, &provider).await?;
            Ok(ProviderReport::Key(keys(store).delete(&id).await?))
        }
        ProviderCommand::Key(KeyCommand::Test { provider }) => {
            let id = resolve(store, &provider).await?;
            let http = providers::http_client()?;
            let models = providers::test_key(store, &keys(store), &http, &id).await?;
            Ok(ProviderReport::Tested {
                provider_id: id,
                models,
            })
        }
    }
}

/// Runs `confab usage`.
pub async fn usage(store: &Store, days: u32) -> Result<ProviderReport, Error> {
    Ok(ProviderReport::Usage(providers::usage(store, days).await?))
}

/// A provider's id from its id or its name (any case); ambiguous names are refused.
pub(crate) async fn resolve(store: &Store, id_or_name: &str) -> Result<String, Error> {
    let wanted = id_or_name.trim();
    let all = store.providers().await?;
    if let Some(p) = all.iter().find(|p| p.id == wanted) {
        return Ok(p.id.clone());
    }
    let named: Vec<&ProviderConfig> = all
        .iter()
        .filter(|p| p.name.to_lowercase() == wanted.to_lowercase())
        .collect();
    match named.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::NotFound {
            what: format!("provider {wanted}"),
        }),
        _ => Err(Error::InvalidInput(format!(
            "{} providers are named {wanted:?}; use the id (see `confab provider list`)",
            named.len()
        ))),
    }
}

/// `Name: value` as a header.
fn parse_header(text: &str) -> Result<(String, String), Error> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(Error::InvalidInput(format!(
            "--header needs `Name: value` (got {:?})",
            text.split(':').next().unwrap_or_default()
        ))),
    }
}

/// The key on stdin: one line typed at a terminal (not echoed), else everything (bounded),
/// without its trailing newline.
fn read_key() -> Result<String, Error> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    let read = if stdin.is_terminal() {
        // Typed at a terminal: not echoed, so it is not left on the screen or in a recording.
        rpassword::prompt_password("API key (not shown as you type; end with Enter): ")
            .map(|key| text = key)
    } else {
        stdin
            .lock()
            .take(MAX_KEY_BYTES + 1)
            .read_to_string(&mut text)
            .map(|_| ())
    };
    read.map_err(|e| Error::InvalidInput(format!("could not read the key from stdin: {e}")))?;
    if text.len() as u64 > MAX_KEY_BYTES {
        return Err(Error::InvalidInput(format!(
            "stdin holds more than {MAX_KEY_BYTES} bytes; an API key is much shorter"
        )));
    }
    let key = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if key.trim().is_empty() {
        return Err(Error::InvalidInput(
            "no key on stdin: pipe it in, e.g. `confab provider key set NAME < key.txt`".into(),
        ));
    }
    if key.contains('\n') {
        return Err(Error::InvalidInput(
            "stdin holds more than one line; an API key is one line".into(),
        ));
    }
    Ok(key.to_owned())
}

fn kind_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenRouter => "openrouter",
        ProviderKind::OpenAi => "openai",
        ProviderKind::Anthropic => "anthropic",
        ProviderKind::OpenAiCompatible => "compatible",
        ProviderKind::KoboldCpp => "koboldcpp",
        ProviderKind::LlamaCpp => "llamacpp",
        ProviderKind::TextCompletions => "completions",
    }
}

fn key_words(key: &KeyStatus) -> &'static str {
    match (key.set, key.storage) {
        (false, _) => "no key",
        (true, Some(KeyStorage::Keyring)) => "key in keyring",
        (true, Some(KeyStorage::Session)) => "key for this run",
        (true, Some(KeyStorage::Encrypted)) => "key encrypted",
        (true, None) => "key set",
    }
}

fn write_provider(f: &mut std::fmt::Formatter<'_>, p: &Provider) -> std::fmt::Result {
    let c = &p.config;
    write!(
        f,
        "{}  {}{}  [{}] {}  model: {}  ({})",
        c.id,
        c.name,
        if p.is_default { " (default)" } else { "" },
        kind_name(c.kind),
        c.base_url,
        if c.default_model.is_empty() {
            "none"
        } else {
            &c.default_model
        },
        key_words(&p.key)
    )
}

/// A price per million tokens, as dollars.
fn price(p: Option<f64>) -> String {
    p.map_or_else(|| "?".to_owned(), |p| format!("${p}"))
}

impl std::fmt::Display for ProviderReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderReport::Providers(list) if list.is_empty() => {
                write!(f, "no providers yet; add one with `confab provider add`")
            }
            ProviderReport::Providers(list) => {
                for (i, p) in list.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write_provider(f, p)?;
                }
                Ok(())
            }
            ProviderReport::Provider(p) => write_provider(f, p),
            ProviderReport::Models(list) => {
                match list.fetched_at {
                    None => write!(f, "never fetched; use --refresh")?,
                    Some(_) => write!(f, "{} models", list.models.len())?,
                }
                for m in &list.models {
                    let star = if list.favourites.contains(&m.id) {
                        "*"
                    } else {
                        " "
                    };
                    write!(f, "\n{star} {}", m.id)?;
                    if m.name != m.id {
                        write!(f, "  {}", m.name)?;
                    }
                    if let Some(n) = m.context_length {
                        write!(f, "  {n} tokens")?;
                    }
                    if m.prompt_price_per_million.is_some()
                        || m.completion_price_per_million.is_some()
                    {
                        write!(
                            f,
                            "  {} in / {} out per million",
                            price(m.prompt_price_per_million),
                            price(m.completion_price_per_million)
                        )?;
                    }
                }
                Ok(())
            }
            ProviderReport::Key(key) => write!(f, "{}", key_words(key)),
            ProviderReport::Tested { models, .. } => {
                write!(
                    f,
                    "the provider accepted the key and offers {models} models"
                )
            }
            ProviderReport::Local(found) if found.is_empty() => {
                write!(f, "no model server answered on 11434, 8080, 5001 or 1234")
            }
            ProviderReport::Local(found) => {
                for (i, s) in found.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(
                        f,
                        "{}  {}  {} models",
                        s.base_url,
                        s.kind_guess,
                        s.models.len()
                    )?;
                }
                Ok(())
            }
            ProviderReport::Done(value) => {
                let parts: BTreeMap<String, String> = value
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                let text: Vec<String> = parts.iter().map(|(k, v)| format!("{k} {v}")).collect();
                write!(f, "{}", text.join(", "))
            }
            ProviderReport::Usage(report) => write_usage(f, report),
        }
    }
}

fn write_usage(f: &mut std::fmt::Formatter<'_>, report: &UsageReport) -> std::fmt::Result {
    if report.rows.is_empty() && report.outcomes.is_empty() {
        return write!(f, "no requests in this period");
    }
    let mut lines = Vec::new();
    let mut total: Option<f64> = None;
    let mut saved: Option<f64> = None;
    for r in &report.rows {
        let mut line = format!(
            "{}  {}  {}  {} requests  {} + {} tokens",
            r.day, r.provider_name, r.model, r.requests, r.prompt_tokens, r.completion_tokens
        );
        if let Some(cost) = r.cost_usd {
            line.push_str(&format!("  ${cost:.4}"));
            total = Some(total.unwrap_or(0.0) + cost);
        }
        if r.cache_read_tokens > 0 || r.cache_write_tokens > 0 {
            line.push_str(&format!(
                "  cache {} read, {} written",
                r.cache_read_tokens, r.cache_write_tokens
            ));
            if let Some(s) = r.cache_saved_usd {
                line.push_str(&format!(", saved ${s:.4}"));
                saved = Some(saved.unwrap_or(0.0) + s);
            }
        }
        lines.push(line);
    }
    if let Some(total) = total {
        lines.push(format!("total where prices are known: ${total:.4}"));
    }
    if let Some(saved) = saved {
        lines.push(format!("saved by prompt caching: ${saved:.4}"));
    }
    if !report.outcomes.is_empty() {
        lines.push("not finished:".to_owned());
        for o in &report.outcomes {
            lines.push(format!("  {}  {}  {}", o.outcome, o.reason, o.count));
        }
    }
    write!(f, "{}", lines.join("\n"))
}
