//! The `avatar://` protocol: avatars and thumbnails straight from the database.
//!
//! `avatar://localhost/thumb/<id>` and `avatar://localhost/full/<id>` (on Windows
//! `http://avatar.localhost/...`); the UI adds `?v=<avatarKey>` so a changed
//! avatar is fetched again while an unchanged one comes from the cache.

use tauri::http::{header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::AppState;

/// The scheme name the UI uses with `convertFileSrc(path, "avatar")`.
pub const SCHEME: &str = "avatar";

/// Answers one avatar request without blocking the webview.
pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let state = ctx.app_handle().state::<AppState>().inner().clone();
    let path = request.uri().path().to_owned();
    tauri::async_runtime::spawn(async move {
        responder.respond(respond(&state, &path).await);
    });
}

async fn respond(state: &AppState, path: &str) -> Response<Vec<u8>> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (kind, id) = (parts.next(), parts.next());
    let thumbnail = match kind {
        Some("thumb") => true,
        Some("full") => false,
        _ => return status(StatusCode::NOT_FOUND),
    };
    let Some(id) = id.filter(|id| !id.is_empty()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let Ok(store) = state.store().await else {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    };
    match store.avatar(id, thumbnail).await {
        Ok(Some((mime, bytes))) => Response::builder()
            .header(header::CONTENT_TYPE, mime)
            // The URL carries the avatar's hash, so a cached copy is never stale.
            .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
            .body(bytes)
            .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)),
        Ok(None) => status(StatusCode::NOT_FOUND),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn status(code: StatusCode) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = code;
    response
}
