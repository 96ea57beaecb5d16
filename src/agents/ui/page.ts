// The agents UI's HTML: data in, string out. Everything shown here was written by a model or a tool server
// (messages, arguments, results, even ids), so every value goes through `escapeHtml` and the pages carry no
// script at all; the server adds a Content-Security-Policy that forbids scripts as a second line.
import { escapeHtml, htmlDocument } from '../../core/html.ts';
import type { SessionDetail, SessionSummary, ToolCallRecord } from '../sessions.ts';

/** Argument keys that mark a tool call as touching customer PII (the chatbot's debug pane uses the same list). */
export const PII_ARGUMENT_KEYS: readonly string[] = ['customer_profile', 'profile', 'email', 'ni_number', 'dob', 'address', 'phone', 'name'];
/** Tools that return customer PII whatever their arguments. */
export const PII_TOOLS: readonly string[] = ['get_profile'];

/** Where a session lives: the agent's namespace and name, as the UI's sources name them. */
export interface AgentRef {
  namespace: string;
  agent: string;
}

export type ListedSession = SessionSummary & AgentRef;

export interface AgentStatus extends AgentRef {
  /** Sessions read for this agent (may be capped by the reader's limit). */
  sessionCount: number;
  /** Why this agent's sessions could not be read; absent when they could. */
  error?: string;
}

export interface SessionListView {
  sessions: ListedSession[];
  agents: AgentStatus[];
}

export interface SessionPageView extends AgentRef {
  session: SessionDetail;
}

export { escapeHtml };

/** True when the call is one the debug pane flags: a PII tool, or an argument key naming personal data. */
export function isPiiTouching(call: Pick<ToolCallRecord, 'name' | 'args'>): boolean {
  if (PII_TOOLS.includes(call.name)) return true;
  const args = call.args;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return false;
  return Object.keys(args).some((key) => PII_ARGUMENT_KEYS.includes(key));
}

/** The path of a session's page; each part is percent-encoded, so an id with '/' or '?' stays one segment. */
export function sessionPath(ref: AgentRef, id: string): string {
  return `/sessions/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.agent)}/${encodeURIComponent(id)}`;
}

export function renderSessionList(view: SessionListView): string {
  const agents = view.agents.map((status) => {
    const name = `<span class="agent">${escapeHtml(status.agent)}</span> <span class="muted">${escapeHtml(status.namespace)}</span>`;
    if (status.error !== undefined) {
      return `<li class="error">${name}: could not read its sessions: ${escapeHtml(status.error)}</li>`;
    }
    return `<li>${name}: ${plural(status.sessionCount, 'session')}</li>`;
  });
  const rows = view.sessions.map((session) => {
    const href = escapeHtml(sessionPath(session, session.id));
    const first = session.firstUserMessage === '' ? '<span class="muted">(no user message yet)</span>' : escapeHtml(session.firstUserMessage);
    return `<tr>
  <td><span class="agent">${escapeHtml(session.agent)}</span><br><span class="muted">${escapeHtml(session.namespace)}</span></td>
  <td class="caller">${callerHtml(session.caller)}</td>
  <td>${escapeHtml(session.model)}</td>
  <td>${timeHtml(session.updatedAt)}</td>
  <td class="num">${session.messageCount}</td>
  <td class="num">${session.toolCallCount}</td>
  <td class="first"><a href="${href}" title="session ${escapeHtml(session.id)}">${first}</a></td>
</tr>`;
  });
  const table =
    rows.length === 0
      ? '<p class="muted">No sessions yet.</p>'
      : `<table class="sessions">
<thead><tr><th>Agent</th><th>Caller</th><th>Model</th><th>Last activity</th><th>Messages</th><th>Tool calls</th><th>First user message</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
  const body = `<h1>Agent sessions</h1>
<ul class="agents">${agents.length === 0 ? '<li class="muted">No agents are running.</li>' : agents.join('')}</ul>
${table}`;
  return layout('Agent sessions', body);
}

export function renderSessionPage(view: SessionPageView): string {
  const { session } = view;
  const flaggedCount = session.toolCalls.filter(isPiiTouching).length;
  const messages = session.messages.map(
    (message) => `<article class="message ${message.role === 'user' ? 'user' : 'agent'}">
  <header><span class="role">${escapeHtml(message.role)}</span> <span class="author">${escapeHtml(message.author)}</span>
    <span class="muted">${timeHtml(message.createdAt)} · task ${escapeHtml(message.taskId)}</span></header>
  <div class="text">${escapeHtml(message.text)}</div>
</article>`,
  );
  const calls = session.toolCalls.map((call) => {
    const flagged = isPiiTouching(call);
    const classes = ['tool-call', flagged ? 'flagged' : '', call.isError ? 'failed' : ''].filter(Boolean).join(' ');
    const marker = flagged ? '<span class="marker" title="touches customer PII">⚠</span> ' : '';
    const error = call.isError ? ' <span class="badge error">error</span>' : '';
    return `<article class="${classes}">
  <header>${marker}<span class="tool">${escapeHtml(call.name)}</span>${error}
    <span class="muted">${escapeHtml(call.kind)} · ${escapeHtml(call.server)} · ${escapeHtml(formatDuration(call.durationMs))}</span></header>
  <div class="muted small">${timeHtml(call.startedAt)} · task ${escapeHtml(call.taskId)} · call ${escapeHtml(call.callId)}</div>
  <h3>Arguments</h3>
  <pre class="args">${escapeHtml(prettyJson(call.args))}</pre>
  <h3>Result</h3>
  <pre class="result">${escapeHtml(prettyJson(call.result))}</pre>
</article>`;
  });
  const flaggedNote =
    flaggedCount === 0 ? '' : `<p class="flag-note"><span class="marker">⚠</span> ${plural(flaggedCount, 'tool call')} touched customer PII.</p>`;
  const body = `<p><a href="/">← all sessions</a></p>
<h1>Session <code>${escapeHtml(session.id)}</code></h1>
<dl class="meta">
  <dt>Agent</dt><dd>${escapeHtml(view.agent)} <span class="muted">${escapeHtml(view.namespace)}</span></dd>
  <dt>Caller</dt><dd class="caller">${callerHtml(session.caller)}</dd>
  <dt>Model</dt><dd>${escapeHtml(session.model)}</dd>
  <dt>Started</dt><dd>${timeHtml(session.createdAt)}</dd>
  <dt>Last activity</dt><dd>${timeHtml(session.updatedAt)}</dd>
</dl>
<h2>Messages (${session.messages.length})</h2>
${messages.length === 0 ? '<p class="muted">No messages.</p>' : messages.join('\n')}
<h2>Tool calls (${session.toolCalls.length})</h2>
${flaggedNote}
${calls.length === 0 ? '<p class="muted">No tool calls.</p>' : calls.join('\n')}`;
  return layout(`Session ${session.id}`, body);
}

/** A page for a missing session, agent or path. */
export function renderNotFound(message: string): string {
  return layout('Not found', `<p><a href="/">← all sessions</a></p>\n<h1>Not found</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}

/** A page for an agent whose file could not be read. */
export function renderError(message: string): string {
  return layout('Error', `<p><a href="/">← all sessions</a></p>\n<h1>Error</h1>\n<p class="error">${escapeHtml(message)}</p>`);
}

/** `2025-01-02 10:11:12 UTC` from an ISO time; anything else is shown as it is. */
export function formatTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

function timeHtml(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatTime(iso))}</time>`;
}

function callerHtml(caller: string): string {
  return caller === '' ? '<span class="muted">(no identity)</span>' : escapeHtml(caller);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function layout(title: string, body: string): string {
  return htmlDocument(title, 'agents', STYLE, body);
}

const STYLE = `
  body { margin: 0; background: #f6f7f9; color: #1d2330; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  main { max-width: 72rem; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
  h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
  h2 { font-size: 1.1rem; margin: 2rem 0 .75rem; border-bottom: 1px solid #d9dde4; padding-bottom: .25rem; }
  h3 { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: #5b6578; margin: .75rem 0 .25rem; }
  a { color: #1f5fbf; }
  code, pre, .caller { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
  .muted { color: #6b7485; }
  .small { font-size: .8rem; }
  .error { color: #b3261e; }
  ul.agents { list-style: none; padding: 0; margin: 0 0 1.25rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
  .agent { font-weight: 600; }
  table.sessions { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d9dde4; }
  table.sessions th, table.sessions td { text-align: left; vertical-align: top; padding: .5rem .75rem; border-bottom: 1px solid #eceef2; }
  table.sessions th { background: #eef1f5; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: #5b6578; }
  table.sessions td.num { text-align: right; font-variant-numeric: tabular-nums; }
  table.sessions td.first { max-width: 28rem; overflow-wrap: anywhere; }
  table.sessions td.caller { overflow-wrap: anywhere; max-width: 16rem; }
  dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
  dl.meta dt { color: #5b6578; }
  dl.meta dd { margin: 0; overflow-wrap: anywhere; }
  article { background: #fff; border: 1px solid #d9dde4; border-radius: 6px; padding: .75rem 1rem; margin: 0 0 .75rem; }
  article.message.user { border-left: 4px solid #1f5fbf; }
  article.message.agent { border-left: 4px solid #2e7d4f; }
  .role { text-transform: uppercase; font-size: .75rem; font-weight: 700; letter-spacing: .05em; }
  .author { font-weight: 600; }
  .text { white-space: pre-wrap; overflow-wrap: anywhere; margin-top: .25rem; }
  .tool { font-weight: 700; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  pre { background: #f3f5f8; border-radius: 4px; padding: .5rem .75rem; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  article.tool-call.flagged { border: 2px solid #c77700; background: #fff8ec; }
  article.tool-call.failed { border-left: 4px solid #b3261e; }
  .marker { color: #c77700; font-weight: 700; }
  .flag-note { color: #8a5200; background: #fff3dc; border: 1px solid #f0c67a; border-radius: 4px; padding: .5rem .75rem; }
  .badge { display: inline-block; font-size: .7rem; font-weight: 700; text-transform: uppercase; border-radius: 3px; padding: 0 .35rem; }
  .badge.error { background: #b3261e; color: #fff; }
`;
