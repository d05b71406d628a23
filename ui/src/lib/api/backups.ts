// Backups of the library, restoring one, and the whole library as one archive.

import { commands } from "../bindings";
import { call, type ApiResult } from "./call";
import type {
  BackupInfo,
  BackupKind,
  BackupSettings,
  ExportSummary,
  ImportReport,
  ItemKind,
  RestoreOutcome,
  SkipReason,
  SkippedItem,
} from "../bindings";

export type { BackupInfo, BackupKind, BackupSettings, ExportSummary, ImportReport, ItemKind, RestoreOutcome, SkipReason, SkippedItem };

/** Every backup, newest first. */
export function listBackups(): Promise<ApiResult<BackupInfo[]>> {
  return call(() => commands.listBackups());
}

/** Backs the library up now. */
export function createBackup(): Promise<ApiResult<BackupInfo>> {
  return call(() => commands.createBackup());
}

/** Replaces the library by a backup; the current one is backed up first. */
export function restoreBackup(name: string): Promise<ApiResult<RestoreOutcome>> {
  return call(() => commands.restoreBackup(name));
}

export function loadBackupSettings(): Promise<ApiResult<BackupSettings>> {
  return call(() => commands.getBackupSettings());
}

export function saveBackupSettings(settings: BackupSettings): Promise<ApiResult<BackupSettings>> {
  return call(() => commands.setBackupSettings(settings));
}

/** Writes the whole library to a new archive in the Downloads folder. */
export function exportLibrary(): Promise<ApiResult<ExportSummary>> {
  return call(() => commands.exportLibrary(null));
}

/** Merges the archive at `path` into the library. */
export function importLibrary(path: string): Promise<ApiResult<ImportReport>> {
  return call(() => commands.importLibrary(path));
}
