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

/// The response for a request path such as `/thumb/<id>` or `/thumb%2F<id>`.
pub async fn respond(state: &AppState, raw_path: &str) -> Response<Vec<u8>> {
    // convertFileSrc percent-encodes the whole path ("thumb%2F<id>").
    let path = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy();
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (kind, id) = (parts.next(), parts.next());
    let Some(id) = id.filter(|id| !id.is_empty()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let Ok(store) = state.store().await else {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    };
    let found = match kind {
        Some("thumb") => store.avatar(id, true).await,
        Some("full") => store.avatar(id, false).await,
        Some("persona") => store.persona_avatar(id).await,
        _ => return status(StatusCode::NOT_FOUND),
    };
    image_response(found)
}

/// The `attachment://` protocol: images attached to messages, by id.
pub const ATTACHMENT_SCHEME: &str = "attachment";

/// Answers one attachment request without blocking the webview.
pub fn handle_attachment<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let state = ctx.app_handle().state::<AppState>().inner().clone();
    let path = request.uri().path().to_owned();
    tauri::async_runtime::spawn(async move {
        responder.respond(respond_attachment(&state, &path).await);
    });
}

/// The response for an attachment path `/<id>`.
pub async fn respond_attachment(state: &AppState, raw_path: &str) -> Response<Vec<u8>> {
    let id = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy();
    let id = id.trim_start_matches('/');
    if id.is_empty() {
        return status(StatusCode::NOT_FOUND);
    }
    let Ok(store) = state.store().await else {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    };
    image_response(store.image(id).await)
}

fn image_response(found: confab_core::Result<Option<(String, Vec<u8>)>>) -> Response<Vec<u8>> {
    match found {
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

#[cfg(test)]
mod tests {
    use super::*;
    use confab_core::card::{CardData, CardFormat, CardSpec, Image};
    use confab_core::library::content_hash;
    use confab_core::store::{Inserted, NewCharacter, Thumbnail};

    #[tokio::test]
    async fn serves_thumbnails_and_originals_by_encoded_or_plain_path() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::with_data_dir(Ok(dir.path().to_owned()));
        let store = state.store().await.unwrap();
        let card = CardData {
            name: "Aqua".into(),
            ..Default::default()
        };
        let avatar = Image {
            bytes: vec![1, 2, 3],
            mime: "image/webp",
        };
        let thumb = Thumbnail {
            bytes: vec![4, 5],
            mime: "image/jpeg",
        };
        let hash = content_hash(&card);
        let Inserted::New { id } = store
            .insert_character(NewCharacter {
                card: &card,
                original: &serde_json::json!({}),
                spec: CardSpec::V3,
                format: CardFormat::Webp,
                source_file: "aqua.webp",
                content_hash: &hash,
                avatar: Some((&avatar, Some(thumb))),
                assets: &[],
                collections: &[],
            })
            .await
            .unwrap()
        else {
            panic!("a new character");
        };

        let thumb = respond(&state, &format!("/thumb%2F{id}")).await;
        assert_eq!(thumb.status(), StatusCode::OK);
        assert_eq!(thumb.headers()[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(thumb.body(), &[4, 5]);
        let full = respond(&state, &format!("/full/{id}")).await;
        assert_eq!(full.headers()[header::CONTENT_TYPE], "image/webp");
        assert_eq!(full.body(), &[1, 2, 3]);
        assert_eq!(
            respond(&state, "/full/nobody").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            respond(&state, &format!("/other/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            respond(&state, "/thumb/").await.status(),
            StatusCode::NOT_FOUND
        );
    }
}
