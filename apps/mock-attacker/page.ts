// The attacker's console: a dark page with the number of exfiltration events and the last ten of them.
// It polls /loot every 3 s and writes data with textContent only, so stolen content is never run as HTML.
// It stays calm until loot arrives and turns red from the first event on (the seed's "goes red in Act 2").
export const LOOT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mock-attacker — exfiltration receiver</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { background: #0b0d10; color: #d7dde5; font: 15px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; margin: 0; padding: 2rem; }
  h1 { color: #8a94a3; font-size: 1rem; letter-spacing: .08em; text-transform: uppercase; margin: 0 0 1rem; }
  .counter { font-size: 6rem; font-weight: 700; color: #5f6b7a; line-height: 1; }
  body.has-loot { background: #1a0b0d; }
  body.has-loot h1, body.has-loot .counter { color: #ff5c5c; }
  .label { color: #8a94a3; margin-bottom: 2rem; }
  .event { border: 1px solid #2a2f37; border-left: 3px solid #ff5c5c; border-radius: 4px; padding: .75rem 1rem; margin: 0 0 1rem; background: #12161b; }
  .meta { color: #8a94a3; font-size: .85rem; }
  pre { white-space: pre-wrap; word-break: break-word; margin: .5rem 0 0; color: #f0c674; }
  .empty { color: #5f6b7a; }
</style>
</head>
<body>
<h1>mock-attacker · external-attacker</h1>
<div class="counter" id="count">0</div>
<div class="label">Total exfiltration events received</div>
<div id="events"><p class="empty">No events yet.</p></div>
<script>
async function refresh() {
  try {
    const loot = await (await fetch('loot', { cache: 'no-store' })).json();
    document.getElementById('count').textContent = String(loot.count);
    document.body.classList.toggle('has-loot', loot.count > 0);
    const list = document.getElementById('events');
    list.replaceChildren();
    const last = loot.events.slice(-10).reverse();
    if (last.length === 0) {
      const p = document.createElement('p'); p.className = 'empty'; p.textContent = 'No events yet.'; list.append(p);
    }
    for (const event of last) {
      const box = document.createElement('div'); box.className = 'event';
      const meta = document.createElement('div'); meta.className = 'meta';
      meta.textContent = 'EXFIL RECEIVED at ' + event.received_at + ' from ' + event.source_ip + ' (' + event.size_bytes + ' bytes)';
      const body = document.createElement('pre'); body.textContent = JSON.stringify(event.body, null, 2);
      box.append(meta, body); list.append(box);
    }
  } catch (error) { /* the next tick tries again */ }
}
refresh();
setInterval(refresh, 3000);
</script>
</body>
</html>
`;
