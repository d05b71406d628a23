import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { SCRIPT_START, markOnce } from "./lib/startup";

// The bundle has been fetched and parsed and runs: a step of the cold-start timeline.
markOnce(SCRIPT_START);

async function start(): Promise<void> {
  // Build-time constant: without VITE_MOCK_IPC the branch and the mock module
  // are dropped from the bundle, so production never fakes the backend.
  if (import.meta.env.VITE_MOCK_IPC) {
    const { installMockIpc } = await import("./lib/dev/mock-ipc");
    installMockIpc(import.meta.env.VITE_MOCK_IPC);
  }

  const target = document.getElementById("app");
  if (!target) throw new Error("index.html has no #app element");
  mount(App, { target });
}

void start();
