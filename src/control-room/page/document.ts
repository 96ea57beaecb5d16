// The control room's HTML shell and stylesheet. No inline script or style: the Content-Security-Policy allows
// only the page's own files. Everything live is filled in by app.js as text nodes.

export function controlRoomHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TrustUsBank — control room</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="stylesheet" href="app.css">
<script type="module" src="app.js"></script>
</head>
<body>
<header class="top">
  <h1>TrustUsBank <span class="subtitle">control room</span></h1>
  <span id="connection" class="pill pill-unknown" role="status" aria-live="polite">connecting…</span>
</header>
<p id="token-missing" class="notice" role="alert" hidden>This page needs the control room's token. Open the URL that
<code>trustusbank up</code> printed (it ends in <code>#token=…</code>), or run <code>trustusbank open</code>.</p>
<main class="grid">
  <section class="card story" aria-labelledby="story-title">
    <h2 id="story-title">The story</h2>
    <div class="buttons">
      <button id="reset" type="button" data-action="reset">Reset</button>
      <button id="rugpull" type="button" data-action="rugpull">Rug-pull</button>
      <button id="demo" type="button" data-action="demo">Run the whole demo</button>
    </div>
    <h3 id="layers-title">Defence layers</h3>
    <ul id="layers" class="layers" aria-labelledby="layers-title"></ul>
    <p id="busy" class="busy" role="status" aria-live="polite"></p>
  </section>
  <section class="card attacker" aria-labelledby="attacker-title">
    <h2 id="attacker-title">Attacker</h2>
    <p class="counter"><span id="loot" class="loot">–</span> <span class="unit">profiles received</span></p>
    <p id="loot-error" class="muted"></p>
  </section>
  <section class="card" aria-labelledby="denies-title">
    <h2 id="denies-title">Denies per layer</h2>
    <table id="denies">
      <caption class="visually-hidden">Refusals counted by each layer since the stack started</caption>
      <thead><tr><th scope="col">Layer</th><th scope="col">Denies</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="card" aria-labelledby="supply-title">
    <h2 id="supply-title">Supply chain</h2>
    <dl id="converter" class="facts"></dl>
    <h3>Registry drift</h3>
    <ul id="registry" class="plain"></ul>
  </section>
  <section class="card" aria-labelledby="alerts-title">
    <h2 id="alerts-title">Firing alerts</h2>
    <ul id="alerts" class="plain"></ul>
    <h3>Latest SOC mail</h3>
    <div id="mail"></div>
    <h3>Incident</h3>
    <div id="incident"></div>
  </section>
  <section class="card" aria-labelledby="log-title">
    <h2 id="log-title">Progress</h2>
    <div id="log-region" role="log" aria-live="polite" aria-label="Progress"><ol id="log" class="log" tabindex="0"></ol></div>
  </section>
  <nav class="card" aria-labelledby="links-title">
    <h2 id="links-title">Other UIs</h2>
    <ul id="links" class="plain"></ul>
  </nav>
</main>
</body>
</html>
`;
}

// Colours checked for WCAG AA contrast (4.5:1 or better) against their backgrounds.
export const CONTROL_ROOM_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5563; --line: #c9d1db; --bg: #f5f7fa; --card: #ffffff;
  --brand: #0b4f8a; --ok-bg: #dff3e4; --ok-ink: #125c2b; --bad-bg: #fde2e1; --bad-ink: #8a1c14; --warn-bg: #fff1c7; --warn-ink: #6b4700; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem 1.25rem; padding: .75rem 1.25rem; background: var(--brand); color: #fff; }
.top h1 { font-size: 1.2rem; margin: 0; flex: 1; }
.top .subtitle { font-weight: 400; }
.notice { margin: 1rem; padding: .75rem 1rem; background: var(--warn-bg); color: var(--warn-ink); border: 1px solid #d9a400; border-radius: 6px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; padding: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; min-width: 0; }
.card h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
.card h3 { font-size: .95rem; margin: .75rem 0 .35rem; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid var(--brand); background: var(--brand); color: #fff; padding: .4rem .8rem; }
button.toggle { background: var(--card); color: var(--brand); min-width: 4.5rem; }
button.toggle[aria-pressed="true"] { background: var(--ok-ink); border-color: var(--ok-ink); color: #fff; }
button:disabled { opacity: .6; cursor: progress; }
button:focus-visible, a:focus-visible, .log:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.layers { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: .4rem; }
.layers li { display: flex; align-items: center; justify-content: space-between; gap: .5rem; }
.busy { min-height: 1.5em; margin: .5rem 0 0; color: var(--muted); }
.counter { margin: 0; }
.loot { font-size: 2.5rem; font-weight: 700; color: var(--ok-ink); }
.loot.hot { color: var(--bad-ink); }
.attacker.hot { background: var(--bad-bg); border-color: #e7a29d; }
.muted { color: var(--muted); margin: .25rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid var(--line); }
td.sub { padding-left: 1.4rem; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.denied td { color: var(--bad-ink); font-weight: 600; }
.facts { display: grid; grid-template-columns: auto 1fr; gap: .15rem .75rem; margin: 0; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.plain { list-style: none; margin: 0; padding: 0; }
.plain li { margin: .2rem 0; overflow-wrap: anywhere; }
.pill { display: inline-block; padding: .1rem .6rem; border-radius: 999px; font-size: .85rem; font-weight: 600; }
.pill-ok { background: var(--ok-bg); color: var(--ok-ink); }
.pill-bad { background: var(--bad-bg); color: var(--bad-ink); }
.pill-unknown { background: #eef1f5; color: var(--muted); }
.drift { color: var(--bad-ink); font-weight: 600; }
.log { margin: 0; padding-left: 1.3rem; max-height: 18rem; overflow: auto; font-size: .9rem; white-space: pre-wrap; }
.log li.failed { color: var(--bad-ink); }
a { color: var(--brand); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
