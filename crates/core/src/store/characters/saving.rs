//! Adding, editing, replacing and deleting characters, with the rows that
//! hang off a card: its avatar, assets, tags and collections.

use sqlx::SqliteConnection;

use super::{
    format_str, hex, internal, not_found, now_ms, spec_str, Inserted, NewCharacter, Thumbnail,
};
use crate::card::{CardData, EmbeddedAsset, Image};
use crate::store::Store;
use crate::{Error, Result};

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
    pub(in crate::store) async fn write_character(
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
        // A group chat is not the character's alone: it leaves the group (the
        // change recorded, its messages kept), and a group it led goes on with
        // its next member rather than being deleted with it.
        sqlx::query(
            "INSERT INTO member_events (id, session_id, character_id, character_name, change, after_message_id, created_at)
             SELECT lower(hex(randomblob(16))), m.session_id, m.character_id, c.name, 'left', s.leaf_id, ?2
             FROM session_members m JOIN characters c ON c.id = m.character_id
             JOIN chat_sessions s ON s.id = m.session_id WHERE m.character_id = ?1",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        sqlx::query(
            "UPDATE chat_sessions SET character_id = (
                 SELECT m.character_id FROM session_members m
                 WHERE m.session_id = chat_sessions.id AND m.character_id <> ?1
                 ORDER BY m.position LIMIT 1)
             WHERE character_id = ?1 AND EXISTS (
                 SELECT 1 FROM session_members m
                 WHERE m.session_id = chat_sessions.id AND m.character_id <> ?1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let deleted = sqlx::query("DELETE FROM characters WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if deleted == 0 {
            return Err(not_found(id));
        }
        // A group left with one member is a 1:1 chat again.
        sqlx::query(
            "DELETE FROM session_members WHERE session_id IN (
                 SELECT session_id FROM session_members GROUP BY session_id HAVING COUNT(*) = 1)",
        )
        .execute(&mut *tx)
        .await
        .map_err(err)?;
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
