//! The OS keyring: Keychain on macOS, Credential Manager on Windows, the
//! Secret Service (GNOME Keyring, KWallet, KeePassXC) over D-Bus on Linux.
//!
//! Every call blocks (D-Bus round trips, a Keychain prompt): callers run them
//! off the async threads. Nothing here ever puts a secret into an error.

use ::keyring::credential::{CredentialBuilder, CredentialPersistence};
use ::keyring::Entry;

use super::{SecretStore, SERVICE};
use crate::error::{Error, Result};

/// Secrets in the operating system's keyring, under the service [`SERVICE`].
pub struct KeyringStore {
    // Our own builder rather than keyring's process-wide default, which any
    // code in the process may replace with a mock (`set_default_credential_builder`).
    // `None` when this build only has keyring's mock store, which forgets
    // everything: refusing it is what keeps a build without an OS store from
    // silently "saving" keys that vanish.
    builder: Option<Box<CredentialBuilder>>,
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &SERVICE)
            .field("persistent", &self.builder.is_some())
            .finish()
    }
}

impl Default for KeyringStore {
    fn default() -> Self {
        KeyringStore::new()
    }
}

impl KeyringStore {
    /// The platform's keyring. Connects lazily: a missing Secret Service shows
    /// up as [`Error::KeyringUnavailable`] on the first call, not here.
    pub fn new() -> KeyringStore {
        let builder = ::keyring::default::default_credential_builder();
        let persistent = matches!(builder.persistence(), CredentialPersistence::UntilDelete);
        KeyringStore {
            builder: persistent.then_some(builder),
        }
    }

    /// Whether this build talks to a real, persistent OS store (not keyring's mock).
    pub fn is_persistent(&self) -> bool {
        self.builder.is_some()
    }

    fn entry(&self, account: &str) -> Result<Entry> {
        let builder = self.builder.as_ref().ok_or_else(|| {
            Error::KeyringUnavailable(
                "this build of Confab has no keyring support for this operating system".into(),
            )
        })?;
        let credential = builder
            .build(None, SERVICE, account)
            .map_err(|e| map_error(e, account))?;
        Ok(Entry::new_with_credential(credential))
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(::keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e, account)),
        }
    }

    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.entry(account)?
            .set_password(secret)
            // Belt and braces: no store is known to echo the secret in an
            // error, but a D-Bus error text is the store's to choose.
            .map_err(|e| scrub(map_error(e, account), secret))
    }

    fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(::keyring::Error::NoEntry) => Ok(()),
            // Another program wrote a second entry for the same account:
            // removing the key means removing every one of them.
            Err(::keyring::Error::Ambiguous(credentials)) => {
                for credential in credentials {
                    match credential.delete_credential() {
                        Ok(()) | Err(::keyring::Error::NoEntry) => {}
                        Err(e) => return Err(map_error(e, account)),
                    }
                }
                Ok(())
            }
            Err(e) => Err(map_error(e, account)),
        }
    }
}

/// Maps keyring's errors to Confab's: the store being unreachable, locked or
/// refusing is [`Error::KeyringUnavailable`] (the user picks a fallback);
/// an entry the store will not take is [`Error::InvalidInput`].
fn map_error(err: ::keyring::Error, account: &str) -> Error {
    use ::keyring::Error as K;
    match err {
        K::PlatformFailure(e) => Error::KeyringUnavailable(e.to_string()),
        K::NoStorageAccess(e) => {
            Error::KeyringUnavailable(format!("it is locked or refused access: {e}"))
        }
        K::NoEntry => Error::NotFound {
            what: format!("the keyring entry {account}"),
        },
        // Never print the bytes: they are someone's secret, just not UTF-8.
        K::BadEncoding(_) => Error::InvalidInput(format!(
            "the keyring holds something under {account} that is not text; set the key again to replace it"
        )),
        K::TooLong(attribute, limit) => Error::InvalidInput(format!(
            "the keyring cannot store this entry: its {attribute} is longer than the limit of {limit}"
        )),
        K::Invalid(attribute, reason) => Error::InvalidInput(format!(
            "the keyring cannot store this entry: its {attribute} is invalid ({reason})"
        )),
        // keyring's own message lists the credentials; a count is enough.
        K::Ambiguous(credentials) => Error::KeyringUnavailable(format!(
            "it holds {} entries for {account}; remove the extra ones with the system's keyring manager",
            credentials.len()
        )),
        other => Error::KeyringUnavailable(other.to_string()),
    }
}

/// Removes `secret` from an error's text, should a store ever have echoed it.
fn scrub(err: Error, secret: &str) -> Error {
    if secret.is_empty() {
        return err;
    }
    match err {
        Error::KeyringUnavailable(detail) if detail.contains(secret) => {
            Error::KeyringUnavailable(detail.replace(secret, "[redacted]"))
        }
        Error::InvalidInput(detail) if detail.contains(secret) => {
            Error::InvalidInput(detail.replace(secret, "[redacted]"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_build_has_a_real_keyring_not_the_mock() {
        // The whole point of the per-OS features in Cargo.toml: a build for a
        // desktop OS must never end up on keyring's forgetful mock store.
        assert!(KeyringStore::new().is_persistent());
    }

    #[test]
    fn platform_and_access_failures_are_keyring_unavailable() {
        let io = || {
            Box::new(std::io::Error::other(
                "org.freedesktop.secrets is not provided",
            ))
        };
        for err in [
            ::keyring::Error::PlatformFailure(io()),
            ::keyring::Error::NoStorageAccess(io()),
            ::keyring::Error::Ambiguous(vec![]),
        ] {
            let mapped = map_error(err, "provider:x");
            assert_eq!(
                mapped.code(),
                crate::ErrorCode::KeyringUnavailable,
                "{mapped}"
            );
        }
        let mapped = map_error(
            ::keyring::Error::BadEncoding(b"sk-bytes".to_vec()),
            "provider:x",
        );
        assert_eq!(mapped.code(), crate::ErrorCode::InvalidInput);
        assert!(!mapped.to_string().contains("sk-bytes"));
    }

    #[test]
    fn an_echoed_secret_is_scrubbed() {
        let secret = "zz-Distinctive-Keyring-Secret-42";
        let err = scrub(
            Error::KeyringUnavailable(format!("store said: bad value {secret}")),
            secret,
        );
        assert!(!err.to_string().contains(secret), "{err}");
    }

    #[test]
    fn debug_says_what_it_is() {
        let shown = format!("{:?}", KeyringStore::new());
        assert!(shown.contains("confab"), "{shown}");
    }
}
