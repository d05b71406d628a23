//! The encrypted fallback's cryptography: a provider's key sealed with
//! XChaCha20-Poly1305 under a key derived from the user's passphrase
//! (`CONFAB_ENCRYPTION_KEY`) by Argon2id, with a random salt per row and the
//! account name as associated data (so a row copied onto another provider's
//! account does not open).

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, OsRng, Payload};
use chacha20poly1305::{AeadCore, KeyInit, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::ENCRYPTION_KEY_VAR;
use crate::error::{Error, Result};
use crate::store::secrets::EncryptedSecret;

/// Salt bytes per row (argon2's recommended length).
const SALT_LEN: usize = argon2::RECOMMENDED_SALT_LEN;
/// XChaCha20-Poly1305's key length.
const KEY_LEN: usize = 32;
/// XChaCha20-Poly1305's nonce length: 192 bits, so random nonces never collide in practice.
const NONCE_LEN: usize = 24;

// Argon2id costs, pinned here rather than taken from `Params::default()`: the
// rows store no parameters, so a crate update changing its defaults must not
// make existing rows unreadable. These are OWASP's first recommendation (19 MiB,
// 2 passes, 1 lane), which is also argon2 0.5's default.
const ARGON2_M_COST_KIB: u32 = 19 * 1024;
const ARGON2_T_COST: u32 = 2;
const ARGON2_P_COST: u32 = 1;

/// Derived keys cached at most this many at once (one per sealed row in practice).
const MAX_CACHED_KEYS: usize = 64;

type DerivedKey = Zeroizing<[u8; KEY_LEN]>;

/// Seals and opens keys with the passphrase from `CONFAB_ENCRYPTION_KEY`.
pub(crate) struct Vault {
    passphrase: Zeroizing<String>,
    // Derived keys by salt. Argon2id is deliberately slow (tens of ms and 19 MiB
    // per derivation in a release build, seconds in a debug one) and `get` runs
    // before every request; the passphrase is in memory for the whole run anyway,
    // so keeping what it derives costs no secrecy.
    derived: Mutex<HashMap<Vec<u8>, DerivedKey>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { passphrase: [redacted] }")
    }
}

impl Vault {
    /// A vault unlocked by `passphrase` (the caller checked it is not empty).
    pub(crate) fn new(passphrase: String) -> Vault {
        Vault {
            passphrase: Zeroizing::new(passphrase),
            derived: Mutex::new(HashMap::new()),
        }
    }

    /// Seals `secret` for `account` under a fresh salt and nonce.
    pub(crate) fn seal(&self, account: &str, secret: &str) -> Result<EncryptedSecret> {
        let mut salt = vec![0u8; SALT_LEN];
        OsRng
            .try_fill_bytes(&mut salt)
            .map_err(|e| Error::Internal(format!("the system's random generator failed: {e}")))?;
        let key = self.key_for(&salt)?;
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]));
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.as_bytes(),
                    aad: account.as_bytes(),
                },
            )
            // Only fails on absurd lengths; the message must not carry the secret.
            .map_err(|_| Error::Internal("could not encrypt the key".into()))?;
        Ok(EncryptedSecret {
            salt,
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens the key sealed for `account`. A wrong passphrase (or a damaged or
    /// moved row) is [`Error::InvalidInput`] naming the variable.
    pub(crate) fn open(&self, account: &str, sealed: &EncryptedSecret) -> Result<String> {
        if sealed.nonce.len() != NONCE_LEN || sealed.salt.len() < argon2::MIN_SALT_LEN {
            return Err(cannot_open());
        }
        let key = self.key_for(&sealed.salt)?;
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]));
        let plain = cipher
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: account.as_bytes(),
                },
            )
            .map_err(|_| cannot_open())?;
        // The tag matched, so these are the bytes that were sealed (always UTF-8).
        String::from_utf8(plain).map_err(|e| {
            drop(Zeroizing::new(e.into_bytes()));
            cannot_open()
        })
    }

    /// The key-encryption key for `salt`, derived once per salt.
    fn key_for(&self, salt: &[u8]) -> Result<DerivedKey> {
        let poisoned = || Error::Internal("the key cache was poisoned".into());
        if let Some(key) = self.derived.lock().map_err(|_| poisoned())?.get(salt) {
            return Ok(key.clone());
        }
        let params = Params::new(
            ARGON2_M_COST_KIB,
            ARGON2_T_COST,
            ARGON2_P_COST,
            Some(KEY_LEN),
        )
        .map_err(|e| Error::Internal(format!("bad Argon2 parameters: {e}")))?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(self.passphrase.as_bytes(), salt, key.as_mut())
            .map_err(|e| Error::Internal(format!("could not derive the encryption key: {e}")))?;
        let mut cache = self.derived.lock().map_err(|_| poisoned())?;
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert(salt.to_vec(), key.clone());
        Ok(key)
    }
}

/// The one error for a row that does not open: nothing distinguishes a wrong
/// passphrase from a damaged row, and saying which would help an attacker.
fn cannot_open() -> Error {
    Error::InvalidInput(format!(
        "the API key kept encrypted in the database could not be decrypted: \
         {ENCRYPTION_KEY_VAR} does not hold the passphrase it was stored with (or the stored \
         copy is damaged); set {ENCRYPTION_KEY_VAR} to that passphrase and restart Confab, \
         or set the key again"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-test-EncryptedVaultKey-0123456789";

    #[test]
    fn seals_and_opens_with_the_same_passphrase() {
        let vault = Vault::new("correct horse battery staple".into());
        let sealed = vault.seal("provider:a", KEY).unwrap();
        assert_eq!(sealed.salt.len(), SALT_LEN);
        assert_eq!(sealed.nonce.len(), NONCE_LEN);
        // 16 bytes of Poly1305 tag after the ciphertext, and no plaintext in it.
        assert_eq!(sealed.ciphertext.len(), KEY.len() + 16);
        assert!(!sealed
            .ciphertext
            .windows(8)
            .any(|w| KEY.as_bytes().windows(8).any(|k| k == w)));
        assert_eq!(vault.open("provider:a", &sealed).unwrap(), KEY);
        // A second vault (a new run) derives the same key from the same passphrase.
        let again = Vault::new("correct horse battery staple".into());
        assert_eq!(again.open("provider:a", &sealed).unwrap(), KEY);
    }

    #[test]
    fn every_seal_has_its_own_salt_and_nonce() {
        let vault = Vault::new("p".into());
        let a = vault.seal("provider:a", KEY).unwrap();
        let b = vault.seal("provider:a", KEY).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn a_wrong_passphrase_another_account_or_a_damaged_row_do_not_open() {
        let sealed = Vault::new("right".into()).seal("provider:a", KEY).unwrap();
        let vault = Vault::new("wrong".into());
        let err = vault.open("provider:a", &sealed).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        let message = err.to_string();
        assert!(message.contains(ENCRYPTION_KEY_VAR), "{message}");
        assert!(!message.contains(KEY));

        let right = Vault::new("right".into());
        assert!(
            right.open("provider:b", &sealed).is_err(),
            "AAD binds the account"
        );
        let mut flipped = sealed.clone();
        flipped.ciphertext[0] ^= 1;
        assert!(right.open("provider:a", &flipped).is_err());
        let mut short = sealed.clone();
        short.nonce.pop();
        assert!(right.open("provider:a", &short).is_err());
        let mut no_salt = sealed;
        no_salt.salt.clear();
        assert!(right.open("provider:a", &no_salt).is_err());
    }

    #[test]
    fn debug_hides_the_passphrase() {
        let vault = Vault::new("hunter2-passphrase".into());
        let _ = vault.seal("provider:a", KEY).unwrap();
        let shown = format!("{vault:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
