//! When the next scheduled backup is due.

use std::time::Duration;

use super::{create, BackupInfo, BackupKind, BackupSettings};
use crate::store::backups;
use crate::store::Store;
use crate::Result;

/// How often the app asks [`run_if_due`]: often enough that a daily backup is
/// never late by much, rarely enough to cost nothing.
pub const CHECK_EVERY: Duration = Duration::from_secs(10 * 60);

const HOUR_MS: i64 = 60 * 60 * 1000;

/// When the next scheduled backup is due, given the last one's time: at once
/// when there was none; never when the schedule is off.
pub fn next_due(settings: &BackupSettings, last: Option<i64>) -> Option<i64> {
    if settings.interval_hours == 0 {
        return None;
    }
    Some(match last {
        None => i64::MIN,
        Some(last) => last.saturating_add(i64::from(settings.interval_hours) * HOUR_MS),
    })
}

/// Whether a scheduled backup is due at `now`. A last backup dated in the
/// future (the clock was set back) counts as due, so a wrong clock never
/// stops backups for good.
pub fn is_due(settings: &BackupSettings, last: Option<i64>, now: i64) -> bool {
    match next_due(settings, last) {
        None => false,
        Some(_) if last.is_some_and(|l| l > now) => true,
        Some(due) => due <= now,
    }
}

/// Takes a scheduled backup if one is due at `now`; returns it.
pub async fn run_if_due(store: &Store, now: i64) -> Result<Option<BackupInfo>> {
    let settings = store.backup_settings().await?;
    let dir = backups::backup_dir(store.path())?;
    let last = backups::list_backups(&dir)?
        .into_iter()
        .find(|b| b.kind == BackupKind::Scheduled)
        .map(|b| b.created_at);
    if !is_due(&settings, last, now) {
        return Ok(None);
    }
    create(store, BackupKind::Scheduled, now).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_at_once_then_after_the_interval_and_never_when_off() {
        let daily = BackupSettings::default();
        assert!(is_due(&daily, None, 0));
        let last = 1_000 * HOUR_MS;
        assert!(!is_due(&daily, Some(last), last + 23 * HOUR_MS));
        assert!(is_due(&daily, Some(last), last + 24 * HOUR_MS));
        assert!(is_due(&daily, Some(last), last - HOUR_MS), "clock set back");
        let off = BackupSettings {
            interval_hours: 0,
            ..daily
        };
        assert!(!is_due(&off, None, last));
        assert_eq!(next_due(&off, Some(last)), None);
    }
}
