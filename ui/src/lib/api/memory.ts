// A chat's memory: the summaries that stand in for what left the window, the
// settings of summaries and retrieval, notes attached for retrieval, searches,
// and the notice that a chat's memory changed (a summary written elsewhere).

import { commands, events } from "../bindings";
import { call, type ApiResult } from "./call";
import { listenSoftly } from "./listen";
import type { MemoryHit, MemoryNote, MemorySettings, MemorySummary, MemoryView, ModelChoice } from "../bindings";

export type { MemoryHit, MemoryNote, MemorySettings, MemorySummary, MemoryView, ModelChoice };

export function memoryView(sessionId: string): Promise<ApiResult<MemoryView>> {
  return call(() => commands.memoryView(sessionId));
}

export function setMemorySettings(sessionId: string, settings: MemorySettings): Promise<ApiResult<MemorySettings>> {
  return call(() => commands.setMemorySettings(sessionId, settings));
}

export function editSummary(summaryId: string, content: string): Promise<ApiResult<MemorySummary>> {
  return call(() => commands.editSummary(summaryId, content));
}

export function pinSummary(summaryId: string, pinned: boolean): Promise<ApiResult<MemorySummary>> {
  return call(() => commands.pinSummary(summaryId, pinned));
}

export function deleteSummary(summaryId: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteSummary(summaryId));
}

/** Writes the summary again with the summarizer; answers once it has. */
export function regenerateSummary(summaryId: string): Promise<ApiResult<MemorySummary>> {
  return call(() => commands.regenerateSummary(summaryId));
}

/** Summarises what left the window unsummarised; answers with what was written. */
export function summarizeNow(sessionId: string): Promise<ApiResult<MemorySummary[]>> {
  return call(() => commands.summarizeNow(sessionId));
}

export function addMemoryNote(sessionId: string, text: string): Promise<ApiResult<MemoryNote>> {
  return call(() => commands.addMemoryNote(sessionId, text));
}

export function deleteMemoryNote(noteId: number): Promise<ApiResult<null>> {
  return call(() => commands.deleteMemoryNote(noteId));
}

export function searchMemory(sessionId: string, text: string, limit: number): Promise<ApiResult<MemoryHit[]>> {
  return call(() => commands.searchMemory(sessionId, text, limit));
}

/**
 * Calls `handler` with the chat whose memory changed (in any window).
 * Resolves to a function that stops listening; fails soft.
 */
export function onMemoryChanged(handler: (sessionId: string) => void): Promise<() => void> {
  return listenSoftly(() =>
    events.chatMemoryChanged.listen((event) => {
      const id = event.payload?.sessionId;
      if (typeof id === "string") handler(id);
    }),
  );
}
