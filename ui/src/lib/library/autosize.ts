// A Svelte action: a <textarea> grows with its text (up to a cap, then it
// scrolls). `field-sizing: content` would do this, but WebKitGTK lacks it.

const MAX_HEIGHT = 520;

function fit(node: HTMLTextAreaElement): void {
  // `data-max-height` on the textarea sets a smaller cap (a chat composer).
  const max = Number(node.dataset["maxHeight"]) || MAX_HEIGHT;
  node.style.height = "auto";
  const wanted = node.scrollHeight + (node.offsetHeight - node.clientHeight);
  if (node.scrollHeight === 0) {
    node.style.height = ""; // not laid out (hidden, or jsdom)
    return;
  }
  node.style.height = `${Math.min(wanted, max)}px`;
  node.style.overflowY = wanted > max ? "auto" : "hidden";
}

export function autosize(node: HTMLTextAreaElement, _value?: string): { update: (value?: string) => void; destroy: () => void } {
  const onInput = (): void => fit(node);
  node.addEventListener("input", onInput);
  // After layout, so scrollHeight is real.
  const frame = requestAnimationFrame(() => fit(node));
  const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => fit(node));
  observer?.observe(node.parentElement ?? node);
  return {
    update: () => fit(node),
    destroy: () => {
      cancelAnimationFrame(frame);
      observer?.disconnect();
      node.removeEventListener("input", onInput);
    },
  };
}
