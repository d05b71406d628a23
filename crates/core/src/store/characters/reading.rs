//! Reading characters: the library's grid (search, sort, filters, tag and
//! collection counts), one character's detail, its avatar, and a character in
//! full for export.

use sqlx::Row;

use super::{decode_card, not_found, parse_format, parse_spec, static_mime, StoredCharacter};
use crate::card::{EmbeddedAsset, Image};
use crate::library::{
    CharacterDetail, CharacterQuery, CharacterSort, CharacterSummary, Facet, LibraryFacets,
    StoredAsset,
};
use crate::store::Store;
use crate::Result;

impl Store {
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
            // Added in the same millisecond (an import): the later one first.
            CharacterSort::RecentlyAdded => "c.created_at DESC, c.rowid DESC",
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

    /// A character's card alone: what a prompt is built from, in one query.
    pub async fn character_card(&self, id: &str) -> Result<crate::card::CardData> {
        let (name, card_json): (String, String) =
            sqlx::query_as("SELECT name, card_json FROM characters WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?
                .ok_or_else(|| not_found(id))?;
        Ok(decode_card(&card_json, &name))
    }

    /// The character imported from a file of this name (any case), if one was; the oldest when several were.
    pub async fn character_from_file(&self, file_name: &str) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT id FROM characters WHERE source_file = ? COLLATE NOCASE ORDER BY created_at LIMIT 1",
        )
        .bind(file_name)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
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
