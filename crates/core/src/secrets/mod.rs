//! API keys: the OS keyring in production, an in-memory store for tests, and
//! two fallbacks the user chooses and can see when no keyring is reachable
//! (this run only, or encrypted in the database). Never a plaintext file.
//!
//! A key is stored under the account `provider:<provider id>` of the service
//! [`SERVICE`]. No function here returns a key except [`Keys::get`], which only
//! the request builder calls; the UI sees a [`KeyStatus`].
//!
//! Where no keyring answers, [`Keys::set`] with [`KeyStorage::Keyring`] fails
//! with [`Error::KeyringUnavailable`] and stores nothing: the user then picks
//! [`KeyStorage::Session`] or [`KeyStorage::Encrypted`] and sees which one is
//! in force through [`KeyStatus`]. Nothing ever falls back on its own.

mod encrypted;
mod keyring;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::store::Store;
use encrypted::Vault;

pub use self::keyring::KeyringStore;

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

/// The longest API key accepted, in bytes (real ones are under 200).
pub const MAX_KEY_BYTES: usize = 4096;

/// The account [`Keys::options`] reads to see whether the keyring answers; never written.
const PROBE_ACCOUNT: &str = "probe:availability";

/// Secrets kept in memory: the tests' store, and the "this run only" fallback.
#[derive(Default)]
pub struct MemoryStore {
    // Zeroizing: a replaced or deleted key is wiped, not left in freed memory.
    secrets: Mutex<HashMap<String, Zeroizing<String>>>,
}

// Which accounts, never their secrets.
impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("MemoryStore");
        match self.secrets.try_lock() {
            Ok(secrets) => {
                let mut accounts: Vec<&String> = secrets.keys().collect();
                accounts.sort();
                out.field("accounts", &accounts)
            }
            Err(_) => out.field("accounts", &"<locked>"),
        };
        out.finish_non_exhaustive()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        Ok(self.lock()?.get(account).map(|s| String::clone(s)))
    }

    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.lock()?
            .insert(account.to_owned(), Zeroizing::new(secret.to_owned()));
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.lock()?.remove(account);
        Ok(())
    }
}

impl MemoryStore {
    /// Whether `account` has a secret here (without copying it).
    fn contains(&self, account: &str) -> Result<bool> {
        Ok(self.lock()?.contains_key(account))
    }

    /// Removes the secret of `account`; whether there was one.
    fn remove(&self, account: &str) -> Result<bool> {
        Ok(self.lock()?.remove(account).is_some())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Zeroizing<String>>>> {
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

impl KeyStatus {
    /// No key anywhere.
    const NOT_SET: KeyStatus = KeyStatus {
        set: false,
        storage: None,
    };

    fn kept_in(storage: KeyStorage) -> KeyStatus {
        KeyStatus {
            set: true,
            storage: Some(storage),
        }
    }
}

/// Every provider's key, wherever it is kept. Cheap to share behind an `Arc`.
///
/// A key lives in one place at a time: [`Keys::set`] removes it from the
/// other two. Reads look in this run's memory, then the keyring, then the
/// database, so a keyring that stops answering never hides a key kept elsewhere.
pub struct Keys {
    os: Arc<dyn SecretStore>,
    session: MemoryStore,
    store: Store,
    // Present when CONFAB_ENCRYPTION_KEY (or the caller) gave a passphrase.
    vault: Option<Arc<Vault>>,
}

// Written by hand so that no key or passphrase can reach a log through `{:?}`.
impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("os", &self.os)
            .field("session", &self.session)
            .field("store", &self.store.path())
            .field(
                "encrypted",
                &if self.vault.is_some() {
                    "passphrase set [redacted]"
                } else {
                    "no passphrase"
                },
            )
            .finish()
    }
}

impl Keys {
    /// Keys kept in `os` (the OS keyring in the app), with the database
    /// fallback unlocked by `passphrase` when one is given (an empty or
    /// all-whitespace one counts as none).
    pub fn new(
        os: std::sync::Arc<dyn SecretStore>,
        store: Store,
        passphrase: Option<String>,
    ) -> Keys {
        let vault = passphrase
            .map(Zeroizing::new)
            .filter(|p| !p.trim().is_empty())
            .map(|p| Arc::new(Vault::new(String::clone(&p))));
        Keys {
            os,
            session: MemoryStore::default(),
            store,
            vault,
        }
    }

    /// Keys kept in memory only: for tests and tools.
    pub fn in_memory(store: Store) -> Keys {
        Keys::new(std::sync::Arc::new(MemoryStore::default()), store, None)
    }

    /// Keys in the OS keyring, with the passphrase from [`ENCRYPTION_KEY_VAR`] when set.
    ///
    /// An empty variable counts as unset, and so does one that is not valid
    /// UTF-8 ([`Keys::options`] then reports the fallback as unavailable).
    pub fn from_env(store: Store) -> Keys {
        let passphrase = std::env::var(ENCRYPTION_KEY_VAR).ok();
        Keys::new(Arc::new(KeyringStore::new()), store, passphrase)
    }

    /// Stores `key` for a provider in `storage`, removing it from the other places.
    /// The keyring failing is [`Error::KeyringUnavailable`]; `Encrypted` without
    /// a passphrase is [`Error::InvalidInput`] naming the variable.
    ///
    /// The key is trimmed, and refused (with a message that never repeats it)
    /// when empty, longer than [`MAX_KEY_BYTES`], or holding spaces or control
    /// characters. When storing fails nothing changes; when removing an old
    /// copy fails (other than an unreachable keyring) the new key is stored
    /// and the error says what could not be removed. Replacing a key is
    /// setting it again.
    ///
    /// An unreachable keyring does not stop `Session` or `Encrypted` (that is
    /// what they are for): removing an old keyring copy is skipped. On a box
    /// with no keyring there is none. The one leftover case, a keyring that
    /// held a key and is locked or refused just then, leaves that old copy,
    /// which a later `get` would prefer to an encrypted one once the keyring
    /// answers again; [`Keys::delete`] or setting the key again clears it.
    pub async fn set(
        &self,
        provider_id: &str,
        key: &str,
        storage: KeyStorage,
    ) -> Result<KeyStatus> {
        let key = validate_key(key)?;
        if provider_id.trim().is_empty() {
            return Err(Error::InvalidInput(
                "no provider was given for the API key".into(),
            ));
        }
        let account = account_for(provider_id);
        match storage {
            KeyStorage::Keyring => {
                let (account, key) = (account.clone(), Zeroizing::new(key.to_owned()));
                self.on_os(move |os| os.set(&account, &key)).await?;
            }
            KeyStorage::Session => self.session.set(&account, key)?,
            KeyStorage::Encrypted => {
                let vault = self.vault()?;
                let (account2, key) = (account.clone(), Zeroizing::new(key.to_owned()));
                // Argon2id is CPU-bound for tens of milliseconds: off the async threads.
                let sealed = blocking(move || vault.seal(&account2, &key)).await?;
                self.store.save_encrypted_secret(&account, &sealed).await?;
            }
        }
        if storage != KeyStorage::Session {
            self.session.remove(&account)?;
        }
        if storage != KeyStorage::Encrypted {
            self.store.delete_encrypted_secret(&account).await?;
        }
        if storage != KeyStorage::Keyring {
            let account = account.clone();
            match self.on_os(move |os| os.delete(&account)).await {
                Ok(()) | Err(Error::KeyringUnavailable(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.status(provider_id).await
    }

    /// A provider's key (this run's, then the keyring's, then the database's).
    ///
    /// A keyring that does not answer never hides a key kept elsewhere; when
    /// no other place has one either, the answer is `None`, as
    /// [`Keys::status`] says "not set": a provider that needs no key (a local
    /// server) must keep working on a machine without a keyring, and one that
    /// needs a key reports it missing. A key kept encrypted without the right
    /// passphrase is [`Error::InvalidInput`] naming [`ENCRYPTION_KEY_VAR`].
    pub async fn get(&self, provider_id: &str) -> Result<Option<String>> {
        let account = account_for(provider_id);
        if let Some(key) = self.session.get(&account)? {
            return Ok(Some(key));
        }
        let probe = account.clone();
        let keyring_error = match self.on_os(move |os| os.get(&probe)).await {
            Ok(Some(key)) => return Ok(Some(key)),
            Ok(None) => None,
            Err(e) => Some(e),
        };
        if let Some(sealed) = self.store.encrypted_secret(&account).await? {
            let Some(vault) = self.vault.clone() else {
                return Err(Error::InvalidInput(format!(
                    "this provider's API key is kept encrypted in the database, and \
                     {ENCRYPTION_KEY_VAR} is not set: set it to the passphrase the key was \
                     stored with and restart Confab, or set the key again"
                )));
            };
            return blocking(move || vault.open(&account, &sealed).map(Some)).await;
        }
        match keyring_error {
            None | Some(Error::KeyringUnavailable(_)) => Ok(None),
            Some(other) => Err(other),
        }
    }

    /// Removes a provider's key from every place.
    ///
    /// Judgement on an unreachable keyring: when the key was found in this
    /// run's memory or the database, setting it there removed any keyring
    /// copy (bar the one case [`Keys::set`] describes), so the delete succeeds
    /// and a box with no keyring can delete keys. When it was found nowhere
    /// else, the keyring may well still hold it: the answer is
    /// [`Error::KeyringUnavailable`], after the other places were cleared. A
    /// caller removing a whole provider may go ahead on that error; the user
    /// can delete the key again once the keyring answers.
    pub async fn delete(&self, provider_id: &str) -> Result<KeyStatus> {
        let account = account_for(provider_id);
        let in_session = self.session.remove(&account)?;
        let in_database = self.store.delete_encrypted_secret(&account).await?;
        let os_account = account.clone();
        match self.on_os(move |os| os.delete(&os_account)).await {
            Ok(()) => {}
            Err(Error::KeyringUnavailable(_)) if in_session || in_database => {}
            Err(e) => return Err(e),
        }
        self.status(provider_id).await
    }

    /// Whether a provider has a key, and where.
    ///
    /// Never fails because of the keyring: one that does not answer cannot
    /// hide a key kept elsewhere, and when nothing else has one the key is
    /// reported not set. Nothing is decrypted.
    pub async fn status(&self, provider_id: &str) -> Result<KeyStatus> {
        let account = account_for(provider_id);
        if self.session.contains(&account)? {
            return Ok(KeyStatus::kept_in(KeyStorage::Session));
        }
        let probe = account.clone();
        // The secret itself is dropped inside the blocking call.
        if let Ok(true) = self
            .on_os(move |os| Ok(os.get(&probe)?.map(Zeroizing::new).is_some()))
            .await
        {
            return Ok(KeyStatus::kept_in(KeyStorage::Keyring));
        }
        if self.store.has_encrypted_secret(&account).await? {
            return Ok(KeyStatus::kept_in(KeyStorage::Encrypted));
        }
        Ok(KeyStatus::NOT_SET)
    }

    /// Which places can keep keys now (the keyring is probed).
    ///
    /// The probe reads an account nothing ever writes, which no keyring
    /// answers with a prompt; any error counts as "no keyring".
    pub async fn options(&self) -> KeyStorageOptions {
        let keyring = self
            .on_os(|os| {
                os.get(PROBE_ACCOUNT)
                    .map(|found| drop(found.map(Zeroizing::new)))
            })
            .await
            .is_ok();
        KeyStorageOptions {
            keyring,
            encrypted: self.vault.is_some(),
        }
    }

    /// The vault, or the error telling the user which variable to set.
    fn vault(&self) -> Result<Arc<Vault>> {
        self.vault.clone().ok_or_else(|| {
            Error::InvalidInput(format!(
                "keeping the API key encrypted in the database needs a passphrase: set the \
                 {ENCRYPTION_KEY_VAR} environment variable and restart Confab, or keep the key \
                 for this run only"
            ))
        })
    }

    /// Runs a call on the OS store off the async threads.
    async fn on_os<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let os = self.os.clone();
        blocking(move || f(os.as_ref())).await
    }
}

/// The key as it will be stored, or why it cannot be: the message never
/// repeats the key (it would reach the UI and maybe a log).
fn validate_key(key: &str) -> Result<&str> {
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::InvalidInput("the API key is empty".into()));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::InvalidInput(format!(
            "the API key is too long ({} bytes; at most {MAX_KEY_BYTES}): check what was pasted",
            key.len()
        )));
    }
    if key.chars().any(is_invisible) {
        return Err(Error::InvalidInput(
            "the API key contains spaces, line breaks or other invisible characters: paste it \
             again without them"
                .into(),
        ));
    }
    Ok(key)
}

/// Whitespace, control characters, and the invisible formatting characters a
/// copy from a web page or a chat can carry along (zero-width spaces, a byte
/// order mark, direction marks, a soft hyphen): never part of a real key.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{feff}'
        )
}

/// Runs a blocking secret-store call off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("a key store call failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_checked_without_being_repeated() {
        assert_eq!(validate_key("  sk-abc\n").unwrap(), "sk-abc");
        let secret = "sk-Distinctive";
        for bad in [
            String::new(),
            " \t\n".into(),
            format!("{secret} {secret}"),
            format!("{secret}\u{7}x"),
            format!("{secret}\u{a0}x"),
            format!("{secret}\nx"),
            format!("\u{feff}{secret}"),
            format!("{secret}\u{200d}x"),
            format!("{secret}{}", "x".repeat(MAX_KEY_BYTES)),
        ] {
            let err = validate_key(&bad).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
            assert!(!err.to_string().contains(secret), "{err}");
        }
        assert!(validate_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
    }

    #[test]
    fn memory_store_debug_shows_accounts_not_secrets() {
        let store = MemoryStore::default();
        store.set("provider:a", "sk-MemoryDebugSecret").unwrap();
        let shown = format!("{store:?}");
        assert!(shown.contains("provider:a"), "{shown}");
        assert!(!shown.contains("MemoryDebugSecret"), "{shown}");
    }
}
