// Hostile text for the security tests: every way a card or a model reply could
// try to run script, restyle the window, navigate it, or make the webview load
// something from the network. Each payload that works leaves a trace the test
// can see: it sets window.__pwned / document.title, or it requests a URL on a
// canary server on 127.0.0.1 that records every request. Shared by
// security.test.mjs (the card) and fake-provider.mjs (the reply).

/** JavaScript that records a hit as `label` (in a flag the test reads back). */
function mark(label) {
  return `window.__pwned=(window.__pwned||[]).concat('${label}');document.title='pwned ${label}'`;
}

/**
 * Every payload kind, for the field `label`; `canary` is the canary server's
 * base URL (http://127.0.0.1:PORT). Markdown forms are included too, since
 * greetings and replies are rendered as Markdown.
 */
export function payloads(label, canary) {
  const url = (kind) => `${canary}/${encodeURIComponent(label)}/${kind}`;
  return [
    `<script>${mark(`${label}:script`)}</script>`,
    `<img src=x onerror="${mark(`${label}:onerror`)}">`,
    `<img src="${url("img")}" alt="remote">`,
    `<svg><image href="${url("svg-image")}"/><script>${mark(`${label}:svg`)}</script></svg>`,
    `<svg/onload="${mark(`${label}:svg-onload`)}">`,
    `<iframe src="${url("iframe")}"></iframe>`,
    `<iframe srcdoc="<script>parent.${mark(`${label}:srcdoc`)}</script>"></iframe>`,
    `<object data="${url("object")}"></object><embed src="${url("embed")}">`,
    `<a href="javascript:${mark(`${label}:js-link`)}">a javascript: link</a>`,
    `[a Markdown javascript: link](javascript:${encodeURIComponent(mark(`${label}:md-link`))})`,
    `![a Markdown remote image](${url("md-img")})`,
    `<a href="${url("link-click")}" target="_blank">a remote link</a>`,
    `<style>body{display:none !important} * {background:url(${url("style-url")}) !important}</style>`,
    `<style>@import url(${url("style-import")});</style>`,
    `<link rel=stylesheet href="${url("link")}">`,
    `<link rel=prefetch href="${url("prefetch")}"><link rel=preload as=image href="${url("preload")}">`,
    `<div style="background-image:url(${url("css-url")});position:fixed;inset:0;z-index:99999;background-color:red">styled overlay</div>`,
    `<meta http-equiv="refresh" content="0;url=${url("meta")}">`,
    `<base href="${url("base")}/">`,
    `<form action="${url("form")}"><button formaction="${url("formaction")}">submit</button></form>`,
    `<video poster="${url("poster")}" src="${url("video")}"></video><audio src="${url("audio")}" autoplay></audio>`,
    `<details open ontoggle="${mark(`${label}:ontoggle`)}"><summary>details</summary></details>`,
    `<body onload="${mark(`${label}:body-onload`)}">`,
    `<math><mtext><table><mglyph><style><img src=x onerror="${mark(`${label}:mxss`)}">`,
    `<noscript><p title="</noscript><img src=x onerror=${mark(`${label}:noscript`)}>">`,
  ];
}

/** One field's hostile text: a readable marker, then every payload. */
export function hostileText(label, canary) {
  return `HOSTILE ${label} begins.\n\n${payloads(label, canary).join("\n\n")}\n\nHOSTILE ${label} ends.`;
}

/** A SillyTavern V2 card whose every text field, tag and book entry is hostile. */
export function hostileCard(canary) {
  const text = (label) => hostileText(label, canary);
  const short = (label) =>
    `Hostile ${label} <img src=x onerror="${mark(`${label}:onerror`)}"><script>${mark(`${label}:script`)}</script>` +
    `<style>body{display:none}</style><link rel=stylesheet href="${canary}/${label}/link">`;
  const data = {
    name: short("name"),
    description: text("description"),
    personality: text("personality"),
    scenario: text("scenario"),
    first_mes: text("first_mes"),
    mes_example: `<START>\n{{user}}: ${payloads("mes_example-user", canary).join(" ")}\n{{char}}: ${text("mes_example")}`,
    creator_notes: text("creator_notes"),
    system_prompt: text("system_prompt"),
    post_history_instructions: text("post_history_instructions"),
    alternate_greetings: [text("alternate_greeting_1"), text("alternate_greeting_2")],
    tags: payloads("tag", canary).slice(0, 8),
    creator: short("creator"),
    character_version: short("version"),
    extensions: {
      depth_prompt: { prompt: text("depth_prompt"), depth: 2, role: "system" },
    },
    character_book: {
      name: short("book"),
      description: text("book_description"),
      entries: [
        {
          keys: ["hostile", ...payloads("entry_key", canary).slice(0, 6)],
          secondary_keys: payloads("entry_secondary_key", canary).slice(0, 3),
          content: text("entry_content"),
          comment: short("entry_comment"),
          enabled: true,
          insertion_order: 100,
          case_sensitive: false,
          constant: false,
          selective: false,
          position: "before_char",
          id: 0,
          extensions: {},
        },
        {
          keys: payloads("constant_key", canary).slice(0, 2),
          content: text("constant_content"),
          comment: short("constant_comment"),
          enabled: true,
          insertion_order: 90,
          constant: true,
          position: "after_char",
          id: 1,
          extensions: {},
        },
      ],
      extensions: {},
    },
  };
  return {
    name: data.name,
    description: data.description,
    personality: data.personality,
    scenario: data.scenario,
    first_mes: data.first_mes,
    mes_example: data.mes_example,
    creatorcomment: data.creator_notes,
    tags: data.tags,
    spec: "chara_card_v2",
    spec_version: "2.0",
    data,
  };
}

/** The reply fake-provider.mjs streams for a message asking for one (see there). */
export function hostileReply(canary) {
  return hostileText("reply", canary);
}

/** Reasoning the hostile reply carries before its text. */
export function hostileReasoning(canary) {
  return payloads("reasoning", canary).slice(0, 6).join(" ");
}
