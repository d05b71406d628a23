//! The one HTTP client every provider request goes through.
//!
//! - TLS: the operating system's, through reqwest's `native-tls` feature
//!   (SChannel on Windows, Security.framework on macOS, OpenSSL on Linux), with
//!   the system's trust store. Not rustls: reqwest's `rustls` feature brings
//!   aws-lc-rs (cmake, minutes of C on two cores), and `rustls-no-provider` with
//!   ring makes reqwest panic on building *any* client (even a plain-HTTP one,
//!   such as [`crate::llm::find_local_servers`]'s) unless a process-wide crypto
//!   provider was installed first. Measured on this 2-core machine in a scratch
//!   crate over reqwest with `stream` only: `native-tls` added 8.7 s of clean
//!   build (openssl-sys against the system library, openssl, native-tls,
//!   hyper-tls, tokio-native-tls, plus the rebuild of tokio/hyper/reqwest), and
//!   `http2` 5.9 s more (h2); rustls + ring would have been about 12 s.
//!   On Linux it needs `libssl-dev` and `pkg-config` to build, which Tauri's
//!   Linux prerequisites already list.
//! - HTTP/1.1 and HTTP/2 (negotiated by ALPN over TLS).
//! - Connecting may take [`CONNECT_TIMEOUT`]; there is no total timeout, since a
//!   reply streams for minutes: the chat engine bounds the wait for each chunk,
//!   and a model list is bounded by [`super::ModelFetch::timeout`].
//! - Redirects: followed only within the same origin (scheme, host and port),
//!   at most [`MAX_REDIRECTS`]. reqwest itself drops `Authorization`, `Cookie`
//!   and `Proxy-Authorization` on a cross-host redirect, but forwards every other
//!   header, Anthropic's `x-api-key` and the user's extra headers included; so a
//!   redirect elsewhere is not followed and comes back as an error instead.
//! - Proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` from the
//!   environment are honoured as curl does (the desktop settings of macOS and
//!   Windows are not read), but loopback addresses (local model servers) are
//!   never sent through a proxy.

use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};
use reqwest::{NoProxy, Proxy, Url};

use crate::error::{Error, Result};

/// How long connecting to a provider (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The most redirects followed (all within the first address's origin).
pub const MAX_REDIRECTS: usize = 5;

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("Confab/", env!("CARGO_PKG_VERSION"));

/// Hosts never reached through a proxy, whatever `NO_PROXY` says.
const LOOPBACK: &str = "localhost,127.0.0.0/8,::1";

/// The client every provider request goes through (see the module docs).
///
/// No fallback to reqwest's default client: that one follows redirects to any
/// host with the key headers, and panics where this one fails (no TLS library).
pub fn http_client() -> Result<reqwest::Client> {
    http_client_with_env(|name| std::env::var(name).ok())
}

/// [`http_client`] with the proxy variables read through `env` (tests pass their own).
pub fn http_client_with_env(env: impl Fn(&str) -> Option<String>) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(same_origin_redirects())
        // Proxies are configured below, from the environment, loopback excluded.
        .no_proxy();
    for proxy in env_proxies(&env) {
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("could not set up HTTPS: {}", e.without_url())))
}

/// Follows a redirect only to the same scheme, host and port, at most [`MAX_REDIRECTS`] times.
fn same_origin_redirects() -> Policy {
    Policy::custom(|attempt: Attempt<'_>| {
        let same = attempt
            .previous()
            .last()
            .is_some_and(|prev| same_origin(prev, attempt.url()));
        if same && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            // The redirect response itself comes back; callers turn it into an error.
            attempt.stop()
        }
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The proxies the environment asks for, in curl's precedence (the scheme's
/// own variable before `ALL_PROXY`), each skipping `NO_PROXY` and loopback.
fn env_proxies(env: &dyn Fn(&str) -> Option<String>) -> Vec<Proxy> {
    let get = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(env)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let no_proxy = get(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    if no_proxy.split(',').any(|h| h.trim() == "*") {
        return Vec::new();
    }
    let no_proxy = format!("{no_proxy},{LOOPBACK}");
    let mut proxies = Vec::new();
    type MakeProxy = fn(String) -> reqwest::Result<Proxy>;
    let wanted: [([&str; 2], MakeProxy); 3] = [
        (["HTTPS_PROXY", "https_proxy"], Proxy::https::<String>),
        (["HTTP_PROXY", "http_proxy"], Proxy::http::<String>),
        (["ALL_PROXY", "all_proxy"], Proxy::all::<String>),
    ];
    for (names, make) in wanted {
        // A proxy address reqwest cannot read is ignored, as curl ignores it.
        if let Some(proxy) = get(names).and_then(|url| make(url).ok()) {
            proxies.push(proxy.no_proxy(NoProxy::from_string(&no_proxy)));
        }
    }
    proxies
}

/// What to say when a server answered with a redirect Confab did not follow.
pub(crate) fn redirect_error(response: &reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| response.url().join(loc).ok());
    let detail = match target {
        Some(url) if !same_origin(response.url(), &url) => format!(
            "the server sent Confab to another address ({}); Confab does not follow a \
             provider to another server, so that the API key stays with this one: check the \
             base URL",
            origin(&url)
        ),
        _ => "the server kept redirecting; check the base URL".to_owned(),
    };
    Error::Upstream {
        status: Some(status),
        detail,
    }
}

/// `scheme://host[:port]` of a URL: never its path or query, which might hold a secret.
fn origin(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_owned(),
    }
}
