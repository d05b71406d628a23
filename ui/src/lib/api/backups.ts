// Backups of the library, restoring one, and the whole library as one archive.

import { open } from "@tauri-apps/plugin-dialog";
import { commands } from "../bindings";
import { call, toApiError, type ApiResult } from "./call";
import type {
  BackupInfo,
  BackupKind,
  BackupSettings,
  Conflict,
  ConflictChoice,
  ExportSummary,
  ImportChoices,
  ImportPreview,
  ImportReport,
  ItemChoice,
  ItemKind,
  RestoreOutcome,
  SkipReason,
  SkippedItem,
} from "../bindings";

export type {
  BackupInfo,
  BackupKind,
  BackupSettings,
  Conflict,
  ConflictChoice,
  ExportSummary,
  ImportChoices,
  ImportPreview,
  ImportReport,
  ItemChoice,
  ItemKind,
  RestoreOutcome,
  SkipReason,
  SkippedItem,
};

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

/** What importing the archive at `path` would add and skip, and its conflicts; changes nothing. */
export function previewLibraryImport(path: string, choices: ImportChoices = {}): Promise<ApiResult<ImportPreview>> {
  return call(() => commands.previewLibraryImport(path, choices));
}

/** Merges the archive at `path` into the library, settling conflicts as `choices` say. */
export function importLibrary(path: string, choices: ImportChoices = {}): Promise<ApiResult<ImportReport>> {
  return call(() => commands.importLibrary(path, choices));
}

/**
 * Asks for a library archive in the system's own open-file dialog (Tauri's
 * dialog plugin); `null` when the user closes it without choosing.
 */
export async function chooseArchive(title: string, filterName: string): Promise<ApiResult<string | null>> {
  try {
    const chosen = await open({
      title,
      multiple: false,
      directory: false,
      filters: [{ name: filterName, extensions: ["confab"] }],
    });
    return { ok: true, data: typeof chosen === "string" ? chosen : null };
  } catch (thrown) {
    return { ok: false, error: toApiError(thrown) };
  }
}
