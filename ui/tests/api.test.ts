import { describe, expect, test } from "vitest";
import { ERROR_CODES, loadAppInfo, loadSettings, saveSettings, toApiError } from "../src/lib/api";
import { installBackend, outcome, rejectWith, SAMPLE_INFO } from "./helpers/backend";

describe("toApiError", () => {
  test("keeps a well-formed AppError", () => {
    expect(toApiError({ code: "database_corrupt", message: "bad", path: "/db" })).toEqual({
      code: "database_corrupt",
      message: "bad",
      path: "/db",
    });
  });

  test("drops a null or empty path", () => {
    expect(toApiError({ code: "io", message: "m", path: null })).toEqual({ code: "io", message: "m" });
    expect(toApiError({ code: "io", message: "m", path: "" })).toEqual({ code: "io", message: "m" });
  });

  test("a plain string becomes an internal error carrying the text", () => {
    expect(toApiError("set_settings not allowed by ACL")).toEqual({
      code: "internal",
      message: "set_settings not allowed by ACL",
    });
  });

  test("a JS Error becomes an internal error with its message", () => {
    expect(toApiError(new TypeError("x is undefined"))).toEqual({ code: "internal", message: "x is undefined" });
  });

  test("an unknown code keeps the message and names the code", () => {
    expect(toApiError({ code: "quota", message: "too big" })).toEqual({
      code: "internal",
      message: "quota: too big",
    });
  });

  test("odd shapes still produce text", () => {
    expect(toApiError({ reason: 42 }).message).toBe('{"reason":42}');
    expect(toApiError(undefined)).toEqual({ code: "internal", message: "" });
    expect(toApiError(7)).toEqual({ code: "internal", message: "7" });
  });

  test("knows every backend code", () => {
    expect(ERROR_CODES).toContain("database_too_new");
    expect(ERROR_CODES).toContain("disk_full");
  });
});

describe("commands", () => {
  test("success comes back as ok with the data", async () => {
    installBackend();
    expect(await loadAppInfo()).toEqual({ ok: true, data: SAMPLE_INFO });
  });

  test("an AppError rejection comes back as ok:false", async () => {
    installBackend({ appInfo: rejectWith({ code: "timeout", message: "slow" }) });
    expect(await loadAppInfo()).toEqual({ ok: false, error: { code: "timeout", message: "slow" } });
  });

  test("a string rejection comes back as an internal error", async () => {
    installBackend({ appInfo: () => Promise.reject("Command app_info not found") });
    expect(await loadAppInfo()).toEqual({
      ok: false,
      error: { code: "internal", message: "Command app_info not found" },
    });
  });

  test("a thrown Error is caught too", async () => {
    installBackend({
      appInfo: () => {
        throw new Error("IPC bridge missing");
      },
    });
    expect(await loadAppInfo()).toEqual({ ok: false, error: { code: "internal", message: "IPC bridge missing" } });
  });

  test("loadSettings answers with the stored settings", async () => {
    const calls = installBackend({ settings: { language: null, theme: "dark" } });
    expect(await loadSettings()).toEqual({ ok: true, data: { language: null, theme: "dark" } });
    expect(calls).toEqual([{ cmd: "get_settings", args: {} }]);
  });

  test("saveSettings sends {settings} and returns what was stored", async () => {
    const calls = installBackend();
    const result = await saveSettings({ language: "ru", theme: "light" });
    expect(result).toEqual({ ok: true, data: { language: "ru", theme: "light" } });
    expect(calls).toEqual([{ cmd: "set_settings", args: { settings: { language: "ru", theme: "light" } } }]);
  });
});

describe("library commands", () => {
  test("importFile sends the bytes with the file name in a header", async () => {
    const { importFile } = await import("../src/lib/api");
    const calls = installBackend({
      importFile: (name) => ({ file: name, status: "imported", characterId: "c1", name: "Ann", worldBookId: null, sessionId: null, sameNameAs: null, pendingDictionaryRules: 0, error: null }),
    });
    const result = await importFile(new File(["hello"], "Анна #1.png"));
    expect(result).toEqual({
      ok: true,
      data: { file: "Анна #1.png", status: "imported", characterId: "c1", name: "Ann", worldBookId: null, sessionId: null, sameNameAs: null, pendingDictionaryRules: 0, error: null },
    });
    expect(calls[0]?.headers).toEqual({ "x-file-name": encodeURIComponent("Анна #1.png") });
    expect(new TextDecoder().decode(calls[0]?.args as Uint8Array)).toBe("hello");
  });

  test("importFile turns a rejection into an ApiError", async () => {
    const { importFile } = await import("../src/lib/api");
    installBackend({ importFile: rejectWith({ code: "too_large", message: "card.png is too large (the limit is 50 MB)" }) });
    expect(await importFile(new File(["x"], "card.png"))).toEqual({
      ok: false,
      error: { code: "too_large", message: "card.png is too large (the limit is 50 MB)" },
    });
  });

  test("importPaths passes a Channel and forwards its events", async () => {
    const { importPaths } = await import("../src/lib/api");
    const summary = { imported: 0, alreadyInLibrary: 0, failed: 0, outcomes: [] };
    const calls = installBackend({
      importPaths: (_paths, send) => {
        send({ kind: "started", total: 0 });
        send({ kind: "finished", summary });
        return summary;
      },
    });
    const events: string[] = [];
    expect(await importPaths(["/a"], (event) => events.push(event.kind))).toEqual({ ok: true, data: summary });
    expect(events).toEqual(["started", "finished"]);
    expect(Object.keys(calls[0]?.args as object)).toEqual(["paths", "onEvent"]);
  });

  test("avatar URLs use the avatar: scheme with the key as a cache buster", async () => {
    const { avatarUrl } = await import("../src/lib/api");
    installBackend();
    expect(avatarUrl({ id: "abc", avatarKey: "h1" }, "thumb")).toBe("avatar://localhost/thumb%2Fabc?v=h1");
    expect(avatarUrl({ id: "abc", avatarKey: "h1" }, "full")).toBe("avatar://localhost/full%2Fabc?v=h1");
    expect(avatarUrl({ id: "abc", avatarKey: null }, "thumb")).toBeNull();
  });

  test("knows the card error codes", () => {
    for (const code of ["no_card_data", "invalid_card", "too_large", "unsupported_format"]) {
      expect(ERROR_CODES).toContain(code);
    }
  });
});

describe("picked files", () => {
  /** A file that says it is `size` bytes and records whether anything read it. */
  function claimed(name: string, size: number): { file: File; reads: () => number } {
    let reads = 0;
    const file = new File(["tiny"], name);
    Object.defineProperty(file, "size", { value: size });
    const read = (): Promise<ArrayBuffer> => {
      reads += 1;
      return Promise.resolve(new ArrayBuffer(4));
    };
    Object.defineProperty(file, "arrayBuffer", { value: read });
    Object.defineProperty(file, "stream", { value: () => { reads += 1; return new ReadableStream(); } });
    return { file, reads: () => reads };
  }

  test("a file over its command's limit is refused by its size, before a byte is read or sent", async () => {
    const api = await import("../src/lib/api");
    const calls = installBackend();
    const MB = 1024 * 1024;
    const cases: [string, number, (file: File) => Promise<{ ok: boolean }>][] = [
      ["card.png", 50 * MB, (f) => api.importFile(f)],
      ["book.json", 50 * MB, (f) => api.importWorldBook(f)],
      ["chat.jsonl", 100 * MB, (f) => api.importChat(f, { characterId: "c1" })],
      ["photo.png", 20 * MB, (f) => api.attachImage(f)],
      ["me.png", 20 * MB, (f) => api.setPersonaAvatar("p1", f)],
    ];
    for (const [name, limit, send] of cases) {
      const { file, reads } = claimed(name, limit + 1);
      const result = await send(file);
      expect(result, name).toEqual({
        ok: false,
        error: { code: "too_large", message: `${name} is too large (the limit is ${limit / MB} MB)` },
      });
      expect(reads(), name).toBe(0);
    }
    expect(calls).toEqual([]);
    expect(api.MAX_UPLOAD_BYTES.import_file).toBe(50 * MB);
  });

  test("a file at the limit is read and sent", async () => {
    const { importFile, MAX_UPLOAD_BYTES } = await import("../src/lib/api");
    const calls = installBackend({ importFile: (name) => outcome(name, "imported") });
    const { file, reads } = claimed("card.png", MAX_UPLOAD_BYTES.import_file);
    expect((await importFile(file)).ok).toBe(true);
    expect(reads()).toBe(1);
    expect(calls.map((c) => c.cmd)).toEqual(["import_file"]);
  });
});

describe("reply streams", () => {
  test("a rate limit keeps retryAfterSecs; other errors have none", async () => {
    expect(toApiError({ code: "rate_limited", message: "slow down", retryAfterSecs: 12 })).toEqual({
      code: "rate_limited",
      message: "slow down",
      retryAfterSecs: 12,
    });
    expect(toApiError({ code: "rate_limited", message: "slow down", retryAfterSecs: null })).toEqual({ code: "rate_limited", message: "slow down" });
  });

  test("sendMessage passes a Channel and forwards its events, failures as ApiErrors", async () => {
    const { sendMessage } = await import("../src/lib/api");
    const started = { sessionId: "s1", kind: "send", userMessageId: "u1", assistantMessageId: "a1", speakerId: null };
    const calls = installBackend({
      override: (cmd, args) => {
        if (cmd !== "send_message") return undefined;
        const channel = args["onEvent"] as { onmessage: (event: unknown) => void };
        channel.onmessage({ type: "started", ...started });
        channel.onmessage({ type: "delta", text: "Hi", reasoning: "" });
        channel.onmessage({ type: "failed", error: { code: "overloaded", message: "529", retryAfterSecs: 3 }, partialSaved: true });
        return started;
      },
    });
    const events: unknown[] = [];
    expect(await sendMessage("s1", "Hello", ["img-1"], null, (event) => events.push(event))).toEqual({ ok: true, data: started });
    expect(events).toEqual([
      { type: "started", ...started },
      { type: "delta", text: "Hi", reasoning: "" },
      { type: "failed", error: { code: "overloaded", message: "529", retryAfterSecs: 3 }, partialSaved: true },
    ]);
    expect(Object.keys(calls[0]?.args as object)).toEqual(["sessionId", "text", "imageIds", "speakerId", "onEvent"]);
    expect(calls[0]?.args).toMatchObject({ sessionId: "s1", text: "Hello", imageIds: ["img-1"], speakerId: null });
  });
});
