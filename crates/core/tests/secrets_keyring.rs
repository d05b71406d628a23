//! The real OS keyring. Ignored by a plain `cargo test`, which may run where
//! no keyring answers (or where the developer's own keyring would prompt):
//! `make keyring-test` runs them inside a private D-Bus session with a
//! throwaway, unlocked GNOME Keyring, and the last one with no bus at all.
//!
//! Every test uses provider ids of its own and removes its entries, even when
//! it fails.

use std::sync::Arc;

use confab_core::secrets::{
    account_for, KeyStatus, KeyStorage, KeyringStore, Keys, SecretStore, ENCRYPTION_KEY_VAR,
};
use confab_core::store::Store;
use confab_core::ErrorCode;

const KEY: &str = "sk-keyring-test-FIRSTkey-0123456789";
const NEW_KEY: &str = "sk-keyring-test-SECONDkey-9876543210";

/// A provider id no one else uses, whose keyring entry is removed on drop.
struct TestProvider(String);

impl TestProvider {
    fn new() -> TestProvider {
        TestProvider(format!("confab-test-{}", uuid::Uuid::new_v4()))
    }

    fn account(&self) -> String {
        account_for(&self.0)
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = KeyringStore::new().delete(&self.account());
    }
}

fn kept_in(storage: KeyStorage) -> KeyStatus {
    KeyStatus {
        set: true,
        storage: Some(storage),
    }
}

#[test]
#[ignore = "needs a Secret Service: make keyring-test runs it"]
fn keyring_store_sets_gets_replaces_and_deletes() {
    let provider = TestProvider::new();
    let account = provider.account();
    let keyring = KeyringStore::new();
    assert!(keyring.is_persistent());

    assert_eq!(keyring.get(&account).unwrap(), None);
    keyring.set(&account, KEY).unwrap();
    assert_eq!(keyring.get(&account).unwrap().as_deref(), Some(KEY));
    // A second store (another run of the app) sees the same entry.
    assert_eq!(
        KeyringStore::new().get(&account).unwrap().as_deref(),
        Some(KEY)
    );

    keyring.set(&account, NEW_KEY).unwrap();
    assert_eq!(keyring.get(&account).unwrap().as_deref(), Some(NEW_KEY));

    keyring.delete(&account).unwrap();
    assert_eq!(keyring.get(&account).unwrap(), None);
    // Deleting what is not there is not an error.
    keyring.delete(&account).unwrap();
}

#[tokio::test]
#[ignore = "needs a Secret Service: make keyring-test runs it"]
async fn keys_kept_in_the_keyring() {
    let provider = TestProvider::new();
    let other = TestProvider::new();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::new(
        Arc::new(KeyringStore::new()),
        store.clone(),
        Some("keyring-test-passphrase".into()),
    );
    let peek = |p: &TestProvider| KeyringStore::new().get(&p.account()).unwrap();

    assert!(keys.options().await.keyring);
    assert_eq!(
        keys.status(&provider.0).await.unwrap(),
        KeyStatus {
            set: false,
            storage: None
        }
    );

    let status = keys
        .set(&provider.0, KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Keyring));
    assert_eq!(peek(&provider).as_deref(), Some(KEY));
    assert_eq!(keys.get(&provider.0).await.unwrap().as_deref(), Some(KEY));
    assert_eq!(peek(&other), None);

    // Replace in the keyring.
    keys.set(&provider.0, NEW_KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(
        keys.get(&provider.0).await.unwrap().as_deref(),
        Some(NEW_KEY)
    );

    // Move to the encrypted fallback: the keyring entry goes.
    let status = keys
        .set(&provider.0, KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Encrypted));
    assert_eq!(peek(&provider), None);

    // And back: the keyring has it again.
    let status = keys
        .set(&provider.0, NEW_KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Keyring));
    assert_eq!(peek(&provider).as_deref(), Some(NEW_KEY));

    // This run only: out of the keyring.
    keys.set(&provider.0, KEY, KeyStorage::Session)
        .await
        .unwrap();
    assert_eq!(peek(&provider), None);

    keys.set(&provider.0, KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    let status = keys.delete(&provider.0).await.unwrap();
    assert!(!status.set);
    assert_eq!(peek(&provider), None);
    assert_eq!(keys.get(&provider.0).await.unwrap(), None);
    store.close().await;
}

#[tokio::test]
#[ignore = "needs a Secret Service: make keyring-test runs it"]
async fn keys_from_env_use_the_real_keyring() {
    let provider = TestProvider::new();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::from_env(store.clone());
    let options = keys.options().await;
    assert!(options.keyring);
    let expected = std::env::var(ENCRYPTION_KEY_VAR)
        .map(|v| !v.trim().is_empty())
        .unwrap_or(false);
    assert_eq!(options.encrypted, expected);

    keys.set(&provider.0, KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    // A new Keys (the next run of the app) finds it.
    let again = Keys::from_env(store.clone());
    assert_eq!(
        again.status(&provider.0).await.unwrap(),
        kept_in(KeyStorage::Keyring)
    );
    assert_eq!(again.get(&provider.0).await.unwrap().as_deref(), Some(KEY));
    again.delete(&provider.0).await.unwrap();
    assert!(!keys.status(&provider.0).await.unwrap().set);
    store.close().await;
}

/// Run by `make keyring-test` with the session bus pointing nowhere: what a
/// Linux box without a Secret Service gives.
#[tokio::test]
#[ignore = "needs no Secret Service: make keyring-test runs it with no D-Bus session"]
async fn without_a_secret_service_the_keyring_is_unavailable() {
    let provider = TestProvider::new();
    let keyring = KeyringStore::new();
    let err = keyring.get(&provider.account()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringUnavailable, "{err}");
    let err = keyring.set(&provider.account(), KEY).unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringUnavailable, "{err}");
    assert!(!err.to_string().contains(KEY), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::new(Arc::new(keyring), store.clone(), None);
    assert!(!keys.options().await.keyring);
    assert!(!keys.status(&provider.0).await.unwrap().set);
    let err = keys
        .set(&provider.0, KEY, KeyStorage::Keyring)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringUnavailable);
    let status = keys
        .set(&provider.0, KEY, KeyStorage::Session)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Session));
    store.close().await;
}
