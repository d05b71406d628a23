// The character library: the grid, one character, saving, replacing,
// exporting, and importing files and folders from disk.

import { Channel } from "@tauri-apps/api/core";
import { commands } from "../bindings";
import { call, type ApiResult } from "./call";
import type {
  AssetRef,
  CardData,
  CardFormat,
  CardSpec,
  CharacterDetail,
  CharacterQuery,
  CharacterSort,
  CharacterSummary,
  ExportedFile,
  ExportFormat,
  Facet,
  ImportEvent,
  ImportOutcome,
  ImportStatus,
  ImportSummary,
  JsonValue,
  LibraryFacets,
  Role,
  StoredAsset,
} from "../bindings";

export type {
  AssetRef,
  CardData,
  CardFormat,
  CardSpec,
  CharacterDetail,
  CharacterQuery,
  CharacterSort,
  CharacterSummary,
  ExportedFile,
  ExportFormat,
  Facet,
  ImportEvent,
  ImportOutcome,
  ImportStatus,
  ImportSummary,
  JsonValue,
  LibraryFacets,
  StoredAsset,
};

/** A card's Character's note (SillyTavern's depth prompt, `extensions.depth_prompt`), as the core reads it. */
export type CharacterNote = { text: string; depth: number; role: Role };

export function listCharacters(query: CharacterQuery): Promise<ApiResult<CharacterSummary[]>> {
  return call(() => commands.listCharacters(query));
}

export function libraryFacets(): Promise<ApiResult<LibraryFacets>> {
  return call(() => commands.libraryFacets());
}

export function getCharacter(id: string): Promise<ApiResult<CharacterDetail>> {
  return call(() => commands.getCharacter(id));
}

/** Saves every field of `card`; answers with what is stored. */
export function updateCharacter(id: string, card: CardData): Promise<ApiResult<CharacterDetail>> {
  return call(() => commands.updateCharacter(id, card));
}

/** Deletes the character and its chats. */
export function deleteCharacter(id: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteCharacter(id));
}

/** The just-imported `sourceId` takes the place of `targetId` (which keeps its id and chats). */
export function replaceCharacter(targetId: string, sourceId: string): Promise<ApiResult<CharacterDetail>> {
  return call(() => commands.replaceCharacter(targetId, sourceId));
}

/** Writes the character into the Downloads folder; answers with where. */
export function exportCharacter(id: string, format: ExportFormat): Promise<ApiResult<ExportedFile>> {
  return call(() => commands.exportCharacter(id, format));
}

/**
 * Imports files and folders from disk (drag and drop). `onEvent` receives
 * started, one progress per file, then finished, in that order.
 */
export function importPaths(
  paths: readonly string[],
  onEvent: (event: ImportEvent) => void,
): Promise<ApiResult<ImportSummary>> {
  return call(() => {
    const channel = new Channel<ImportEvent>();
    channel.onmessage = onEvent;
    return commands.importPaths([...paths], channel);
  });
}
