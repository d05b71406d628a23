//! Finding model servers running on this computer.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::models::{parse_models, ModelInfo};
use super::provider::ProviderKind;
use super::text::tokenize::parse_kobold_version;

/// The ports local servers listen on by default: Ollama, llama.cpp, KoboldCpp,
/// LM Studio, TabbyAPI (and text-generation-webui), vLLM.
pub const LOCAL_PORTS: [u16; 6] = [11434, 8080, 5001, 1234, 5000, 8000];

/// The most of a model list Confab reads from a local server.
const MAX_MODEL_LIST_BYTES: usize = 16 * 1024 * 1024;

/// A server on 127.0.0.1 that answered as a model server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LocalServer {
    /// Its port.
    pub port: u16,
    /// What it probably is: `ollama`, `llama.cpp`, `koboldcpp`, `lm-studio`,
    /// `tabbyapi`, `vllm` (by port), or `openai-compatible` when nothing tells.
    pub kind_guess: String,
    /// The base URL to configure as an OpenAI-compatible provider (`http://127.0.0.1:<port>/v1`).
    pub base_url: String,
    /// Its models.
    pub models: Vec<ModelInfo>,
    /// The provider kind that speaks its own API: KoboldCpp or llama.cpp when
    /// the server said so, else OpenAI-compatible.
    pub kind: ProviderKind,
    /// The base URL to configure for [`LocalServer::kind`].
    pub kind_base_url: String,
}

/// Probes every port at once, each for at most `timeout` (see `probe`), and
/// returns the servers that answered with a readable model list or as KoboldCpp
/// or llama.cpp, in the order of `ports`. Plain HTTP to the loopback address only; no
/// proxy, no redirects.
pub async fn find_local_servers(ports: &[u16], timeout: Duration) -> Vec<LocalServer> {
    let mut unique: Vec<u16> = Vec::with_capacity(ports.len());
    for p in ports {
        if *p != 0 && !unique.contains(p) {
            unique.push(*p);
        }
    }
    let Ok(client) = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
    else {
        return Vec::new();
    };
    let probes = unique.iter().map(|&port| {
        let client = client.clone();
        async move {
            tokio::time::timeout(timeout, probe(&client, port))
                .await
                .ok()
                .flatten()
        }
    });
    futures_util::future::join_all(probes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Asks one port, all at once: `/v1/models` (any OpenAI-style server),
/// `/api/extra/version` (KoboldCpp answers `{"result":"KoboldCpp"}`) and
/// `/props` (llama.cpp's server). `/health` is not asked: vLLM, TabbyAPI and
/// others answer it too, so it tells nothing.
async fn probe(client: &reqwest::Client, port: u16) -> Option<LocalServer> {
    let root = format!("http://127.0.0.1:{port}");
    let base_url = format!("{root}/v1");
    let (models_body, version_body, props_body) = tokio::join!(
        get_json(client, format!("{base_url}/models")),
        get_json(client, format!("{root}/api/extra/version")),
        get_json(client, format!("{root}/props")),
    );
    let models = models_body
        .as_deref()
        .and_then(|b| parse_models(ProviderKind::OpenAiCompatible, b).ok());
    let is_kobold = version_body
        .as_deref()
        .is_some_and(|b| parse_kobold_version(b).is_ok());
    let is_llama = !is_kobold && props_body.as_deref().is_some_and(looks_like_llamacpp_props);
    let owner_guess = models_body
        .as_deref()
        .map(|b| guess_kind(port, b))
        .unwrap_or("openai-compatible");
    let (kind, kind_guess) = if is_kobold {
        (ProviderKind::KoboldCpp, "koboldcpp")
    } else if is_llama || models_body.as_deref().is_some_and(owned_by_llamacpp) {
        (ProviderKind::LlamaCpp, "llama.cpp")
    } else {
        (ProviderKind::OpenAiCompatible, owner_guess)
    };
    if models.is_none() && kind == ProviderKind::OpenAiCompatible {
        return None;
    }
    let kind_base_url = if kind == ProviderKind::OpenAiCompatible {
        base_url.clone()
    } else {
        root
    };
    Some(LocalServer {
        port,
        kind_guess: kind_guess.to_owned(),
        base_url,
        models: models.unwrap_or_default(),
        kind,
        kind_base_url,
    })
}

/// A JSON body from a 2xx answer, or `None`.
async fn get_json(client: &reqwest::Client, url: String) -> Option<Vec<u8>> {
    let response = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    read_capped(response).await
}

/// Whether a model list says llama.cpp owns its models (the port alone does not count).
fn owned_by_llamacpp(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/data/0/owned_by")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .is_some_and(|o| o.eq_ignore_ascii_case("llamacpp"))
}

/// Whether `/props` answered as llama.cpp's server does (fields its README lists).
pub fn looks_like_llamacpp_props(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).ok().is_some_and(|v| {
        [
            "default_generation_settings",
            "total_slots",
            "chat_template",
            "build_info",
        ]
        .iter()
        .any(|k| v.get(*k).is_some())
    })
}

async fn read_capped(response: reqwest::Response) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.ok()?;
        if body.len() + chunk.len() > MAX_MODEL_LIST_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}

/// What a server is, from what its model list says and, failing that, its port.
fn guess_kind(port: u16, body: &[u8]) -> &'static str {
    let owner = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.pointer("/data/0/owned_by")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    });
    match owner.as_deref() {
        Some("llamacpp") => return "llama.cpp",
        Some("koboldcpp") => return "koboldcpp",
        Some("library") | Some("ollama") => return "ollama",
        Some("organization_owner") => return "lm-studio",
        _ => {}
    }
    match port {
        11434 => "ollama",
        8080 => "llama.cpp",
        5001 => "koboldcpp",
        1234 => "lm-studio",
        5000 => "tabbyapi",
        8000 => "vllm",
        _ => "openai-compatible",
    }
}
