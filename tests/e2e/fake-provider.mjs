// A fake OpenAI-compatible model server on 127.0.0.1 for the end-to-end suite.
//
//   node fake-provider.mjs PORT_FILE
//
// Listens on a free loopback port and writes its base URL (".../v1") to PORT_FILE.
// What it answers depends on the last user message of a chat request:
//   contains "slowly"  -> 200 words, one every 50 ms (long enough to press Stop)
//   contains "steadily" -> step1 … step30, one every 100 ms (a reply another window can watch grow)
//   contains "refuse"  -> HTTP 429 with a JSON error and Retry-After: 7
//   contains "break"   -> a few words, then the connection is dropped (no finish)
//   contains "hostile canary PORT" -> reasoning and a reply full of script, frames,
//                         styles and remote URLs aimed at http://127.0.0.1:PORT
//                         (hostile.mjs), streamed in small pieces that cut tags apart
//   contains "tale"    -> a long reply (about 170 words) in 10 chunks, so a chat on
//                         fake-tiny soon fills its window (zmemory.test.mjs)
//   otherwise          -> a short reply in 12 chunks, 30 ms apart, with usage
// A summary request (its messages carry Confab's summary prompt, which opens
// "You keep the memory of a long role-play chat") is answered, streamed or not
// as asked, with SUMMARY_REPLY and counted in stats.summaryRequests.
// POST /v1/embeddings answers deterministic vectors: words hashed into 64
// dimensions, normalised, so texts sharing words score high.
// GET /v1/models lists three models, fake-tiny with a 1536-token window.
// Under /anthropic/v1 it speaks Anthropic's Messages API (a provider of kind
// anthropic pointed there; zcache.test.mjs): GET models lists claude-fake-4, POST
// messages streams a short reply whose usage reports the prompt cache as
// Anthropic does: a request with cache_control marks writes CACHED_TOKENS to the
// cache the first time and reads them every later time; one without marks
// neither. GET /__stats tells the suite what happened
// (requests seen, streams the client closed early, the last request's body).
//
// The same server also speaks KoboldCpp's own API at its root (a provider of
// kind koboldCpp pointed at http://127.0.0.1:PORT): /api/extra/version,
// /api/v1/model (a Llama 3.1 model, so Confab picks the Llama 3 template by
// name), /api/extra/true_max_context_length, /api/extra/tokencount, /api/extra/generate/stream (the
// same rules as above on the prompt's last line; "slowly" streams until
// aborted) and /api/extra/abort, whose genkeys the stats keep (koboldAborts).
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { hostileReasoning, hostileReply } from "./hostile.mjs";

const portFile = process.argv[2];
if (!portFile) {
  console.error("usage: node fake-provider.mjs PORT_FILE");
  process.exit(2);
}

const stats = {
  chatRequests: 0,
  closedEarly: 0,
  lastBody: null,
  lastAuthorization: null,
  koboldRequests: 0,
  lastKoboldBody: null,
  koboldAborts: [],
  summaryRequests: 0,
  embeddingRequests: 0,
  anthropicRequests: 0,
  lastAnthropicBody: null,
  /** Whether a marked Anthropic request has written the cache yet. */
  anthropicCacheWritten: false,
};

/** The tokens the fake Anthropic API says a marked prompt wrote to or read from its cache. */
const CACHED_TOKENS = 1500;
const ANTHROPIC_REPLY = "The fake Claude answers from behind its cache.";

/** The opening words of Confab's DEFAULT_SUMMARY_PROMPT (crates/core/src/memory/settings.rs). */
const SUMMARY_PROMPT_OPENING = "You keep the memory of a long role-play chat";
const SUMMARY_REPLY =
  "SUMMARY: The traveller reached Gull Point in a storm; Wren Hollow told the tale of the drowned bell and hid the brass key under the lamp.";

const TALE =
  "Long ago, when the lamp on Gull Point was first lit, a ship called the Heron came in out of a storm like this one. " +
  "Her captain swore he saw a bell ringing under the water, slow and patient, calling the ship onto the rocks. " +
  "The keeper then was my grandmother, and she did not believe in drowned bells, but she believed in ships, " +
  "so she climbed the stair with a lantern in each hand and turned the great lens by hand all night long. " +
  "The Heron turned away from the rocks at dawn, and the captain left a brass key in thanks, a key to nothing anyone could find. " +
  "My grandmother hung it under the lamp, and it hangs there still. Some nights, when the wind is from the west, " +
  "I think I hear that bell myself, and I wonder what the key was meant to open, and who will come asking for it one day.";

/** Whether a chat request is Confab asking for a summary. */
function isSummaryRequest(body) {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  return messages.some((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "")).includes(SUMMARY_PROMPT_OPENING));
}

/** A deterministic embedding: each word hashed (FNV-1a) into one of 64 dimensions, then normalised. */
function embed(text) {
  const vector = new Array(64).fill(0);
  for (const word of String(text).toLowerCase().match(/[a-z\u0400-\u04ff0-9]+/g) ?? []) {
    if (word.length < 3) continue;
    let hash = 0x811c9dc5;
    for (const ch of word) hash = Math.imul(hash ^ ch.codePointAt(0), 0x01000193) >>> 0;
    vector[hash % 64] += 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}
/** KoboldCpp generations still running, by genkey: an abort ends them as the real server does. */
const koboldRunning = new Map();

function koboldEvent(token, finish = null) {
  return `event: message\ndata: ${JSON.stringify({ token, finish_reason: finish })}\n\n`;
}

/** A KoboldCpp stream of `tokens`, `delayMs` apart, ended early by an abort of `genkey`. */
async function streamKobold(res, tokens, delayMs, genkey) {
  const state = { aborted: false };
  if (genkey) koboldRunning.set(genkey, state);
  res.on("close", () => {
    if (!res.writableFinished) stats.closedEarly += 1;
  });
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  for (const token of tokens) {
    await sleep(delayMs);
    if (state.aborted || res.destroyed) break;
    res.write(koboldEvent(token));
  }
  if (genkey) koboldRunning.delete(genkey);
  if (!res.destroyed) res.end(koboldEvent("", state.aborted ? "abort" : "stop"));
}

/** The text from the last user turn's opening on, in the formats Confab writes (Llama 3, ChatML, Alpaca, Mistral). */
function lastUserTurn(prompt) {
  const markers = ["<|start_header_id|>user<|end_header_id|>", "<|im_start|>user", "### Instruction:", "[INST]"];
  const at = Math.max(...markers.map((m) => prompt.lastIndexOf(m)));
  return at >= 0 ? prompt.slice(at) : prompt;
}

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

const REPLY =
  "The forest is the Eldoria woods, traveller. You are safe here; the glade keeps the shadows away. " +
  "Rest a while, and tell me how you came to be so far from the road.";

function chunk(delta, finish = null) {
  return `data: ${JSON.stringify({
    id: "chatcmpl-fake",
    object: "chat.completion.chunk",
    model: "fake-small",
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

function lastUserText(body) {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  const users = messages.filter((m) => m.role === "user");
  const content = users.length ? users[users.length - 1].content : "";
  return typeof content === "string" ? content : JSON.stringify(content);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function streamWords(res, words, delayMs, { finish = true } = {}) {
  let closed = false;
  res.on("close", () => {
    if (!res.writableFinished) {
      closed = true;
      stats.closedEarly += 1;
    }
  });
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.write(": keep-alive\n\n");
  res.write(chunk({ role: "assistant", content: "" }));
  for (const word of words) {
    if (closed) return;
    await sleep(delayMs);
    if (closed) return;
    res.write(chunk({ content: word }));
  }
  if (!finish) {
    res.socket?.destroy();
    return;
  }
  res.write(chunk({}, "stop"));
  res.write(
    `data: ${JSON.stringify({
      id: "chatcmpl-fake",
      object: "chat.completion.chunk",
      choices: [],
      usage: { prompt_tokens: 321, completion_tokens: words.length, total_tokens: 321 + words.length },
    })}\n\n`,
  );
  res.end("data: [DONE]\n\n");
}

/** `text` cut every `size` characters (so tags and entities arrive split across deltas). */
function pieces(text, size) {
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function streamHostile(res, canary) {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.write(chunk({ role: "assistant", content: "" }));
  for (const piece of pieces(hostileReasoning(canary), 40)) {
    res.write(chunk({ reasoning_content: piece }));
    await sleep(5);
  }
  for (const piece of pieces(hostileReply(canary), 23)) {
    res.write(chunk({ content: piece }));
    await sleep(5);
  }
  res.write(chunk({}, "stop"));
  res.end("data: [DONE]\n\n");
}

/** One server-sent event as Anthropic writes it: an event name and its JSON. */
function anthropicEvent(res, type, data) {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

/** A reply in Anthropic's streaming shape, its usage telling whether the prompt cache was written or read. */
async function streamAnthropic(res, body) {
  const marked = JSON.stringify(body).includes('"cache_control"');
  const written = marked && !stats.anthropicCacheWritten;
  const read = marked && stats.anthropicCacheWritten;
  if (marked) stats.anthropicCacheWritten = true;
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  anthropicEvent(res, "message_start", {
    message: {
      id: "msg_fake",
      type: "message",
      role: "assistant",
      content: [],
      model: body.model ?? "claude-fake-4",
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 40,
        cache_creation_input_tokens: written ? CACHED_TOKENS : 0,
        cache_read_input_tokens: read ? CACHED_TOKENS : 0,
        output_tokens: 1,
      },
    },
  });
  anthropicEvent(res, "content_block_start", { index: 0, content_block: { type: "text", text: "" } });
  const parts = words(ANTHROPIC_REPLY);
  for (const text of parts) {
    await sleep(20);
    anthropicEvent(res, "content_block_delta", { index: 0, delta: { type: "text_delta", text } });
  }
  anthropicEvent(res, "content_block_stop", { index: 0 });
  anthropicEvent(res, "message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: parts.length } });
  anthropicEvent(res, "message_stop", {});
  res.end();
}

function words(text) {
  return text.match(/\S+\s*/g) ?? [];
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/__stats") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/extra/version") return json(res, 200, { result: "KoboldCpp", version: "1.82.4" });
    if (req.method === "GET" && url.pathname === "/api/v1/model") return json(res, 200, { result: "koboldcpp/Meta-Llama-3.1-8B-Instruct-Q4_K_M" });
    if (req.method === "GET" && url.pathname === "/api/extra/true_max_context_length") return json(res, 200, { value: 8192 });
    if (req.method === "POST" && url.pathname === "/api/extra/tokencount") {
      let prompt = "";
      try {
        prompt = String(JSON.parse(Buffer.concat(chunks).toString("utf8")).prompt ?? "");
      } catch {}
      // A tokenizer of its own: one token per four characters.
      return json(res, 200, { value: Math.ceil(prompt.length / 4) });
    }
    if (req.method === "POST" && url.pathname === "/api/extra/abort") {
      let genkey = null;
      try {
        genkey = JSON.parse(Buffer.concat(chunks).toString("utf8")).genkey ?? null;
      } catch {}
      stats.koboldAborts.push(genkey);
      const running = koboldRunning.get(genkey);
      if (running) running.aborted = true;
      return json(res, 200, { success: "true", done: "true" });
    }
    if (req.method === "POST" && url.pathname === "/api/extra/generate/stream") {
      stats.koboldRequests += 1;
      let body = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return json(res, 400, { detail: { msg: "invalid JSON", type: "bad_input" } });
      }
      stats.lastKoboldBody = body;
      // The rules read the last user turn only (the history before it may say "slowly" too).
      const prompt = lastUserTurn(typeof body.prompt === "string" ? body.prompt : "");
      if (prompt.includes("slowly")) {
        await streamKobold(res, Array.from({ length: 400 }, (_, i) => `word${i + 1} `), 50, body.genkey);
        return;
      }
      await streamKobold(res, words(REPLY), 20, body.genkey);
      return;
    }
    if (req.method === "GET" && url.pathname === "/anthropic/v1/models") {
      return json(res, 200, {
        data: [{ type: "model", id: "claude-fake-4", display_name: "Claude Fake 4", created_at: "2026-01-01T00:00:00Z" }],
        has_more: false,
        first_id: "claude-fake-4",
        last_id: "claude-fake-4",
      });
    }
    if (req.method === "POST" && url.pathname === "/anthropic/v1/messages") {
      stats.anthropicRequests += 1;
      let body = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return json(res, 400, { type: "error", error: { type: "invalid_request_error", message: "invalid JSON" } });
      }
      stats.lastAnthropicBody = body;
      if (body.stream !== true) return json(res, 400, { type: "error", error: { type: "invalid_request_error", message: "the fake streams only" } });
      await streamAnthropic(res, body);
      return;
    }
    if (req.method === "GET" && url.pathname === "/v1/models") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: [
            { id: "fake-small", object: "model", owned_by: "confab-tests" },
            { id: "fake-large", object: "model", owned_by: "confab-tests" },
            { id: "fake-tiny", object: "model", owned_by: "confab-tests", context_length: 1536 },
          ],
        }),
      );
      return;
    }
    if (req.method === "POST" && url.pathname === "/v1/embeddings") {
      stats.embeddingRequests += 1;
      let body = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return json(res, 400, { error: { message: "invalid JSON", type: "invalid_request_error" } });
      }
      const inputs = Array.isArray(body?.input) ? body.input : [body?.input ?? ""];
      return json(res, 200, {
        object: "list",
        model: body?.model ?? "fake-embed",
        data: inputs.map((text, index) => ({ object: "embedding", index, embedding: embed(text) })),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
      });
    }
    if (req.method === "POST" && url.pathname === "/v1/chat/completions") {
      stats.chatRequests += 1;
      let body = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: { message: "invalid JSON", type: "invalid_request_error" } }));
        return;
      }
      stats.lastBody = body;
      // Kept so the key-trace test can prove the key it set was really used.
      stats.lastAuthorization = req.headers.authorization ?? null;
      if (isSummaryRequest(body)) {
        stats.summaryRequests += 1;
        if (body.stream === false) {
          return json(res, 200, {
            id: "chatcmpl-fake-summary",
            object: "chat.completion",
            model: body.model ?? "fake-small",
            choices: [{ index: 0, message: { role: "assistant", content: SUMMARY_REPLY }, finish_reason: "stop" }],
            usage: { prompt_tokens: 400, completion_tokens: 30, total_tokens: 430 },
          });
        }
        await streamWords(res, words(SUMMARY_REPLY), 5);
        return;
      }
      const text = lastUserText(body);
      const hostile = /hostile canary (\d+)/.exec(text);
      if (hostile) {
        await streamHostile(res, `http://127.0.0.1:${hostile[1]}`);
        return;
      }
      if (text.includes("refuse")) {
        res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "7" });
        res.end(JSON.stringify({ error: { message: "Rate limit reached for fake-small", type: "rate_limit_error" } }));
        return;
      }
      if (text.includes("slowly")) {
        const many = Array.from({ length: 200 }, (_, i) => `word${i + 1} `);
        await streamWords(res, many, 50);
        return;
      }
      if (text.includes("steadily")) {
        await streamWords(res, Array.from({ length: 30 }, (_, i) => `step${i + 1} `), 100);
        return;
      }
      if (text.includes("tale")) {
        const parts = words(TALE);
        const size = Math.ceil(parts.length / 10);
        const grouped = [];
        for (let i = 0; i < parts.length; i += size) grouped.push(parts.slice(i, i + size).join(""));
        await streamWords(res, grouped, 20);
        return;
      }
      if (text.includes("break")) {
        await streamWords(res, words("I was about to say something important when"), 30, { finish: false });
        return;
      }
      const parts = words(REPLY);
      const size = Math.ceil(parts.length / 12);
      const grouped = [];
      for (let i = 0; i < parts.length; i += size) grouped.push(parts.slice(i, i + size).join(""));
      await streamWords(res, grouped, 30);
      return;
    }
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: { message: `no route ${req.method} ${url.pathname}` } }));
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  writeFileSync(portFile, `http://127.0.0.1:${port}/v1\n`);
});
