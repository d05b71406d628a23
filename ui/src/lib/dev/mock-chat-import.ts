// A SillyTavern chat (.jsonl, one JSON object a line) read as the mock's
// import_chat reads it: `mes` is the text, `is_user` / `is_system` the role.

import type { ApiError, Role } from "../api";

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
}

/** The chat's messages, or a rejection when the file is not a SillyTavern chat. */
export function readSillyTavernChat(fileName: string, bytes: Uint8Array): { role: Role; content: string; name?: string }[] | Promise<never> {
  let text = "";
  try {
    text = new TextDecoder().decode(bytes);
  } catch {
    // Bytes that are not text import as nothing.
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const messages: { role: Role; content: string; name?: string }[] = [];
  for (const line of lines) {
    try {
      const row = JSON.parse(line) as { mes?: unknown; is_user?: unknown; is_system?: unknown; name?: unknown };
      if (typeof row.mes !== "string") continue;
      const role: Role = row.is_system === true ? "system" : row.is_user === true ? "user" : "assistant";
      messages.push(typeof row.name === "string" ? { role, content: row.mes, name: row.name } : { role, content: row.mes });
    } catch {
      return reject("invalid_input", `${fileName} is not a SillyTavern chat: line ${lines.indexOf(line) + 1} is not JSON`);
    }
  }
  if (messages.length === 0 && lines.length > 0 && !/\.jsonl$/i.test(fileName)) {
    return reject("unsupported_format", `${fileName} is not a SillyTavern chat (.jsonl)`);
  }
  return messages;
}
