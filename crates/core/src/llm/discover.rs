//! Finding model servers running on this computer.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::models::{parse_models, ModelInfo};
use super::provider::ProviderKind;

/// The ports local servers listen on by default: Ollama, llama.cpp, KoboldCpp, LM Studio.
pub const LOCAL_PORTS: [u16; 4] = [11434, 8080, 5001, 1234];

/// The most of a model list Confab reads from a local server.
const MAX_MODEL_LIST_BYTES: usize = 16 * 1024 * 1024;

/// A server on 127.0.0.1 that answered with a model list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LocalServer {
    /// Its port.
    pub port: u16,
    /// What it probably is: `ollama`, `llama.cpp`, `koboldcpp`, `lm-studio`,
    /// or `openai-compatible` when nothing tells.
    pub kind_guess: String,
    /// The base URL to configure (`http://127.0.0.1:<port>/v1`).
    pub base_url: String,
    /// Its models.
    pub models: Vec<ModelInfo>,
}

/// Probes `http://127.0.0.1:{port}/v1/models` on every port at once, each for at
/// most `timeout`, and returns the servers that answered with a readable model
/// list, in the order of `ports`. Plain HTTP to the loopback address only; no
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

async fn probe(client: &reqwest::Client, port: u16) -> Option<LocalServer> {
    let base_url = format!("http://127.0.0.1:{port}/v1");
    let response = client
        .get(format!("{base_url}/models"))
        .header("Accept", "application/json")
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = read_capped(response).await?;
    let models = parse_models(ProviderKind::OpenAiCompatible, &body).ok()?;
    Some(LocalServer {
        port,
        kind_guess: guess_kind(port, &body).to_owned(),
        base_url,
        models,
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
        _ => "openai-compatible",
    }
}
