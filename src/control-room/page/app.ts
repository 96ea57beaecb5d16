// The control room's page: buttons that POST the story's actions (with the token in a header), and the live view
// fed by the server's event stream, read with fetch (EventSource cannot send the token's header, and a token in
// the query string would land in histories and logs). Every value from the stack is put on the page as a text
// node (dom.ts), and the Content-Security-Policy requires Trusted Types, so no string can become markup.
import { h } from '../../../apps/chatbot/page/dom.ts';
import type { Snapshot } from '../snapshot.ts';
import { createSseParser } from '../../../apps/chatbot/page/stream.ts';
import { takeToken } from './token.ts';

const TOKEN_HEADER = 'x-trustusbank-token';
const RETRY_MS = 2_000;

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const token = takeToken();
let busy: string | undefined;
let pending = false;
const layerButtons = new Map<string, HTMLButtonElement>();

function setConnection(text: string, tone: 'ok' | 'bad' | 'unknown'): void {
  const pill = byId('connection');
  pill.textContent = text;
  pill.className = `pill pill-${tone}`;
}

function actionButtons(): HTMLButtonElement[] {
  return [...document.querySelectorAll<HTMLButtonElement>('button[data-action], button[data-layer]')];
}

function updateBusy(): void {
  const blocked = !token || pending || busy !== undefined;
  // aria-disabled rather than disabled: a disabled button drops the keyboard focus, which would strand a
  // keyboard user on the page's body after every click.
  for (const button of actionButtons()) button.setAttribute('aria-disabled', String(blocked));
  byId('busy').textContent = busy ? `Running: ${busy}…` : '';
}

function logLine(text: string, failed = false): void {
  const log = byId('log');
  log.append(h('li', failed ? { class: 'failed' } : {}, text));
  while (log.childElementCount > 200) log.firstElementChild?.remove();
  log.scrollTop = log.scrollHeight;
}

async function post(path: string): Promise<void> {
  if (!token || pending || busy !== undefined) return;
  pending = true;
  updateBusy();
  try {
    const response = await fetch(path, { method: 'POST', headers: { [TOKEN_HEADER]: token }, credentials: 'omit', cache: 'no-store' });
    // A failed action is told on the event stream already (its `action` event); refusals are told only here.
    if (!response.ok && response.status !== 500) {
      const body = (await response.json().catch(() => ({}))) as { error?: string };
      logLine(body.error ?? `HTTP ${response.status}`, true);
    }
  } catch (error) {
    logLine(`could not reach the control room: ${error instanceof Error ? error.message : String(error)}`, true);
  } finally {
    pending = false;
    updateBusy();
  }
}

function renderLayers(layers: Snapshot['layers']): void {
  const list = byId('layers');
  for (const layer of layers) {
    let button = layerButtons.get(layer.name);
    if (!button) {
      const labelId = `layer-${layer.name}-label`;
      const buttonId = `layer-${layer.name}`;
      button = h('button', { id: buttonId, type: 'button', class: 'toggle', 'data-layer': layer.name, 'aria-labelledby': `${labelId} ${buttonId}` });
      const target = button;
      button.addEventListener('click', () => void post(`/api/layers/${encodeURIComponent(layer.name)}/${target.getAttribute('aria-pressed') === 'true' ? 'off' : 'on'}`));
      list.append(h('li', {}, h('span', { id: labelId }, layer.label), button));
      layerButtons.set(layer.name, button);
    }
    button.setAttribute('aria-pressed', String(layer.state === 'on'));
    button.textContent = layer.state;
  }
  updateBusy();
}

const DENY_ROWS: [keyof Snapshot['denies'], string][] = [
  ['mesh', 'Mesh (ztunnel, AuthorizationPolicy)'],
  ['meshOnConverter', "of which on the converter's identity"],
  ['egressOnConverter', 'ztunnel: converter to the node itself'],
  ['gateway', 'Agent gateway (403)'],
  ['gatewayAuthorization', 'of which argument policy'],
  ['gatewayDlp', 'of which DLP'],
  ['accessPolicy', 'AccessPolicy (agent waypoints)'],
  ['admission', 'Admission (pods refused)'],
];

function renderDenies(denies: Snapshot['denies']): void {
  const body = byId('denies').querySelector('tbody')!;
  body.replaceChildren(...DENY_ROWS.map(([key, label]) => h('tr', { class: denies[key] > 0 ? 'denied' : undefined, 'data-layer': key }, h('td', { class: label.startsWith('of which') ? 'sub' : undefined }, label), h('td', { class: 'number' }, denies[key]))));
}

function renderLoot(snapshot: Snapshot): void {
  const loot = byId('loot');
  loot.textContent = snapshot.loot === null ? '?' : String(snapshot.loot);
  const hot = (snapshot.loot ?? 0) > 0;
  loot.classList.toggle('hot', hot);
  byId('attacker-title').parentElement!.classList.toggle('hot', hot);
  byId('loot-error').textContent = snapshot.lootError ? `Could not read the attacker's counter: ${snapshot.lootError}` : '';
}

function renderSupplyChain(snapshot: Snapshot): void {
  const c = snapshot.converter;
  const facts: [string, string][] = c
    ? [
        ['Converter', c.image],
        ['Digest', c.digest],
        ['Build', c.variant ?? 'as onboarded'],
        ['Signed by', c.signers.join(', ') || 'nobody'],
      ]
    : [['Converter', 'not found']];
  byId('converter').replaceChildren(...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', { 'data-fact': term }, value)]));
  byId('registry').replaceChildren(
    ...snapshot.registry.map((e) => h('li', { 'data-entry': e.name }, h('span', { class: e.status === 'drift' ? 'drift' : undefined }, `${e.name}: ${e.status}`), e.reasons.length > 0 ? ` — ${e.reasons.join('; ')}` : '')),
  );
}

function renderEvidence(snapshot: Snapshot): void {
  const alerts = snapshot.alerts;
  byId('alerts').replaceChildren(...(alerts.length > 0 ? alerts.map((a) => h('li', {}, h('strong', {}, a.name), ` (${a.state} since ${a.activeAt})`, a.summary ? ` — ${a.summary}` : '')) : [h('li', { class: 'muted' }, 'none')]));
  const latest = snapshot.mail.latest;
  byId('mail').replaceChildren(
    latest
      ? h('dl', { class: 'facts' }, h('dt', {}, 'Subject'), h('dd', {}, latest.subject), h('dt', {}, 'From'), h('dd', {}, latest.from), h('dt', {}, 'To'), h('dd', {}, latest.to.join(', ')), h('dt', {}, 'Received'), h('dd', {}, latest.created), h('dt', {}, 'In the inbox'), h('dd', {}, snapshot.mail.count))
      : h('p', { class: 'muted' }, 'No mail yet.'),
  );
  const incident = snapshot.incident;
  byId('incident').replaceChildren(
    incident
      ? h('dl', { class: 'facts' }, h('dt', {}, 'Id'), h('dd', { 'data-fact': 'incident' }, incident.id), h('dt', {}, 'What'), h('dd', {}, incident.title), h('dt', {}, 'Status'), h('dd', {}, `${incident.status}${incident.major ? ', major' : ''}`), h('dt', {}, 'Detected'), h('dd', {}, incident.detectedAt), h('dt', {}, 'Initial report by'), h('dd', {}, incident.initialNotification))
      : h('p', { class: 'muted' }, 'No incident: no critical alert has fired.'),
  );
}

function renderLinks(links: Snapshot['links']): void {
  byId('links').replaceChildren(
    ...links
      .filter((l) => l.name !== 'control-room')
      .map((l) =>
        l.url
          ? h('li', {}, h('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer' }, l.label), ' ', h('code', {}, l.url))
          : h('li', {}, `${l.label}: not yet`, l.plannedPort ? ` (port ${l.plannedPort})` : ''),
      ),
  );
}

function render(snapshot: Snapshot & { busy?: string }): void {
  busy = snapshot.busy;
  renderLayers(snapshot.layers);
  renderLoot(snapshot);
  renderDenies(snapshot.denies);
  renderSupplyChain(snapshot);
  renderEvidence(snapshot);
  renderLinks(snapshot.links);
  updateBusy();
}

function onEvent(event: string, data: string): void {
  const value = JSON.parse(data) as unknown;
  if (event === 'snapshot') render(value as Snapshot & { busy?: string });
  else if (event === 'progress') logLine((value as { line: string }).line);
  else if (event === 'action') {
    const action = value as { action: string; ok: boolean; message: string; done: boolean };
    for (const line of action.message.split('\n')) logLine(line, !action.ok);
    busy = action.done ? undefined : action.action;
    updateBusy();
  }
}

async function stream(): Promise<void> {
  for (;;) {
    try {
      const response = await fetch('/api/events', { headers: { [TOKEN_HEADER]: token! }, credentials: 'omit', cache: 'no-store' });
      if (response.status === 403) {
        const body = (await response.json().catch(() => ({}))) as { error?: string };
        setConnection('refused', 'bad');
        byId('token-missing').hidden = false;
        logLine(body.error ?? 'refused', true);
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      setConnection('live', 'ok');
      const parser = createSseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) onEvent(event.event, event.data);
      }
    } catch {
      // Fall through to the retry: the stack may be restarting.
    }
    setConnection('disconnected', 'bad');
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function start(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    button.addEventListener('click', () => void post(`/api/actions/${button.dataset.action!}`));
  }
  updateBusy();
  if (!token) {
    byId('token-missing').hidden = false;
    setConnection('no token', 'bad');
    return;
  }
  void stream();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
