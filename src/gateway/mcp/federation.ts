// One MCP backend as the gateway serves it: one or more upstream targets federated into a single server.
// Tool, prompt and resource names are `<target>_<name>` when prefixing is on (prefixMode Always, or
// Conditional with more than one target); list results are merged; a name is resolved back to its target
// only by an exact match against what that target lists (no case folding, no Unicode normalisation), so
// the policy always judges the name the upstream will run.
import type { ToolDefinition } from '../policy/tool-pinning.ts';
import { METHOD_NOT_FOUND } from './jsonrpc.ts';
import { UpstreamError, type ForwardHeaders, type UpstreamSession, type UpstreamTarget } from './upstream.ts';

export interface FederationSpec {
  /** `<namespace>/<name>` of the AgentgatewayBackend, or `service/<namespace>/<name>:<port>`. */
  key: string;
  targets: UpstreamTarget[];
  prefixMode: 'Conditional' | 'Always' | 'Never';
  failureMode: 'FailClosed' | 'FailOpen';
}

export type ItemKind = 'tool' | 'prompt' | 'resource';

export interface ResolvedItem {
  target: UpstreamTarget;
  /** The name (or URI) as the upstream defines it. */
  name: string;
}

/** How the federation reaches a target in the current client session. */
export type SessionFor = (target: UpstreamTarget) => Promise<UpstreamSession>;

export interface TargetFailure {
  target: string;
  error: string;
}

const CATALOGUE_TTL_MS = 5_000;
const MAX_PAGES = 20;

export class Federation {
  /** The latest tools/list of each target, shared by all sessions (pinning and resolution read it). */
  private readonly catalogues = new Map<string, { tools: ToolDefinition[]; fetchedAt: number }>();
  /** resource URI → target, learnt from resources/list. */
  private readonly resourceOwners = new Map<string, string>();

  constructor(
    readonly spec: FederationSpec,
    private readonly hooks: {
      /** Called with every fresh tools/list of a target (tool pinning observes it). */
      onTools?(target: UpstreamTarget, tools: ToolDefinition[]): void;
      now?: () => number;
    } = {},
  ) {}

  get prefixed(): boolean {
    return this.spec.prefixMode === 'Always' || (this.spec.prefixMode === 'Conditional' && this.spec.targets.length > 1);
  }

  exposedName(target: UpstreamTarget, name: string): string {
    return this.prefixed ? `${target.name}_${name}` : name;
  }

  private now(): number {
    return this.hooks.now?.() ?? Date.now();
  }

  /** Fetch every page of a list method from one target. */
  private async listAll(session: UpstreamSession, method: string, key: string, forward: ForwardHeaders): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await session.request(method, cursor ? { cursor } : undefined, forward);
      // A target that does not offer prompts or resources at all contributes nothing, rather than failing.
      if (answer.error?.code === METHOD_NOT_FOUND) return items;
      if (answer.error) throw new UpstreamError(session.target.name, `${method} failed: ${answer.error.message}`);
      const result = answer.result ?? {};
      const list = result[key];
      if (Array.isArray(list)) items.push(...(list as Record<string, unknown>[]));
      cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
      if (!cursor) break;
    }
    return items;
  }

  /** tools/list of one target, refreshing the shared catalogue (and telling pinning). */
  async toolsOf(target: UpstreamTarget, sessionFor: SessionFor, forward: ForwardHeaders): Promise<ToolDefinition[]> {
    const tools = (await this.listAll(await sessionFor(target), 'tools/list', 'tools', forward)) as unknown as ToolDefinition[];
    this.catalogues.set(target.name, { tools, fetchedAt: this.now() });
    this.hooks.onTools?.(target, tools);
    return tools;
  }

  /** The cached catalogue of a target, refreshed when older than a few seconds. */
  async catalogue(target: UpstreamTarget, sessionFor: SessionFor, forward: ForwardHeaders): Promise<ToolDefinition[]> {
    const cached = this.catalogues.get(target.name);
    if (cached && this.now() - cached.fetchedAt < CATALOGUE_TTL_MS) return cached.tools;
    return this.toolsOf(target, sessionFor, forward);
  }

  /**
   * List one kind across targets. Each item comes back with its target and upstream name; the caller filters
   * (policy, pinning) and renames. FailOpen leaves a failing target out; FailClosed fails the whole list.
   */
  async list(
    kind: ItemKind,
    sessionFor: SessionFor,
    forward: ForwardHeaders,
  ): Promise<{ items: { target: UpstreamTarget; name: string; item: Record<string, unknown> }[]; failures: TargetFailure[] }> {
    const method = kind === 'tool' ? 'tools/list' : kind === 'prompt' ? 'prompts/list' : 'resources/list';
    const key = kind === 'tool' ? 'tools' : kind === 'prompt' ? 'prompts' : 'resources';
    const results = await Promise.allSettled(
      this.spec.targets.map(async (target) => {
        if (kind === 'tool') return this.toolsOf(target, sessionFor, forward) as unknown as Record<string, unknown>[];
        return this.listAll(await sessionFor(target), method, key, forward);
      }),
    );
    const items: { target: UpstreamTarget; name: string; item: Record<string, unknown> }[] = [];
    const failures: TargetFailure[] = [];
    results.forEach((result, i) => {
      const target = this.spec.targets[i]!;
      if (result.status === 'rejected') {
        failures.push({ target: target.name, error: (result.reason as Error).message });
        return;
      }
      // A target's latest listing replaces its earlier one, so URIs it no longer lists do not pile up.
      if (kind === 'resource') for (const [uri, owner] of this.resourceOwners) if (owner === target.name) this.resourceOwners.delete(uri);
      for (const item of result.value) {
        const name = kind === 'resource' ? String(item.uri ?? '') : String(item.name ?? '');
        if (kind === 'resource') this.resourceOwners.set(name, target.name);
        items.push({ target, name, item });
      }
    });
    if (failures.length > 0 && this.spec.failureMode === 'FailClosed') throw new FederationError(failures);
    return { items, failures };
  }

  /** Rename a listed item for the client. */
  present(kind: ItemKind, target: UpstreamTarget, item: Record<string, unknown>): Record<string, unknown> {
    if (kind === 'resource' || !this.prefixed) return item;
    return { ...item, name: this.exposedName(target, String(item.name)) };
  }

  /** Which target and upstream tool an exposed tool name means; undefined when no target lists it exactly. */
  async resolveTool(exposed: string, sessionFor: SessionFor, forward: ForwardHeaders): Promise<ResolvedItem | undefined> {
    for (const target of this.candidates(exposed)) {
      const name = this.prefixed ? exposed.slice(target.name.length + 1) : exposed;
      const tools = await this.catalogue(target, sessionFor, forward);
      if (tools.some((tool) => tool.name === name)) return { target, name };
    }
    return undefined;
  }

  /** A prompt by exposed name: by prefix when prefixing, else the only (or first) target. */
  resolvePrompt(exposed: string): ResolvedItem | undefined {
    const target = this.candidates(exposed)[0];
    if (!target) return undefined;
    return { target, name: this.prefixed ? exposed.slice(target.name.length + 1) : exposed };
  }

  resolveResource(uri: string): ResolvedItem | undefined {
    const owner = this.resourceOwners.get(uri);
    const target = this.spec.targets.find((t) => t.name === owner) ?? (this.spec.targets.length === 1 ? this.spec.targets[0] : undefined);
    return target ? { target, name: uri } : undefined;
  }

  private candidates(exposed: string): UpstreamTarget[] {
    if (!this.prefixed) return this.spec.targets;
    return this.spec.targets.filter((t) => exposed.startsWith(`${t.name}_`) && exposed.length > t.name.length + 1);
  }
}

export class FederationError extends Error {
  override readonly name = 'FederationError';
  constructor(readonly failures: TargetFailure[]) {
    super(`upstream unavailable: ${failures.map((f) => f.error).join('; ')}`);
  }
}

/** Merge the capabilities of several initialize results (a capability any target has, the backend has). */
export function mergeCapabilities(results: (Record<string, unknown> | undefined)[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const result of results) {
    const capabilities = (result?.capabilities as Record<string, unknown> | undefined) ?? {};
    for (const [name, value] of Object.entries(capabilities)) {
      if (name === 'experimental') continue;
      merged[name] = { ...((merged[name] as object | undefined) ?? {}), ...((value as object | null) ?? {}) };
    }
  }
  return merged;
}
