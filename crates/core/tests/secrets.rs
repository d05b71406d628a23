//! API keys in their three places (keyring, this run, encrypted in a real
//! SQLite file), a keyring that fails, replacing and deleting, and proof that
//! no key reaches the database file, an error message or Debug output.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use confab_core::secrets::{
    account_for, KeyStatus, KeyStorage, KeyStorageOptions, Keys, MemoryStore, SecretStore,
    ENCRYPTION_KEY_VAR,
};
use confab_core::store::{Store, DATABASE_FILE};
use confab_core::{Error, ErrorCode, Result};

/// A key no other text contains, so finding it anywhere means it leaked.
const KEY: &str = "sk-or-v1-ZQX9distinctiveTESTkey0123456789abcdef";
const OTHER_KEY: &str = "sk-ant-api03-OTHERdistinctiveKEY-9876543210";
const PASSPHRASE: &str = "violet-harbour-PASSPHRASE-41";
const PROVIDER: &str = "0b8f3c1e-1111-4222-8333-944455556666";

/// A keyring double: a memory store that can be told to stop answering, and
/// that says "keyring_unavailable" as a Secret Service-less Linux box would.
#[derive(Debug, Default)]
struct FlakyKeyring {
    inner: MemoryStore,
    down: AtomicBool,
}

impl FlakyKeyring {
    fn down() -> Arc<FlakyKeyring> {
        let keyring = Arc::new(FlakyKeyring::default());
        keyring.set_down(true);
        keyring
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::KeyringUnavailable(
                "org.freedesktop.secrets was not provided by any .service files".into(),
            ));
        }
        Ok(())
    }

    /// What the keyring holds, looked at behind the double's back.
    fn peek(&self, provider: &str) -> Option<String> {
        self.inner.get(&account_for(provider)).unwrap()
    }
}

impl SecretStore for FlakyKeyring {
    fn get(&self, account: &str) -> Result<Option<String>> {
        self.check()?;
        self.inner.get(account)
    }

    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.check()?;
        self.inner.set(account, secret)
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.check()?;
        self.inner.delete(account)
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    keyring: Arc<FlakyKeyring>,
    keys: Keys,
    store: Store,
}

async fn fixture(passphrase: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keyring = Arc::new(FlakyKeyring::default());
    let keys = Keys::new(
        keyring.clone(),
        store.clone(),
        passphrase.map(str::to_owned),
    );
    Fixture {
        dir,
        keyring,
        keys,
        store,
    }
}

fn kept_in(storage: KeyStorage) -> KeyStatus {
    KeyStatus {
        set: true,
        storage: Some(storage),
    }
}

const NOT_SET: KeyStatus = KeyStatus {
    set: false,
    storage: None,
};

/// Rows of `encrypted_secrets` for a provider, read through a connection of our own.
async fn encrypted_rows(db: &Path, provider: &str) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encrypted_secrets WHERE account = ?")
        .bind(account_for(provider))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

/// Every file SQLite keeps for the database (the file, its WAL, its shm).
fn database_files(dir: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| dir.join(format!("{DATABASE_FILE}{suffix}")))
        .filter(|p| p.exists())
        .collect()
}

fn assert_no_secret_in_files(dir: &Path, secrets: &[&str]) {
    let files = database_files(dir);
    assert!(!files.is_empty());
    for file in files {
        // sqlx finishes closing connections on its own threads, so a -wal or
        // -shm seen a moment ago may be gone now: nothing left to search.
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", file.display()),
        };
        for secret in secrets {
            // The whole key, and any 12-byte piece of it (a page boundary could split it).
            let needle = secret.as_bytes();
            for piece in needle.windows(12) {
                assert!(
                    !bytes.windows(piece.len()).any(|w| w == piece),
                    "{} holds part of a secret",
                    file.display()
                );
            }
        }
    }
}

fn assert_clean(text: &str) {
    for secret in [KEY, OTHER_KEY, PASSPHRASE] {
        assert!(!text.contains(secret), "leaked a secret: {text}");
        // Nor a recognisable piece of one.
        assert!(
            !text.contains(&secret[8..24]),
            "leaked part of a secret: {text}"
        );
    }
}

#[tokio::test]
async fn in_memory_keys_set_get_replace_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::in_memory(store);
    assert_eq!(keys.status(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(keys.get(PROVIDER).await.unwrap(), None);

    let status = keys
        .set(PROVIDER, &format!("  {KEY}\n"), KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Keyring));
    assert_eq!(keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));
    // Another provider is untouched.
    assert_eq!(keys.status("another").await.unwrap(), NOT_SET);

    keys.set(PROVIDER, OTHER_KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(
        keys.get(PROVIDER).await.unwrap().as_deref(),
        Some(OTHER_KEY)
    );

    assert_eq!(keys.delete(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(keys.get(PROVIDER).await.unwrap(), None);
    // Deleting again is not an error.
    assert_eq!(keys.delete(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(
        keys.options().await,
        KeyStorageOptions {
            keyring: true,
            encrypted: false
        }
    );
}

#[tokio::test]
async fn bad_keys_are_refused_without_being_echoed_and_change_nothing() {
    let f = fixture(Some(PASSPHRASE)).await;
    f.keys
        .set(PROVIDER, KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    let too_long = format!("{KEY}{}", "a".repeat(5000));
    for bad in [
        String::new(),
        "   ".into(),
        format!("{KEY} {OTHER_KEY}"),
        format!("{KEY}\r\n{OTHER_KEY}"),
        format!("{OTHER_KEY}\u{0}"),
        format!("{OTHER_KEY}\u{200b}x"),
        too_long,
    ] {
        for storage in [
            KeyStorage::Keyring,
            KeyStorage::Session,
            KeyStorage::Encrypted,
        ] {
            let err = f.keys.set(PROVIDER, &bad, storage).await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
            assert_clean(&err.to_string());
        }
    }
    // The old key is still where it was.
    assert_eq!(
        f.keys.status(PROVIDER).await.unwrap(),
        kept_in(KeyStorage::Keyring)
    );
    assert_eq!(f.keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));
}

#[tokio::test]
async fn replacing_moves_the_key_between_places() {
    let f = fixture(Some(PASSPHRASE)).await;
    let db = f.store.path().to_owned();

    f.keys
        .set(PROVIDER, KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(f.keyring.peek(PROVIDER).as_deref(), Some(KEY));

    // Keyring -> this run only: out of the keyring.
    let status = f
        .keys
        .set(PROVIDER, OTHER_KEY, KeyStorage::Session)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Session));
    assert_eq!(f.keyring.peek(PROVIDER), None);
    assert_eq!(encrypted_rows(&db, PROVIDER).await, 0);
    assert_eq!(
        f.keys.get(PROVIDER).await.unwrap().as_deref(),
        Some(OTHER_KEY)
    );

    // This run -> encrypted: out of memory (status would say Session otherwise).
    let status = f
        .keys
        .set(PROVIDER, KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Encrypted));
    assert_eq!(f.keyring.peek(PROVIDER), None);
    assert_eq!(encrypted_rows(&db, PROVIDER).await, 1);
    assert_eq!(f.keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));

    // Encrypted, replaced in place: still one row, the new key.
    f.keys
        .set(PROVIDER, OTHER_KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    assert_eq!(encrypted_rows(&db, PROVIDER).await, 1);
    assert_eq!(
        f.keys.get(PROVIDER).await.unwrap().as_deref(),
        Some(OTHER_KEY)
    );

    // Encrypted -> keyring: the row is gone.
    let status = f
        .keys
        .set(PROVIDER, KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Keyring));
    assert_eq!(encrypted_rows(&db, PROVIDER).await, 0);
    assert_eq!(f.keyring.peek(PROVIDER).as_deref(), Some(KEY));

    // Keyring -> encrypted: out of the keyring.
    f.keys
        .set(PROVIDER, OTHER_KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    assert_eq!(f.keyring.peek(PROVIDER), None);

    // Delete clears every place.
    f.keys
        .set(PROVIDER, KEY, KeyStorage::Session)
        .await
        .unwrap();
    assert_eq!(f.keys.delete(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(f.keyring.peek(PROVIDER), None);
    assert_eq!(encrypted_rows(&db, PROVIDER).await, 0);
    assert_eq!(f.keys.get(PROVIDER).await.unwrap(), None);
}

#[tokio::test]
async fn encrypted_keys_survive_a_restart_and_never_reach_the_file_in_the_clear() {
    let f = fixture(Some(PASSPHRASE)).await;
    f.keys
        .set(PROVIDER, KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    f.keys
        .set("second", OTHER_KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    // While open: the fresh writes sit in the WAL.
    assert_no_secret_in_files(f.dir.path(), &[KEY, OTHER_KEY, PASSPHRASE]);

    let Fixture {
        dir,
        keys,
        store,
        keyring: _,
    } = f;
    drop(keys);
    store.close().await;
    assert_no_secret_in_files(dir.path(), &[KEY, OTHER_KEY, PASSPHRASE]);

    // A new run with the same passphrase reads both back.
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::new(
        Arc::new(MemoryStore::default()),
        store.clone(),
        Some(PASSPHRASE.into()),
    );
    assert_eq!(
        keys.status(PROVIDER).await.unwrap(),
        kept_in(KeyStorage::Encrypted)
    );
    assert_eq!(keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));
    assert_eq!(
        keys.get("second").await.unwrap().as_deref(),
        Some(OTHER_KEY)
    );
    drop(keys);
    store.close().await;
    assert_no_secret_in_files(dir.path(), &[KEY, OTHER_KEY, PASSPHRASE]);
}

#[tokio::test]
async fn a_wrong_or_missing_passphrase_is_a_clear_error() {
    let f = fixture(Some(PASSPHRASE)).await;
    f.keys
        .set(PROVIDER, KEY, KeyStorage::Encrypted)
        .await
        .unwrap();

    let wrong = Keys::new(
        Arc::new(MemoryStore::default()),
        f.store.clone(),
        Some("not-the-passphrase".into()),
    );
    // Where the key is needs no decryption.
    assert_eq!(
        wrong.status(PROVIDER).await.unwrap(),
        kept_in(KeyStorage::Encrypted)
    );
    let err = wrong.get(PROVIDER).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let message = err.to_string();
    assert!(message.contains(ENCRYPTION_KEY_VAR), "{message}");
    assert!(message.contains("passphrase"), "{message}");
    assert_clean(&message);

    // An empty passphrase is no passphrase.
    for none in [None, Some(String::new()), Some("  ".into())] {
        let locked = Keys::new(Arc::new(MemoryStore::default()), f.store.clone(), none);
        assert!(!locked.options().await.encrypted);
        let err = locked.get(PROVIDER).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.to_string().contains(ENCRYPTION_KEY_VAR), "{err}");
        assert_clean(&err.to_string());

        // Storing encrypted without a passphrase is refused and stores nothing.
        let err = locked
            .set("fresh", OTHER_KEY, KeyStorage::Encrypted)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.to_string().contains(ENCRYPTION_KEY_VAR), "{err}");
        assert_clean(&err.to_string());
        assert_eq!(locked.status("fresh").await.unwrap(), NOT_SET);
        assert_eq!(encrypted_rows(f.store.path(), "fresh").await, 0);

        // The locked key is still reported where it is.
        assert_eq!(
            locked.status(PROVIDER).await.unwrap(),
            kept_in(KeyStorage::Encrypted)
        );
    }
    // The right passphrase still opens it.
    assert_eq!(f.keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));

    // A new key replaces the one nobody can open.
    let locked = Keys::new(Arc::new(MemoryStore::default()), f.store.clone(), None);
    locked
        .set(PROVIDER, OTHER_KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    assert_eq!(encrypted_rows(f.store.path(), PROVIDER).await, 0);
    assert_eq!(
        locked.get(PROVIDER).await.unwrap().as_deref(),
        Some(OTHER_KEY)
    );
}

#[tokio::test]
async fn without_a_keyring_the_user_picks_a_visible_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keyring = FlakyKeyring::down();
    let keys = Keys::new(keyring.clone(), store.clone(), Some(PASSPHRASE.into()));

    assert_eq!(
        keys.options().await,
        KeyStorageOptions {
            keyring: false,
            encrypted: true
        }
    );
    // Nothing set and no keyring: "not set", not an error.
    assert_eq!(keys.status(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(keys.get(PROVIDER).await.unwrap(), None);

    let err = keys
        .set(PROVIDER, KEY, KeyStorage::Keyring)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringUnavailable);
    assert_clean(&err.to_string());
    // Nothing was stored anywhere: no silent fallback.
    assert_eq!(keys.status(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(keys.get(PROVIDER).await.unwrap(), None);
    assert_eq!(encrypted_rows(store.path(), PROVIDER).await, 0);
    keyring.set_down(false);
    assert_eq!(keyring.peek(PROVIDER), None);
    keyring.set_down(true);

    // The user picks "this run only".
    let status = keys.set(PROVIDER, KEY, KeyStorage::Session).await.unwrap();
    assert_eq!(status, kept_in(KeyStorage::Session));
    assert_eq!(keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));

    // ... or encrypted in the database.
    let status = keys
        .set(PROVIDER, OTHER_KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    assert_eq!(status, kept_in(KeyStorage::Encrypted));
    assert_eq!(
        keys.get(PROVIDER).await.unwrap().as_deref(),
        Some(OTHER_KEY)
    );

    // Deleting a key that lived elsewhere works without the keyring.
    assert_eq!(keys.delete(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(encrypted_rows(store.path(), PROVIDER).await, 0);

    // With the key found nowhere else, the keyring might still hold it: say so.
    let err = keys.delete(PROVIDER).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringUnavailable);
}

#[tokio::test]
async fn a_keyring_that_stops_answering_never_hides_a_key_kept_elsewhere() {
    let f = fixture(Some(PASSPHRASE)).await;
    f.keys
        .set(PROVIDER, KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    f.keys
        .set("run", OTHER_KEY, KeyStorage::Session)
        .await
        .unwrap();
    f.keys
        .set("in-keyring", OTHER_KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    f.keyring.set_down(true);

    assert_eq!(
        f.keys.status(PROVIDER).await.unwrap(),
        kept_in(KeyStorage::Encrypted)
    );
    assert_eq!(f.keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));
    assert_eq!(
        f.keys.status("run").await.unwrap(),
        kept_in(KeyStorage::Session)
    );
    assert_eq!(f.keys.get("run").await.unwrap().as_deref(), Some(OTHER_KEY));
    // The keyring's own key cannot be seen now: not set, no error.
    assert_eq!(f.keys.status("in-keyring").await.unwrap(), NOT_SET);
    assert_eq!(f.keys.get("in-keyring").await.unwrap(), None);
    // ... and cannot be deleted: that is an error, the key may still be there.
    let err = f.keys.delete("in-keyring").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyringUnavailable);

    f.keyring.set_down(false);
    assert_eq!(
        f.keys.get("in-keyring").await.unwrap().as_deref(),
        Some(OTHER_KEY)
    );
    assert_eq!(f.keys.delete("in-keyring").await.unwrap(), NOT_SET);
}

/// A keyring that fails in a way that is not "unavailable" (a bug, a store
/// holding something odd): status still answers, get reports it only when no
/// other place has the key.
#[derive(Debug)]
struct BrokenKeyring;

impl SecretStore for BrokenKeyring {
    fn get(&self, _: &str) -> Result<Option<String>> {
        Err(Error::Internal("the keyring returned nonsense".into()))
    }
    fn set(&self, _: &str, _: &str) -> Result<()> {
        Err(Error::Internal("the keyring returned nonsense".into()))
    }
    fn delete(&self, _: &str) -> Result<()> {
        Err(Error::Internal("the keyring returned nonsense".into()))
    }
}

#[tokio::test]
async fn other_keyring_errors_do_not_hide_keys_either() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::new(Arc::new(BrokenKeyring), store, Some(PASSPHRASE.into()));
    assert_eq!(keys.status(PROVIDER).await.unwrap(), NOT_SET);
    assert_eq!(
        keys.get(PROVIDER).await.unwrap_err().code(),
        ErrorCode::Internal
    );
    assert!(!keys.options().await.keyring);
    // Setting elsewhere cannot clean the keyring up, and says so.
    assert_eq!(
        keys.set(PROVIDER, KEY, KeyStorage::Session)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Internal
    );
    // The key was stored all the same (the error is about the cleanup) and is found.
    assert_eq!(keys.get(PROVIDER).await.unwrap().as_deref(), Some(KEY));
    assert_eq!(
        keys.status(PROVIDER).await.unwrap(),
        kept_in(KeyStorage::Session)
    );
}

#[tokio::test]
async fn no_secret_in_debug_output_or_errors() {
    let f = fixture(Some(PASSPHRASE)).await;
    f.keys
        .set(PROVIDER, KEY, KeyStorage::Session)
        .await
        .unwrap();
    f.keys
        .set("b", OTHER_KEY, KeyStorage::Encrypted)
        .await
        .unwrap();
    f.keys
        .set("c", OTHER_KEY, KeyStorage::Keyring)
        .await
        .unwrap();
    let shown = format!("{:?} {:#?}", f.keys, f.keys);
    assert_clean(&shown);
    assert!(shown.contains("redacted"), "{shown}");
    assert_clean(&format!("{:?}", f.keyring));

    // Statuses, options and their JSON (what the UI receives) say where, never what.
    let json = serde_json::to_string(&(
        f.keys.status(PROVIDER).await.unwrap(),
        f.keys.status("b").await.unwrap(),
        f.keys.options().await,
    ))
    .unwrap();
    assert_clean(&json);
    assert_eq!(
        json,
        r#"[{"set":true,"storage":"session"},{"set":true,"storage":"encrypted"},{"keyring":true,"encrypted":true}]"#
    );

    // Every error on the way: the wire form included.
    f.keyring.set_down(true);
    let mut errors = vec![
        f.keys
            .set("d", &format!("{KEY} x"), KeyStorage::Session)
            .await
            .unwrap_err(),
        f.keys.set("d", KEY, KeyStorage::Keyring).await.unwrap_err(),
    ];
    let locked = Keys::new(f.keyring.clone(), f.store.clone(), Some("wrong".into()));
    errors.push(locked.get("b").await.unwrap_err());
    errors.push(
        locked
            .set("d", &KEY.repeat(200), KeyStorage::Encrypted)
            .await
            .unwrap_err(),
    );
    assert_clean(&format!("{locked:?}"));
    for err in errors {
        assert_clean(&err.to_string());
        assert_clean(&format!("{err:?}"));
        assert_clean(&serde_json::to_string(&confab_core::AppError::from(err)).unwrap());
    }
}

#[tokio::test]
async fn from_env_reads_the_passphrase_variable() {
    // Reads only: changing the environment under a running test is unsound.
    let expected = std::env::var(ENCRYPTION_KEY_VAR)
        .map(|v| !v.trim().is_empty())
        .unwrap_or(false);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::from_env(store);
    // Debug says whether a passphrase is set, without probing the real keyring
    // (tests/secrets_keyring.rs does that).
    let shown = format!("{keys:?}");
    assert_eq!(shown.contains("passphrase set"), expected, "{shown}");
    assert!(shown.contains("KeyringStore"), "{shown}");
    assert_clean(&shown);
}
