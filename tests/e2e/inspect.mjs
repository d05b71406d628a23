// In-page inspection for the security tests (security.test.mjs, zzkeytrace.test.mjs):
// what the live DOM holds, and a recorder of every IPC message.

/**
 * Remembers the app's own elements that could load or run something (its
 * scripts, styles, stylesheets, meta), and the document's title, so later
 * checks tell the app's own from anything a payload added.
 */
export async function markBaseline(driver) {
  await driver.executeScript(
    `window.__secBaseline = {
       title: document.title,
       elements: new WeakSet(document.querySelectorAll('script, style, link, meta, base')),
     };`,
  );
}

/**
 * What is wrong with the live page, as a list of readable problems (empty when
 * clean): a flag a payload set, a changed title, an element that loads or runs
 * something and is not the app's own, an event-handler attribute, a
 * javascript: address, any attribute pointing at the canary server, a hidden
 * body, or a page that was replaced (navigated away) since the baseline.
 */
export async function checkPage(driver, canaryPort) {
  return driver.executeScript(
    `const canary = '127.0.0.1:' + arguments[0];
     const base = window.__secBaseline;
     if (!base) return ['the page was replaced (navigated away) since the baseline'];
     const problems = [];
     const show = (el) => el.outerHTML.slice(0, 200);
     if (window.__pwned !== undefined) problems.push('script ran: ' + JSON.stringify(window.__pwned));
     if (document.title !== base.title) problems.push('title changed: ' + document.title);
     if (location.protocol === 'javascript:' || !/^(tauri:|https?:\\/\\/tauri\\.localhost)/.test(location.href)) {
       problems.push('location: ' + location.href);
     }
     const sameOrigin = (url) => { try { return new URL(url, location.href).origin === location.origin; } catch { return false; } };
     for (const el of document.querySelectorAll('script, style, link, meta, base')) {
       if (base.elements.has(el)) continue;
       // Vite loads the app's own lazy chunks (scripts, stylesheets) into <head>.
       const own = el.parentElement === document.head &&
         ((el.tagName === 'SCRIPT' && el.src && sameOrigin(el.src)) ||
          (el.tagName === 'LINK' && /^(stylesheet|modulepreload)$/.test(el.rel) && sameOrigin(el.href)));
       if (!own) problems.push('element: ' + show(el));
     }
     for (const el of document.querySelectorAll('iframe, frame, frameset, object, embed, video, audio, form, noscript')) {
       problems.push('element: ' + show(el));
     }
     const URL_ATTRS = /^(src|href|xlink:href|srcset|poster|data|action|formaction|background|style|content|srcdoc|ping)$/i;
     for (const el of document.querySelectorAll('*')) {
       for (const attr of el.attributes) {
         const name = attr.name.toLowerCase();
         const value = attr.value;
         if (name.startsWith('on')) problems.push('handler ' + name + ' on ' + show(el));
         if (URL_ATTRS.test(name) && value.includes(canary)) problems.push(name + ' to the canary on ' + show(el));
         if (URL_ATTRS.test(name) && /^[\\s\\x00-\\x1f]*j[\\s]*a[\\s]*v[\\s]*a[\\s]*s[\\s]*c[\\s]*r[\\s]*i[\\s]*p[\\s]*t[\\s]*:/i.test(value)) {
           problems.push('javascript: ' + name + ' on ' + show(el));
         }
       }
       if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml' && el.closest('[data-testid="message-content"]')) {
         problems.push('foreign content in a message: ' + show(el));
       }
     }
     const body = getComputedStyle(document.body);
     if (body.display === 'none' || body.visibility === 'hidden' || Number(body.opacity) === 0) {
       problems.push('the body is hidden: ' + body.display + ' ' + body.visibility + ' ' + body.opacity);
     }
     const app = document.querySelector('[data-ready]');
     const rect = app?.getBoundingClientRect();
     if (!rect || rect.width < 100 || rect.height < 100) problems.push('the app is not laid out');
     for (const el of document.querySelectorAll('[data-testid="message-content"] *, [data-testid="message-content"]')) {
       const style = getComputedStyle(el);
       // A payload's style would show here (an overlay over the window, a remote background).
       if (style.position === 'fixed' || style.backgroundImage !== 'none') problems.push('styled by a payload: ' + show(el));
     }
     return problems;`,
    canaryPort,
  );
}

/**
 * Records every IPC request (command and body) and every response in
 * window.__ipcLog. Tauri defines __TAURI_INTERNALS__.invoke and
 * transformCallback read-only, so the recorder sits one level down: Tauri's
 * IPC posts each command with fetch() to its ipc: scheme, and small channel
 * messages (a streamed reply's deltas) are run as script by the shell, which
 * nothing in the page can intercept; channel payloads too big for that are
 * fetched through the same IPC and so are recorded. Read it back with `ipcLog`.
 */
export async function recordIpc(driver) {
  await driver.executeScript(
    `if (window.__ipcLog) return;
     const log = (window.__ipcLog = []);
     const original = window.fetch.bind(window);
     const text = (body) => {
       if (body === undefined || body === null) return '';
       if (typeof body === 'string') return body;
       try { return new TextDecoder().decode(body instanceof ArrayBuffer ? new Uint8Array(body) : body); } catch { return String(body); }
     };
     window.fetch = async (input, init) => {
       const url = typeof input === 'string' ? input : input.url;
       const ipc = url.startsWith('ipc:') || url.startsWith('http://ipc.localhost') || url.startsWith('https://ipc.localhost');
       if (!ipc) return original(input, init);
       const cmd = decodeURIComponent(new URL(url).pathname.slice(1));
       log.push({ kind: 'request', cmd, body: text(init?.body) });
       const response = await original(input, init);
       response.clone().arrayBuffer().then(
         (bytes) => log.push({ kind: 'response', cmd, status: response.status, body: text(bytes) }),
         () => log.push({ kind: 'response', cmd, status: response.status, body: '<unreadable>' }),
       );
       return response;
     };`,
  );
}

/** The IPC messages recorded since `recordIpc`. */
export async function ipcLog(driver) {
  return driver.executeScript("return window.__ipcLog ?? null;");
}
