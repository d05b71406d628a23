import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// Read through globalThis so this file type-checks without @types/node.
const env: Readonly<Record<string, string | undefined>> =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const host = env["TAURI_DEV_HOST"];

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  // Tauri prints its own output; keep Rust errors visible.
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: host || false,
    hmr: host ? { protocol: "ws", host, port: 5174 } : undefined,
    // Help's pages (docs/) and the demo character's portrait are imported from
    // outside ui/ and bundled in; let the dev server and Vitest read them.
    // The core's sampler lists (llm/samplers.rs) and default summary prompt
    // (memory/settings.rs) are read by tests that keep the UI's copies in step.
    fs: { allow: [".", "../docs", "../crates/core/assets/demo", "../crates/core/src/llm", "../crates/core/src/memory"] },
    watch: {
      // The Rust side lives next door; its rebuilds must not reload the UI.
      ignored: ["**/src-tauri/**", "**/target/**"],
    },
  },
  // Only VITE_* (our own) and TAURI_ENV_* (set by the Tauri CLI) reach the client.
  envPrefix: ["VITE_", "TAURI_ENV_"],
  build: {
    // WebKitGTK / WKWebView lag behind Chromium; WebView2 is evergreen.
    target: ["es2021", "safari14"],
    minify: "esbuild",
    sourcemap: false,
    outDir: "dist",
    emptyOutDir: true,
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
    setupFiles: ["tests/setup.ts"],
    restoreMocks: true,
  },
});
