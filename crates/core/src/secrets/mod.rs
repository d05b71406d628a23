//! API keys: the OS keyring in production, an in-memory store for tests, and
//! two fallbacks the user chooses and can see when no keyring is reachable
//! (this run only, or encrypted in the database). Never a plaintext file.
//!
//! A key is stored under the account `provider:<provider id>` of the service
//! [`SERVICE`]. No function here returns a key except [`Keys::get`], which only
//! the request builder calls; the UI sees a [`KeyStatus`].
#![allow(unused_variables, clippy::todo)] // CONTRACT: remove with the last todo!().

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Store;

/// The keyring service every Confab key is stored under.
pub const SERVICE: &str = "confab";

/// The environment variable holding the passphrase for keys kept encrypted in the database.
pub const ENCRYPTION_KEY_VAR: &str = "CONFAB_ENCRYPTION_KEY";

/// The keyring account of a provider's key.
pub fn account_for(provider_id: &str) -> String {
    format!("provider:{provider_id}")
}

/// A place secrets can be kept. Calls may block (D-Bus, Keychain): run them off the async threads.
pub trait SecretStore: Send + Sync + std::fmt::Debug {
    /// The secret of `account`, `None` when there is none.
    fn get(&self, account: &str) -> Result<Option<String>>;
    /// Stores (or replaces) the secret of `account`.
    fn set(&self, account: &str, secret: &str) -> Result<()>;
    /// Removes the secret of `account`; removing a missing one is not an error.
    fn delete(&self, account: &str) -> Result<()>;
}

/// Secrets kept in memory: the tests' store, and the "this run only" fallback.
#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, String>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        Ok(self.lock()?.get(account).cloned())
    }

    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.lock()?.insert(account.to_owned(), secret.to_owned());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.lock()?.remove(account);
        Ok(())
    }
}

impl MemoryStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>> {
        self.secrets
            .lock()
            .map_err(|_| Error::Internal("the in-memory key store was poisoned".into()))
    }
}

/// Where a key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum KeyStorage {
    /// The OS keyring (Secret Service, Keychain, Credential Manager).
    Keyring,
    /// Memory only: forgotten when Confab quits.
    Session,
    /// Encrypted in the database with a key from `CONFAB_ENCRYPTION_KEY`.
    Encrypted,
}

/// What the UI may know about a provider's key: whether one is set, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeyStatus {
    /// Whether a key is set.
    pub set: bool,
    /// Where it is kept, when set.
    pub storage: Option<KeyStorage>,
}

/// Which places can keep keys on this machine right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeyStorageOptions {
    /// Whether the OS keyring answered.
    pub keyring: bool,
    /// Whether `CONFAB_ENCRYPTION_KEY` is set, so keys can be kept encrypted in the database.
    pub encrypted: bool,
}

/// Every provider's key, wherever it is kept. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Keys {
    os: std::sync::Arc<dyn SecretStore>,
    session: MemoryStore,
    #[allow(dead_code)] // CONTRACT: the encrypted fallback.
    store: Store,
    #[allow(dead_code)]
    passphrase: Option<String>,
}

impl Keys {
    /// Keys kept in `os` (the OS keyring in the app), with the database
    /// fallback unlocked by `passphrase` when one is given.
    pub fn new(
        os: std::sync::Arc<dyn SecretStore>,
        store: Store,
        passphrase: Option<String>,
    ) -> Keys {
        Keys {
            os,
            session: MemoryStore::default(),
            store,
            passphrase,
        }
    }

    /// Keys kept in memory only: for tests and tools.
    pub fn in_memory(store: Store) -> Keys {
        Keys::new(std::sync::Arc::new(MemoryStore::default()), store, None)
    }

    /// Keys in the OS keyring, with the passphrase from [`ENCRYPTION_KEY_VAR`] when set.
    pub fn from_env(store: Store) -> Keys {
        todo!("CONTRACT: secrets work")
    }

    /// Stores `key` for a provider in `storage`, removing it from the other places.
    /// The keyring failing is [`Error::KeyringUnavailable`]; `Encrypted` without
    /// a passphrase is [`Error::InvalidInput`] naming the variable.
    pub async fn set(
        &self,
        provider_id: &str,
        key: &str,
        storage: KeyStorage,
    ) -> Result<KeyStatus> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::InvalidInput("the API key is empty".into()));
        }
        let account = account_for(provider_id);
        match storage {
            KeyStorage::Keyring => {
                let os = self.os.clone();
                let (account2, key2) = (account.clone(), key.to_owned());
                blocking(move || os.set(&account2, &key2)).await?;
                self.session.delete(&account)?;
            }
            KeyStorage::Session => {
                self.session.set(&account, key)?;
            }
            KeyStorage::Encrypted => todo!("CONTRACT: secrets work"),
        }
        self.status(provider_id).await
    }

    /// A provider's key (this run's, then the keyring's, then the database's).
    pub async fn get(&self, provider_id: &str) -> Result<Option<String>> {
        let account = account_for(provider_id);
        if let Some(key) = self.session.get(&account)? {
            return Ok(Some(key));
        }
        let os = self.os.clone();
        blocking(move || os.get(&account)).await
    }

    /// Removes a provider's key from every place.
    pub async fn delete(&self, provider_id: &str) -> Result<KeyStatus> {
        let account = account_for(provider_id);
        self.session.delete(&account)?;
        let os = self.os.clone();
        blocking(move || os.delete(&account)).await?;
        self.status(provider_id).await
    }

    /// Whether a provider has a key, and where.
    pub async fn status(&self, provider_id: &str) -> Result<KeyStatus> {
        let account = account_for(provider_id);
        if self.session.get(&account)?.is_some() {
            return Ok(KeyStatus {
                set: true,
                storage: Some(KeyStorage::Session),
            });
        }
        let os = self.os.clone();
        let in_os = blocking(move || os.get(&account)).await?.is_some();
        Ok(KeyStatus {
            set: in_os,
            storage: in_os.then_some(KeyStorage::Keyring),
        })
    }

    /// Which places can keep keys now (the keyring is probed).
    pub async fn options(&self) -> KeyStorageOptions {
        todo!("CONTRACT: secrets work")
    }
}

/// Runs a blocking secret-store call off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("a key store call failed: {e}")))?
}
