// The chatbot's page: a conversation with one agent over A2A 0.3 streaming (`message/stream`) through the
// chatbot's own proxy, the agent's health, the seed's quick prompts, and a debug pane with the tool chain of
// every exchange. Everything an agent or tool sends is put on the page as text nodes (dom.ts).
import { newTraceparent, traceIdOf } from '../a2a-route.ts';
import { summariseChain, type ChainStep, type ChainSummary } from './chain-view.ts';
import { append, h, json } from './dom.ts';
import { QUICK_PROMPTS } from './prompts.ts';
import { applyStreamEvent, createSseParser, viewOf, type StreamState, type StreamView } from './stream.ts';

const HEALTH_INTERVAL_MS = 15_000;
const DEFAULT_AGENT = 'trustusbank-bank-agents/support-bot';

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

const target = document.querySelector<HTMLMetaElement>('meta[name="trustusbank-agent"]')?.content || DEFAULT_AGENT;
const [namespace, agent] = target.split('/') as [string, string];
const base = `api/a2a/${namespace}/${agent}/`;
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

const conversation = byId<HTMLOListElement>('conversation');
const form = byId<HTMLFormElement>('composer');
const prompt = byId<HTMLTextAreaElement>('prompt');
const send = byId<HTMLButtonElement>('send');
const health = byId<HTMLSpanElement>('health');
const debugToggle = byId<HTMLButtonElement>('debug-toggle');
const debugPane = byId<HTMLElement>('debug');
const exchanges = byId<HTMLDivElement>('exchanges');
const quick = byId<HTMLDivElement>('quick');
const newChat = byId<HTMLButtonElement>('new-chat');
byId<HTMLElement>('agent-name').textContent = `${agent} (${namespace})`;

let contextId: string | undefined;
let busy = false;
let exchangeCount = 0;

// --- health ---------------------------------------------------------------------------------------------

async function checkHealth(): Promise<void> {
  let connected = false;
  try {
    const response = await fetch(`${base}.well-known/agent-card.json`, { cache: 'no-store' });
    const card = response.ok ? ((await response.json()) as { name?: unknown }) : undefined;
    connected = typeof card?.name === 'string';
  } catch {
    connected = false;
  }
  health.textContent = connected ? `${agent}: connected` : `${agent}: unreachable`;
  health.className = `pill ${connected ? 'pill-ok' : 'pill-bad'}`;
}

// --- the conversation ---------------------------------------------------------------------------------

function addMessage(role: 'user' | 'agent', author: string, text: string): { item: HTMLLIElement; body: HTMLParagraphElement; meta: HTMLSpanElement } {
  const meta = h('span', { class: 'author' }, author);
  const body = h('p', { class: 'text' }, text);
  const item = h('li', { class: `message ${role}` }, meta, body);
  conversation.append(item);
  item.scrollIntoView({ block: 'end' });
  return { item, body, meta };
}

async function ask(text: string): Promise<void> {
  if (busy || text.trim() === '') return;
  busy = true;
  send.disabled = true;
  prompt.value = '';
  addMessage('user', 'You', text);
  const reply = addMessage('agent', agent, '…');
  reply.item.setAttribute('aria-busy', 'true');
  const traceparent = newTraceparent(random);
  const exchange = startExchange(text, traceIdOf(traceparent));
  const messageId = crypto.getRandomValues(new Uint32Array(4)).join('-');
  const body = {
    jsonrpc: '2.0',
    id: messageId,
    method: 'message/stream',
    params: { message: { kind: 'message', messageId, role: 'user', parts: [{ kind: 'text', text }], ...(contextId ? { contextId } : {}) } },
  };
  let state: StreamState = {};
  const show = (): void => {
    const view = viewOf(state);
    if (view?.contextId) contextId = view.contextId;
    renderReply(reply, view, state.error);
    exchange.update(view);
  };
  try {
    const response = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'a2a-version': '0.3', traceparent },
      body: JSON.stringify(body),
    });
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream')) {
      // A refusal (the waypoint's 403, the proxy's 4xx, an unreachable agent) or a plain JSON-RPC answer.
      const answer = (await response.json().catch(() => ({}))) as { error?: unknown; message?: unknown; result?: unknown };
      state = answer.result ? applyStreamEvent(state, answer) : { ...state, error: refusalText(response.status, answer) };
    } else {
      const parser = createSseParser();
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          try {
            state = applyStreamEvent(state, JSON.parse(event.data));
          } catch {
            state = { ...state, error: 'the agent sent an event that is not JSON' };
          }
          show();
        }
      }
    }
  } catch (error) {
    state = { ...state, error: `the chatbot could not reach ${agent}: ${(error as Error).message}` };
  }
  show();
  reply.item.removeAttribute('aria-busy');
  busy = false;
  send.disabled = false;
  prompt.focus();
}

function refusalText(status: number, answer: { error?: unknown; message?: unknown }): string {
  const error = typeof answer.error === 'object' && answer.error !== null ? (answer.error as { message?: unknown }).message : answer.error;
  return `HTTP ${status}: ${[error, answer.message].filter((part) => typeof part === 'string' && part !== '').join(' — ') || 'no answer'}`;
}

function renderReply(reply: { item: HTMLLIElement; body: HTMLParagraphElement; meta: HTMLSpanElement }, view: StreamView | undefined, error: string | undefined): void {
  if (error) {
    reply.item.classList.add('failed');
    reply.body.textContent = error;
    return;
  }
  if (!view) return;
  if (view.author) reply.meta.textContent = view.model ? `${view.author} · ${view.model}` : view.author;
  if (view.text) {
    reply.body.textContent = view.text;
  } else {
    const last = summariseChain(view.chain).steps.at(-1);
    reply.body.textContent = last ? `${last.author} is ${last.pending ? 'calling' : 'done with'} ${last.name}…` : `${agent} is working…`;
  }
  if (view.state === 'failed' || view.state === 'canceled' || view.state === 'rejected') reply.item.classList.add('failed');
}

// --- the debug pane -------------------------------------------------------------------------------------

function startExchange(text: string, traceId: string): { update(view: StreamView | undefined): void } {
  exchangeCount++;
  const pills = h('p', { class: 'pills' });
  const steps = h('ol', { class: 'steps' });
  const section = h(
    'section',
    { class: 'exchange', 'aria-label': `Exchange ${exchangeCount}` },
    h('h3', {}, `Exchange ${exchangeCount}`),
    h('p', { class: 'prompt' }, text),
    h('p', { class: 'trace' }, 'trace id ', h('code', { class: 'trace-id' }, traceId)),
    pills,
    steps,
  );
  exchanges.prepend(section);
  const rendered: HTMLLIElement[] = [];
  return {
    update(view) {
      const summary = summariseChain(view?.chain ?? []);
      renderPills(pills, summary);
      summary.steps.forEach((step, index) => {
        const fresh = renderStep(step);
        if (rendered[index]) {
          // Keep a <details> the reader has opened open while its result arrives.
          const open = [...rendered[index]!.querySelectorAll('details')].map((d) => d.open);
          fresh.querySelectorAll('details').forEach((d, i) => (d.open = open[i] ?? false));
          rendered[index]!.replaceWith(fresh);
        } else steps.append(fresh);
        rendered[index] = fresh;
      });
    },
  };
}

function renderPills(pills: HTMLElement, summary: ChainSummary): void {
  pills.replaceChildren();
  append(pills, h('span', { class: 'pill pill-info' }, `${summary.calls} ${summary.calls === 1 ? 'call' : 'calls'}`));
  if (summary.getProfile) append(pills, ' ', h('span', { class: 'pill pill-warn' }, '⚠ get_profile invoked'));
  if (summary.flagged > 0) append(pills, ' ', h('span', { class: 'pill pill-warn' }, `⚠ ${summary.flagged} flagged`));
}

function renderStep(step: ChainStep): HTMLLIElement {
  const title = h(
    'p',
    { class: 'step-title' },
    h('span', { class: 'step-author' }, step.author || 'agent'),
    ' → ',
    h('code', { class: 'step-name' }, step.name),
    step.handoff && h('span', { class: 'badge' }, 'hand-off'),
    step.pending && h('span', { class: 'badge' }, 'running'),
    step.isError && h('span', { class: 'badge badge-bad' }, 'error'),
  );
  return h(
    'li',
    { class: `step${step.flags.length > 0 ? ' flagged' : ''}` },
    title,
    step.flags.length > 0 && h('ul', { class: 'flags' }, ...step.flags.map((flag) => h('li', {}, `⚠ ${flag}`))),
    h('details', {}, h('summary', {}, 'arguments'), h('pre', { class: 'args' }, json(step.args))),
    !step.pending && h('details', {}, h('summary', {}, 'result'), h('pre', { class: 'result' }, json(step.result))),
  );
}

// --- wiring ---------------------------------------------------------------------------------------------

for (const quickPrompt of QUICK_PROMPTS) {
  const button = h('button', { type: 'button', class: 'quick-prompt', title: quickPrompt.text }, quickPrompt.label);
  button.addEventListener('click', () => void ask(quickPrompt.text));
  quick.append(button);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void ask(prompt.value);
});
prompt.addEventListener('keydown', (event) => {
  // Enter sends, Shift+Enter is a new line, as in every chat box.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
debugToggle.addEventListener('click', () => {
  const show = debugPane.hidden;
  debugPane.hidden = !show;
  debugToggle.setAttribute('aria-pressed', String(show));
  debugToggle.textContent = show ? 'Hide debug' : 'Show debug';
});
newChat.addEventListener('click', () => {
  contextId = undefined;
  conversation.replaceChildren();
  prompt.focus();
});

void checkHealth();
setInterval(() => void checkHealth(), HEALTH_INTERVAL_MS);
