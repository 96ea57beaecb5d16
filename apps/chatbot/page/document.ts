// The page's HTML shell and stylesheet, served by the chatbot beside its script bundle (app.js). No inline
// script or style: the Content-Security-Policy allows only files from the page's own origin.
import { escapeHtml } from '../../../src/core/html.ts';

export function indexHtml(agent: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TrustUsBank — customer support</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="trustusbank-agent" content="${escapeHtml(agent)}">
<link rel="stylesheet" href="app.css">
<script type="module" src="app.js"></script>
</head>
<body>
<header class="top">
  <h1>TrustUsBank <span class="subtitle">customer support</span></h1>
  <p class="agent">Talking to <strong id="agent-name"></strong></p>
  <span id="health" class="pill pill-unknown" role="status" aria-live="polite">checking…</span>
  <button id="debug-toggle" type="button" aria-pressed="false" aria-controls="debug">Show debug</button>
</header>
<div class="layout">
  <main class="chat">
    <h2 class="visually-hidden">Conversation</h2>
    <div role="log" aria-live="polite" aria-label="Conversation"><ol id="conversation" class="conversation"></ol></div>
    <section aria-labelledby="quick-title">
      <h2 id="quick-title" class="quick-title">Quick prompts</h2>
      <div id="quick" class="quick"></div>
    </section>
    <form id="composer" class="composer">
      <label for="prompt">Your message</label>
      <textarea id="prompt" name="prompt" rows="3" maxlength="4000" placeholder="Ask about your account (Enter sends, Shift+Enter for a new line)"></textarea>
      <div class="actions">
        <button id="send" type="submit">Send</button>
        <button id="new-chat" type="button" class="secondary">New conversation</button>
      </div>
    </form>
  </main>
  <aside id="debug" class="debug" aria-labelledby="debug-title" hidden>
    <h2 id="debug-title">Debug: tool chain</h2>
    <div id="exchanges"></div>
  </aside>
</div>
</body>
</html>
`;
}

// Colours checked for WCAG AA contrast (4.5:1 or better) against their backgrounds.
export const APP_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5563; --line: #c9d1db; --bg: #f5f7fa; --card: #ffffff;
  --brand: #0b4f8a; --ok-bg: #dff3e4; --ok-ink: #125c2b; --bad-bg: #fde2e1; --bad-ink: #8a1c14; --warn-bg: #fff1c7; --warn-ink: #6b4700;
  --info-bg: #e3edf9; --info-ink: #0b4f8a; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem 1.25rem; padding: .75rem 1.25rem; background: var(--brand); color: #fff; }
.top h1 { font-size: 1.2rem; margin: 0; }
.top .subtitle { font-weight: 400; opacity: .9; }
.top .agent { margin: 0; flex: 1; }
.layout { display: flex; gap: 1rem; padding: 1rem; align-items: flex-start; }
.chat { flex: 1 1 32rem; min-width: 0; }
.debug { flex: 1 1 28rem; min-width: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; max-height: calc(100vh - 7rem); overflow: auto; }
.debug h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
.conversation { list-style: none; margin: 0 0 1rem; padding: 0; display: flex; flex-direction: column; gap: .6rem; }
.message { max-width: 85%; padding: .6rem .85rem; border-radius: 10px; background: var(--card); border: 1px solid var(--line); }
.message.user { align-self: flex-end; background: var(--info-bg); border-color: #b5cbe6; }
.message.failed { background: var(--bad-bg); border-color: #e7a29d; color: var(--bad-ink); }
.message .author { display: block; font-size: .8rem; color: var(--muted); font-weight: 600; }
.message.failed .author { color: var(--bad-ink); }
.message .text { margin: .15rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.quick-title { font-size: .9rem; margin: 0 0 .35rem; color: var(--muted); }
.quick { display: flex; flex-wrap: wrap; gap: .4rem; margin-bottom: .75rem; }
button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid var(--brand); background: var(--brand); color: #fff; padding: .4rem .8rem; }
button.secondary, .quick-prompt { background: var(--card); color: var(--brand); }
.top button { background: #fff; color: var(--brand); border-color: #fff; }
button:disabled { opacity: .6; cursor: progress; }
button:focus-visible, textarea:focus-visible, summary:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.composer label { display: block; font-weight: 600; margin-bottom: .25rem; }
.composer textarea { width: 100%; font: inherit; padding: .5rem; border: 1px solid #8a96a5; border-radius: 6px; background: #fff; color: var(--ink); }
.composer .actions { display: flex; gap: .5rem; margin-top: .5rem; }
.pill { display: inline-block; padding: .1rem .6rem; border-radius: 999px; font-size: .85rem; font-weight: 600; border: 1px solid transparent; }
.pill-ok { background: var(--ok-bg); color: var(--ok-ink); }
.pill-bad { background: var(--bad-bg); color: var(--bad-ink); }
.pill-unknown { background: #eef1f5; color: var(--muted); }
.pill-info { background: var(--info-bg); color: var(--info-ink); }
.pill-warn { background: var(--warn-bg); color: var(--warn-ink); border-color: #d9a400; }
.exchange { border-top: 1px solid var(--line); padding: .5rem 0; }
.exchange h3 { font-size: .95rem; margin: 0; }
.exchange .prompt { margin: .2rem 0; color: var(--muted); white-space: pre-wrap; overflow-wrap: anywhere; }
.exchange .trace { margin: .2rem 0; font-size: .85rem; color: var(--muted); }
.pills { margin: .35rem 0; display: flex; flex-wrap: wrap; gap: .35rem; }
.steps { margin: 0; padding-left: 1.3rem; }
.step { margin: .35rem 0; }
.step.flagged { background: var(--warn-bg); color: var(--warn-ink); border-radius: 6px; padding: .2rem .4rem; }
.step-title { margin: 0; }
.step-author { font-weight: 600; }
.badge { margin-left: .4rem; font-size: .75rem; padding: 0 .4rem; border-radius: 4px; background: #eef1f5; color: var(--muted); border: 1px solid var(--line); }
.badge-bad { background: var(--bad-bg); color: var(--bad-ink); }
.flags { margin: .15rem 0; padding-left: 1.1rem; font-size: .85rem; }
details { margin: .15rem 0; }
summary { cursor: pointer; color: var(--brand); }
pre { margin: .25rem 0; padding: .5rem; background: #f0f3f7; color: var(--ink); border-radius: 4px; font-size: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 20rem; overflow: auto; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 900px) { .layout { flex-direction: column; } .debug { width: 100%; max-height: none; } }
`;
