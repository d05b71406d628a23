//! Checking a provider configuration before it is saved.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::llm::provider::{append_extra_headers, check_base_url};
use crate::llm::{is_sensitive_header, GenerationSettings, ProviderConfig};

/// The longest provider name.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest base URL.
pub const MAX_URL_CHARS: usize = 2048;
/// The longest model id.
pub const MAX_MODEL_CHARS: usize = 300;
/// The most extra headers.
pub const MAX_HEADERS: usize = 32;
/// The longest extra header value.
pub const MAX_HEADER_VALUE_CHARS: usize = 4096;
/// The most stop strings.
pub const MAX_STOP_STRINGS: usize = 16;
/// The longest stop string.
pub const MAX_STOP_CHARS: usize = 200;
/// The largest `max_tokens`.
pub const MAX_REPLY_TOKENS: u32 = 1_000_000;
/// The longest grammar or JSON schema (bytes).
pub const MAX_GRAMMAR_BYTES: usize = 64 * 1024;
/// The most DRY sequence breakers (KoboldCpp refuses more than 128).
pub const MAX_SEQUENCE_BREAKERS: usize = 64;

fn invalid(text: impl Into<String>) -> Error {
    Error::InvalidInput(text.into())
}

/// The configuration as it is saved: trimmed, checked, with an id.
pub fn normalize(mut config: ProviderConfig) -> Result<ProviderConfig> {
    config.id = config.id.trim().to_owned();
    if config.id.is_empty() {
        config.id = uuid::Uuid::new_v4().to_string();
    } else if config.id.chars().count() > 100 || config.id.chars().any(char::is_control) {
        return Err(invalid(
            "a provider id must be at most 100 characters, none of them control characters",
        ));
    }

    config.name = config.name.trim().to_owned();
    let name_chars = config.name.chars().count();
    if name_chars == 0 {
        return Err(invalid("a provider needs a name"));
    }
    if name_chars > MAX_NAME_CHARS || config.name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "a provider's name must be one line of at most {MAX_NAME_CHARS} characters"
        )));
    }

    config.base_url = config.base_url.trim().to_owned();
    check_url(&config)?;

    config.default_model = config.default_model.trim().to_owned();
    check_model_id(&config.default_model, "the default model")?;

    config.extra_headers = check_headers(&config.extra_headers)?;
    check_generation(&mut config.generation)?;
    Ok(config)
}

fn check_url(config: &ProviderConfig) -> Result<()> {
    check_base_url(config)?;
    let url = &config.base_url;
    if url.chars().count() > MAX_URL_CHARS {
        return Err(invalid(format!(
            "the address of {} is longer than {MAX_URL_CHARS} characters",
            config.name
        )));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        invalid(format!(
            "the address of {} is not a valid URL ({e})",
            config.name
        ))
    })?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "the address of {} names no server",
            config.name
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // The configuration is stored in the clear: credentials belong in the key.
        return Err(invalid(format!(
            "the address of {} contains a user name or password; remove it and set the API key instead",
            config.name
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(format!(
            "the address of {} must not contain `?` or `#`: Confab appends paths such as /models to it",
            config.name
        )));
    }
    Ok(())
}

/// Refuses a plain `http://` address whose server is neither on this computer
/// nor on a private network, unless the user confirmed it
/// (`allow_insecure_http`): the key (a bearer token) and every prompt would
/// cross the internet unencrypted. Checked on save and again before each request.
pub(crate) fn check_transport(config: &ProviderConfig) -> Result<()> {
    let Ok(url) = reqwest::Url::parse(config.base_url.trim()) else {
        return Ok(()); // the shape checks report a URL that does not parse
    };
    if url.scheme() != "http" || config.allow_insecure_http {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    if is_local_host(host) {
        return Ok(());
    }
    Err(invalid(format!(
        "the address of {} is plain http:// to {host}, which is neither this computer nor a \
         private network, so the API key and your chats would travel unencrypted; use \
         https://, or confirm plain HTTP for this provider in its settings",
        config.name
    )))
}

/// This computer (loopback, `localhost`) or a private network: RFC 1918
/// addresses, IPv6 unique-local, link-local, and `.local` (mDNS) names.
pub(crate) fn is_local_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => is_local_v4(ip),
        Ok(std::net::IpAddr::V6(ip)) => {
            let segments = ip.segments();
            ip.is_loopback()
                || (segments[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
                || (segments[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
                || ip.to_ipv4_mapped().is_some_and(is_local_v4)
        }
        Err(_) => {
            host == "localhost"
                || host.ends_with(".localhost")
                || (host.ends_with(".local") && host.len() > ".local".len())
        }
    }
}

fn is_local_v4(ip: std::net::Ipv4Addr) -> bool {
    // 127/8 loopback; 10/8, 172.16/12, 192.168/16 private; 169.254/16 link-local.
    ip.is_loopback() || ip.is_private() || ip.is_link_local()
}

/// A model id: empty (none chosen) or one line of at most [`MAX_MODEL_CHARS`].
pub(crate) fn check_model_id(model: &str, what: &str) -> Result<()> {
    if model.chars().count() > MAX_MODEL_CHARS || model.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} must be one line of at most {MAX_MODEL_CHARS} characters"
        )));
    }
    Ok(())
}

fn check_headers(headers: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    if headers.len() > MAX_HEADERS {
        return Err(invalid(format!(
            "a provider can have at most {MAX_HEADERS} extra headers"
        )));
    }
    let mut out = BTreeMap::new();
    for (name, value) in headers {
        let name = name.trim();
        let value = value.trim();
        if is_sensitive_header(name) {
            // Provider settings are stored in the clear; keys go to the keyring.
            return Err(invalid(format!(
                "the header {name} would carry a credential, which Confab does not keep in the \
                 provider's settings; set it as the provider's API key instead"
            )));
        }
        if value.chars().count() > MAX_HEADER_VALUE_CHARS {
            return Err(invalid(format!(
                "the value of header {name} is longer than {MAX_HEADER_VALUE_CHARS} characters"
            )));
        }
        if out.keys().any(|n: &String| n.eq_ignore_ascii_case(name)) {
            return Err(invalid(format!("the header {name} is given twice")));
        }
        out.insert(name.to_owned(), value.to_owned());
    }
    // The request builder's own check: valid names, no line breaks in values.
    append_extra_headers(&mut Vec::new(), &out)?;
    Ok(out)
}

pub(crate) fn check_generation(g: &mut GenerationSettings) -> Result<()> {
    if let Some(t) = g.temperature {
        if !(t.is_finite() && (0.0..=2.0).contains(&t)) {
            return Err(invalid("the temperature must be between 0 and 2"));
        }
    }
    if let Some(p) = g.top_p {
        if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
            return Err(invalid("top-p must be between 0 and 1"));
        }
    }
    if let Some(m) = g.max_tokens {
        if !(1..=MAX_REPLY_TOKENS).contains(&m) {
            return Err(invalid(format!(
                "the reply token limit must be between 1 and {MAX_REPLY_TOKENS}"
            )));
        }
    }
    // Stop strings keep their whitespace ("\nUser:" is a common one); empty ones go.
    g.stop.retain(|s| !s.is_empty());
    if g.stop.len() > MAX_STOP_STRINGS {
        return Err(invalid(format!(
            "at most {MAX_STOP_STRINGS} stop strings can be set"
        )));
    }
    if g.stop.iter().any(|s| s.chars().count() > MAX_STOP_CHARS) {
        return Err(invalid(format!(
            "a stop string can be at most {MAX_STOP_CHARS} characters"
        )));
    }
    check_samplers(g)
}

/// A float setting within `lo..=hi`, when set.
fn check_range(value: Option<f32>, lo: f32, hi: f32, what: &str) -> Result<()> {
    match value {
        Some(v) if !(v.is_finite() && (lo..=hi).contains(&v)) => {
            Err(invalid(format!("{what} must be between {lo} and {hi}")))
        }
        _ => Ok(()),
    }
}

/// The text-completion samplers: ranges the backends accept, bounded sizes,
/// and an empty grammar or schema taken as none.
fn check_samplers(g: &mut GenerationSettings) -> Result<()> {
    if g.top_k.is_some_and(|k| k > 100_000) {
        return Err(invalid("top-k must be at most 100000"));
    }
    check_range(g.min_p, 0.0, 1.0, "min-p")?;
    check_range(g.typical_p, 0.0, 1.0, "typical-p")?;
    check_range(g.repetition_penalty, 0.0, 10.0, "the repetition penalty")?;
    if g.repetition_penalty_range.is_some_and(|r| r > 1_048_576) {
        return Err(invalid(
            "the repetition penalty range must be at most 1048576 tokens",
        ));
    }
    check_range(
        g.repetition_penalty_slope,
        0.0,
        10.0,
        "the repetition penalty slope",
    )?;
    check_range(g.presence_penalty, -2.0, 2.0, "the presence penalty")?;
    check_range(g.frequency_penalty, -2.0, 2.0, "the frequency penalty")?;
    if let Some(d) = &mut g.dry {
        check_range(Some(d.multiplier), 0.0, 100.0, "the DRY multiplier")?;
        check_range(Some(d.base), 1.0, 100.0, "the DRY base")?;
        if d.allowed_length > 1000 {
            return Err(invalid("the DRY allowed length must be at most 1000"));
        }
        d.sequence_breakers.retain(|s| !s.is_empty());
        if d.sequence_breakers.len() > MAX_SEQUENCE_BREAKERS
            || d.sequence_breakers
                .iter()
                .any(|s| s.chars().count() > MAX_STOP_CHARS)
        {
            return Err(invalid(format!(
                "at most {MAX_SEQUENCE_BREAKERS} DRY sequence breakers of at most {MAX_STOP_CHARS} characters can be set"
            )));
        }
    }
    if let Some(x) = &g.xtc {
        check_range(Some(x.threshold), 0.0, 1.0, "the XTC threshold")?;
        check_range(Some(x.probability), 0.0, 1.0, "the XTC probability")?;
    }
    if let Some(m) = &g.mirostat {
        if m.mode > 2 {
            return Err(invalid("the Mirostat mode must be 0, 1 or 2"));
        }
        check_range(Some(m.tau), 0.0, 100.0, "the Mirostat tau")?;
        check_range(Some(m.eta), 0.0, 10.0, "the Mirostat eta")?;
    }
    for (text, what) in [
        (&mut g.grammar, "the grammar"),
        (&mut g.json_schema, "the JSON schema"),
    ] {
        if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
            *text = None;
        }
        if text.as_deref().is_some_and(|t| t.len() > MAX_GRAMMAR_BYTES) {
            return Err(invalid(format!(
                "{what} can be at most {} KB",
                MAX_GRAMMAR_BYTES / 1024
            )));
        }
    }
    if let Some(schema) = &g.json_schema {
        match serde_json::from_str::<serde_json::Value>(schema) {
            Ok(v) if v.is_object() => {}
            Ok(_) => return Err(invalid("the JSON schema must be a JSON object")),
            Err(e) => return Err(invalid(format!("the JSON schema is not valid JSON ({e})"))),
        }
    }
    Ok(())
}
