//! Keys kept encrypted in the database: the fallback a user chooses when no
//! keyring answers. Only ciphertext is stored here; sealing and opening it is
//! `secrets::encrypted`'s job, so no plaintext key ever reaches this module.

use super::characters::now_ms;
use super::Store;
use crate::Result;

/// One sealed key as it sits in `encrypted_secrets`: the Argon2id salt, the
/// XChaCha20-Poly1305 nonce and the ciphertext (with its tag).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct EncryptedSecret {
    /// The per-row salt the key-encryption key was derived with.
    pub salt: Vec<u8>,
    /// The AEAD nonce.
    pub nonce: Vec<u8>,
    /// The sealed key followed by its authentication tag.
    pub ciphertext: Vec<u8>,
}

// Lengths only: nothing here is secret, but nothing here is worth printing either.
impl std::fmt::Debug for EncryptedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedSecret")
            .field("salt_len", &self.salt.len())
            .field("nonce_len", &self.nonce.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

impl Store {
    /// The sealed key of `account`, if one is kept in the database.
    pub(crate) async fn encrypted_secret(&self, account: &str) -> Result<Option<EncryptedSecret>> {
        let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT salt, nonce, ciphertext FROM encrypted_secrets WHERE account = ?",
        )
        .bind(account)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(row.map(|(salt, nonce, ciphertext)| EncryptedSecret {
            salt,
            nonce,
            ciphertext,
        }))
    }

    /// Whether a sealed key of `account` is kept in the database (nothing is decrypted).
    pub(crate) async fn has_encrypted_secret(&self, account: &str) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM encrypted_secrets WHERE account = ?")
                .bind(account)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        Ok(found.is_some())
    }

    /// Stores (or replaces) the sealed key of `account`.
    pub(crate) async fn save_encrypted_secret(
        &self,
        account: &str,
        sealed: &EncryptedSecret,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO encrypted_secrets (account, salt, nonce, ciphertext, created_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (account) DO UPDATE SET salt = excluded.salt, nonce = excluded.nonce,
                 ciphertext = excluded.ciphertext, created_at = excluded.created_at",
        )
        .bind(account)
        .bind(&sealed.salt)
        .bind(&sealed.nonce)
        .bind(&sealed.ciphertext)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// Removes the sealed key of `account`; whether there was one.
    pub(crate) async fn delete_encrypted_secret(&self, account: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM encrypted_secrets WHERE account = ?")
            .bind(account)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(done.rows_affected() > 0)
    }
}
