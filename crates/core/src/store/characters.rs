//! The characters repository: cards, avatars, assets, tags and collections.

use serde_json::Value;
use sqlx::{Row, SqliteConnection};

use super::Store;
use crate::card::{CardData, CardFormat, CardSpec, EmbeddedAsset, Image};
use crate::library::{
    CharacterDetail, CharacterQuery, CharacterSort, CharacterSummary, Facet, LibraryFacets,
    StoredAsset,
};
use crate::{Error, Result};

/// A small image for fast lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// Encoded bytes.
    pub bytes: Vec<u8>,
    /// Their MIME type.
    pub mime: &'static str,
}

/// Everything needed to add a character.
#[derive(Debug)]
pub struct NewCharacter<'a> {
    /// The normalised card.
    pub card: &'a CardData,
    /// The original card JSON.
    pub original: &'a Value,
    /// Its spec.
    pub spec: CardSpec,
    /// Its container format.
    pub format: CardFormat,
    /// The file it came from.
    pub source_file: &'a str,
    /// SHA-256 of the canonical card (see `library::content_hash`).
    pub content_hash: &'a str,
    /// The avatar and its thumbnail.
    pub avatar: Option<(&'a Image, Option<Thumbnail>)>,
    /// Other assets.
    pub assets: &'a [EmbeddedAsset],
    /// Collections to put it in.
    pub collections: &'a [String],
}

/// What adding a character did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// A new character with this id.
    New {
        /// Its id.
        id: String,
    },
    /// An identical card was already there; nothing changed.
    Duplicate {
        /// The existing character.
        id: String,
        /// Its name.
        name: String,
    },
}

/// A stored character in full, for export.
#[derive(Debug, Clone)]
pub struct StoredCharacter {
    /// The card.
    pub card: CardData,
    /// The JSON it was imported from, if any.
    pub original: Option<Value>,
    /// The avatar, original bytes.
    pub avatar: Option<Image>,
    /// Assets.
    pub assets: Vec<EmbeddedAsset>,
    /// The world book that came embedded in the card (edits included), if it still exists.
    pub world_book: Option<crate::lore::Book>,
    /// The character's chat-dictionary rules.
    pub dictionary: Vec<crate::lore::DictionaryRule>,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn spec_str(spec: CardSpec) -> &'static str {
    match spec {
        CardSpec::V1 => "v1",
        CardSpec::V2 => "v2",
        CardSpec::V3 => "v3",
    }
}

fn parse_spec(s: &str) -> CardSpec {
    match s {
        "v1" => CardSpec::V1,
        "v2" => CardSpec::V2,
        _ => CardSpec::V3,
    }
}

fn format_str(format: CardFormat) -> &'static str {
    match format {
        CardFormat::Png => "png",
        CardFormat::Json => "json",
        CardFormat::Charx => "charx",
        CardFormat::Yaml => "yaml",
        CardFormat::Text => "text",
        CardFormat::Webp => "webp",
        CardFormat::Jpeg => "jpeg",
    }
}

fn parse_format(s: &str) -> CardFormat {
    match s {
        "png" => CardFormat::Png,
        "charx" => CardFormat::Charx,
        "yaml" => CardFormat::Yaml,
        "text" => CardFormat::Text,
        "webp" => CardFormat::Webp,
        "jpeg" => CardFormat::Jpeg,
        _ => CardFormat::Json,
    }
}

/// MIME types we store, as static strings (the DB holds text).
fn static_mime(mime: &str) -> &'static str {
    match mime {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/webp" => "image/webp",
        "image/gif" => "image/gif",
        "image/avif" => "image/avif",
        _ => "application/octet-stream",
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: format!("character {id}"),
    }
}

/// Reads `card_json`: strictly as Confab writes it, else leniently (rows from
/// before the library, hand-edited rows), else the name column alone.
fn decode_card(card_json: &str, name: &str) -> CardData {
    let mut card: CardData = serde_json::from_str(card_json).unwrap_or_else(|_| {
        serde_json::from_str::<Value>(card_json)
            .ok()
            .and_then(|data| {
                let wrapped = serde_json::json!({"spec": "chara_card_v3", "data": data});
                crate::card::normalize(&wrapped, name)
                    .ok()
                    .map(|(card, _)| card)
            })
            .unwrap_or_default()
    });
    if card.name.is_empty() {
        card.name = name.to_owned();
    }
    card
}

impl Store {
    /// Adds a character unless an identical card is already in the library.
    pub async fn insert_character(&self, new: NewCharacter<'_>) -> Result<Inserted> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let inserted = self.write_character(&mut tx, new).await?;
        tx.commit().await.map_err(err)?;
        Ok(inserted)
    }

    /// [`Store::insert_character`] inside the caller's transaction.
    pub(super) async fn write_character(
        &self,
        tx: &mut SqliteConnection,
        new: NewCharacter<'_>,
    ) -> Result<Inserted> {
        let err = |e| self.sql_error(e);
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT id, name FROM characters WHERE content_hash = ? LIMIT 1")
                .bind(new.content_hash)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
        if let Some((id, name)) = existing {
            return Ok(Inserted::Duplicate { id, name });
        }

        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        // Card and original are written one after the other, so a huge card is
        // held as JSON text (and copied by SQLite) only once at a time.
        let card_json = serde_json::to_string(new.card).map_err(internal)?;
        sqlx::query(
            "INSERT INTO characters (id, name, created_at, updated_at, creator, card_json,
                 spec, format, source_file, content_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&new.card.name)
        .bind(now)
        .bind(now)
        .bind(&new.card.creator)
        .bind(card_json)
        .bind(spec_str(new.spec))
        .bind(format_str(new.format))
        .bind(new.source_file)
        .bind(new.content_hash)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let original_json = serde_json::to_string(new.original).map_err(internal)?;
        sqlx::query("UPDATE characters SET original_json = ? WHERE id = ?")
            .bind(original_json)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;

        if let Some((avatar, thumb)) = new.avatar {
            write_avatar(&mut *tx, &id, avatar, thumb.as_ref())
                .await
                .map_err(err)?;
        }
        write_assets(&mut *tx, &id, new.assets).await.map_err(err)?;
        write_tags(&mut *tx, &id, &new.card.tags)
            .await
            .map_err(err)?;
        for collection in new.collections {
            add_to_collection(&mut *tx, &id, collection)
                .await
                .map_err(err)?;
        }
        Ok(Inserted::New { id })
    }

    /// Another character with this name (case-insensitive), if there is one.
    pub async fn character_named(&self, name: &str, except_id: &str) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT id FROM characters WHERE name = ? COLLATE NOCASE AND id <> ?
             ORDER BY created_at LIMIT 1",
        )
        .bind(name)
        .bind(except_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// The characters matching `query`, in its order.
    pub async fn character_summaries(
        &self,
        query: &CharacterQuery,
    ) -> Result<Vec<CharacterSummary>> {
        let order = match query.sort {
            CharacterSort::Name => "c.name COLLATE NOCASE, c.created_at",
            CharacterSort::RecentlyUsed => {
                "COALESCE(c.last_used_at, 0) DESC, c.created_at DESC, c.name COLLATE NOCASE"
            }
            CharacterSort::RecentlyAdded => "c.created_at DESC, c.name COLLATE NOCASE",
        };
        let sql = format!(
            "SELECT c.id, c.name, c.creator, c.created_at, c.updated_at, c.last_used_at,
                    a.hash AS avatar_hash,
                    (SELECT json_group_array(tag) FROM
                        (SELECT tag FROM character_tags t WHERE t.character_id = c.id ORDER BY position))
                        AS tags,
                    (SELECT json_group_array(name) FROM
                        (SELECT k.name FROM character_collections cc
                         JOIN collections k ON k.id = cc.collection_id
                         WHERE cc.character_id = c.id ORDER BY k.name COLLATE NOCASE))
                        AS collections
             FROM characters c
             LEFT JOIN character_avatars a ON a.character_id = c.id
             WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM character_tags t
                                          WHERE t.character_id = c.id AND t.tag = ?1))
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM character_collections cc
                                          JOIN collections k ON k.id = cc.collection_id
                                          WHERE cc.character_id = c.id AND k.name = ?2))
             ORDER BY {order}"
        );
        let rows = sqlx::query(&sql)
            .bind(query.tag.as_deref())
            .bind(query.collection.as_deref())
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        let words: Vec<String> = query
            .search
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let summary = summary_from_row(&row).map_err(|e| self.sql_error(e))?;
            if matches_words(&summary, &words) {
                out.push(summary);
            }
        }
        Ok(out)
    }

    /// One character's grid fields.
    pub async fn character_summary(&self, id: &str) -> Result<CharacterSummary> {
        let row = sqlx::query(
            "SELECT c.id, c.name, c.creator, c.created_at, c.updated_at, c.last_used_at,
                    a.hash AS avatar_hash,
                    (SELECT json_group_array(tag) FROM
                        (SELECT tag FROM character_tags t WHERE t.character_id = c.id ORDER BY position))
                        AS tags,
                    (SELECT json_group_array(name) FROM
                        (SELECT k.name FROM character_collections cc
                         JOIN collections k ON k.id = cc.collection_id
                         WHERE cc.character_id = c.id ORDER BY k.name COLLATE NOCASE))
                        AS collections
             FROM characters c LEFT JOIN character_avatars a ON a.character_id = c.id
             WHERE c.id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .ok_or_else(|| not_found(id))?;
        summary_from_row(&row).map_err(|e| self.sql_error(e))
    }

    /// Everything about one character.
    pub async fn character_detail(&self, id: &str) -> Result<CharacterDetail> {
        let summary = self.character_summary(id).await?;
        let (card_json, spec, format, source_file): (String, String, String, String) =
            sqlx::query_as(
                "SELECT card_json, spec, format, source_file FROM characters WHERE id = ?",
            )
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .ok_or_else(|| not_found(id))?;
        let assets: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT kind, name, ext, length(bytes) FROM character_assets
             WHERE character_id = ? ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        let pending_dictionary = self.pending_dictionary(id).await?;
        Ok(CharacterDetail {
            pending_dictionary,
            card: decode_card(&card_json, &summary.name),
            summary,
            spec: parse_spec(&spec),
            format: parse_format(&format),
            source_file,
            assets: assets
                .into_iter()
                .map(|(kind, name, ext, size)| StoredAsset {
                    kind,
                    name,
                    ext,
                    size: u32::try_from(size).unwrap_or(u32::MAX),
                })
                .collect(),
        })
    }

    /// A character in full, avatar and assets included, for export.
    pub async fn stored_character(&self, id: &str) -> Result<StoredCharacter> {
        let err = |e| self.sql_error(e);
        let (name, card_json, original_json): (String, String, Option<String>) =
            sqlx::query_as("SELECT name, card_json, original_json FROM characters WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(err)?
                .ok_or_else(|| not_found(id))?;
        let avatar: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT mime, bytes FROM character_avatars WHERE character_id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(err)?;
        let assets: Vec<(String, String, String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT kind, name, ext, path, bytes FROM character_assets
             WHERE character_id = ? ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        let world_book = match self.embedded_world_book_id(id).await? {
            Some(book_id) => Some(self.world_book(&book_id).await?.0),
            None => None,
        };
        let dictionary = self.dictionary(Some(id)).await?;
        Ok(StoredCharacter {
            world_book,
            dictionary,
            card: decode_card(&card_json, &name),
            original: original_json.and_then(|j| serde_json::from_str(&j).ok()),
            avatar: avatar.map(|(mime, bytes)| Image {
                mime: static_mime(&mime),
                bytes,
            }),
            assets: assets
                .into_iter()
                .map(|(kind, name, ext, path, bytes)| EmbeddedAsset {
                    kind,
                    name,
                    ext,
                    path,
                    bytes,
                })
                .collect(),
        })
    }

    /// The avatar (or its thumbnail): MIME type and bytes.
    pub async fn avatar(&self, id: &str, thumbnail: bool) -> Result<Option<(String, Vec<u8>)>> {
        let sql = if thumbnail {
            "SELECT COALESCE(thumb_mime, mime), COALESCE(thumb, bytes)
             FROM character_avatars WHERE character_id = ?"
        } else {
            "SELECT mime, bytes FROM character_avatars WHERE character_id = ?"
        };
        sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))
    }

    /// Saves an edited card; `content_hash` is the new card's hash.
    pub async fn update_character_card(
        &self,
        id: &str,
        card: &CardData,
        content_hash: &str,
    ) -> Result<()> {
        let err = |e| self.sql_error(e);
        let card_json = serde_json::to_string(card).map_err(internal)?;
        let mut tx = self.write_tx().await.map_err(err)?;
        let changed = sqlx::query(
            "UPDATE characters SET name = ?, creator = ?, card_json = ?, content_hash = ?,
                 updated_at = ? WHERE id = ?",
        )
        .bind(&card.name)
        .bind(&card.creator)
        .bind(&card_json)
        .bind(content_hash)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected();
        if changed == 0 {
            return Err(not_found(id));
        }
        write_tags(&mut tx, id, &card.tags).await.map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// Deletes a character and everything that hangs off it (chats included).
    pub async fn delete_character(&self, id: &str) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let deleted = sqlx::query("DELETE FROM characters WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if deleted == 0 {
            return Err(not_found(id));
        }
        delete_empty_collections(&mut tx).await.map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// Moves `source`'s card, avatar and assets into `target` (which keeps its
    /// id, chats and collections) and removes `source`, in one transaction.
    pub async fn replace_character(&self, target: &str, source: &str) -> Result<()> {
        if target == source {
            return Err(Error::InvalidInput(
                "a character cannot replace itself".into(),
            ));
        }
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        for id in [target, source] {
            let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM characters WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
            if found.is_none() {
                return Err(not_found(id));
            }
        }
        sqlx::query(
            "UPDATE characters SET (name, creator, card_json, original_json, spec, format,
                 source_file, content_hash, updated_at) =
               (SELECT name, creator, card_json, original_json, spec, format, source_file,
                       content_hash, ? FROM characters WHERE id = ?)
             WHERE id = ?",
        )
        .bind(now_ms())
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        for table in ["character_avatars", "character_assets", "character_tags"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE character_id = ?"))
                .bind(target)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            sqlx::query(&format!(
                "UPDATE {table} SET character_id = ? WHERE character_id = ?"
            ))
            .bind(target)
            .bind(source)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        sqlx::query(
            "INSERT OR IGNORE INTO character_collections (character_id, collection_id)
             SELECT ?, collection_id FROM character_collections WHERE character_id = ?",
        )
        .bind(target)
        .bind(source)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        sqlx::query("DELETE FROM characters WHERE id = ?")
            .bind(source)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// Tags (most used first) and collections (by name) with their counts.
    pub async fn library_facets(&self) -> Result<LibraryFacets> {
        let err = |e| self.sql_error(e);
        let tags: Vec<(String, i64)> = sqlx::query_as(
            "SELECT MIN(tag), COUNT(*) FROM character_tags GROUP BY tag
             ORDER BY COUNT(*) DESC, MIN(tag) COLLATE NOCASE",
        )
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        let collections: Vec<(String, i64)> = sqlx::query_as(
            "SELECT k.name, COUNT(cc.character_id) FROM collections k
             JOIN character_collections cc ON cc.collection_id = k.id
             GROUP BY k.id ORDER BY k.name COLLATE NOCASE",
        )
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        let facet = |(name, count): (String, i64)| Facet {
            name,
            count: u32::try_from(count).unwrap_or(u32::MAX),
        };
        Ok(LibraryFacets {
            tags: tags.into_iter().map(facet).collect(),
            collections: collections.into_iter().map(facet).collect(),
        })
    }
}

fn internal(e: serde_json::Error) -> Error {
    Error::Internal(format!("could not encode a card: {e}"))
}

fn summary_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<CharacterSummary, sqlx::Error> {
    let list = |column: &str| -> Result<Vec<String>, sqlx::Error> {
        let text: Option<String> = row.try_get(column)?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    };
    Ok(CharacterSummary {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        creator: row.try_get("creator")?,
        tags: list("tags")?,
        collections: list("collections")?,
        avatar_key: row.try_get("avatar_hash")?,
        created_at: row.try_get::<i64, _>("created_at")? as f64,
        updated_at: row.try_get::<i64, _>("updated_at")? as f64,
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(|t| t as f64),
    })
}

/// Every word appears in the name, creator or a tag (case-insensitive).
fn matches_words(summary: &CharacterSummary, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let haystack = format!(
        "{}\n{}\n{}",
        summary.name,
        summary.creator,
        summary.tags.join("\n")
    )
    .to_lowercase();
    words.iter().all(|w| haystack.contains(w.as_str()))
}

async fn write_avatar(
    conn: &mut SqliteConnection,
    id: &str,
    avatar: &Image,
    thumb: Option<&Thumbnail>,
) -> Result<(), sqlx::Error> {
    use sha2::{Digest, Sha256};
    let hash = hex(&Sha256::digest(&avatar.bytes)[..8]);
    sqlx::query(
        "INSERT OR REPLACE INTO character_avatars (character_id, mime, bytes, thumb_mime, thumb, hash)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(avatar.mime)
    .bind(&avatar.bytes)
    .bind(thumb.map(|t| t.mime))
    .bind(thumb.map(|t| t.bytes.as_slice()))
    .bind(hash)
    .execute(conn)
    .await
    .map(|_| ())
}

async fn write_assets(
    conn: &mut SqliteConnection,
    id: &str,
    assets: &[EmbeddedAsset],
) -> Result<(), sqlx::Error> {
    for (position, asset) in assets.iter().enumerate() {
        sqlx::query(
            "INSERT INTO character_assets (id, character_id, position, kind, name, ext, path, bytes)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&asset.kind)
        .bind(&asset.name)
        .bind(&asset.ext)
        .bind(&asset.path)
        .bind(&asset.bytes)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_tags(
    conn: &mut SqliteConnection,
    id: &str,
    tags: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM character_tags WHERE character_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (position, tag) in tags.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty() {
            continue;
        }
        // A card may list the same tag twice (or in two cases): keep the first.
        sqlx::query(
            "INSERT OR IGNORE INTO character_tags (character_id, tag, position) VALUES (?, ?, ?)",
        )
        .bind(id)
        .bind(tag)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn add_to_collection(
    conn: &mut SqliteConnection,
    id: &str,
    collection: &str,
) -> Result<(), sqlx::Error> {
    let name = collection.trim();
    if name.is_empty() {
        return Ok(());
    }
    sqlx::query("INSERT OR IGNORE INTO collections (id, name) VALUES (?, ?)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(name)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT OR IGNORE INTO character_collections (character_id, collection_id)
         SELECT ?, id FROM collections WHERE name = ?",
    )
    .bind(id)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn delete_empty_collections(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM collections WHERE id NOT IN (SELECT collection_id FROM character_collections)",
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Lowercase hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
