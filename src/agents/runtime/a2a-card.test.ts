// The agent card against the A2A specification's own schemas, vendored in test/fixtures/a2a/ (see its README for
// source and commit): the 1.0 card, served when a client asks with `A2A-Version: 1.0`, against a2a.proto 1.0's
// AgentCard as a strict ProtoJSON reader takes it; the 0.3 card, served by default, against the 0.3 JSON Schema
// with a real JSON Schema validator (ajv, draft-07). Also through the agent gateway's URL rewrite, which every
// card a client reads from the gateway goes through.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProto, protoJsonProblems } from '../../../testing/proto-json.ts';
import { startTestWorkload, type TestWorkload } from '../../../testing/workloads.ts';
import { rewriteAgentCard } from '../../gateway/a2a.ts';
import { MODEL_EXTENSION_URI, cardModel } from './a2a-server.ts';
import { AGENT_CONFIG_ENV, type AgentRuntimeConfig } from './config.ts';
import { agentWorkload } from '../../../apps/agent/workload.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/a2a');
const PROTO_1_0 = parseProto(readFileSync(join(FIXTURES, 'a2a-v1.0.0.proto'), 'utf8'));
const SCHEMA_0_3 = JSON.parse(readFileSync(join(FIXTURES, 'a2a-v0.3.0.schema.json'), 'utf8')) as { definitions: Record<string, { properties?: Record<string, unknown> }> };
const ajv = new Ajv({ allErrors: true });
ajv.addSchema(SCHEMA_0_3, 'a2a-0.3');
const validate03 = ajv.getSchema('a2a-0.3#/definitions/AgentCard')!;

const cardProblems10 = (card: unknown) => protoJsonProblems(PROTO_1_0, 'lf.a2a.v1.AgentCard', card);
function cardProblems03(card: unknown): string[] {
  return validate03(card) ? [] : (validate03.errors ?? []).map((e) => `${e.dataPath || '(card)'} ${e.message ?? ''}`);
}
/**
 * The 0.3 schema leaves objects open (no additionalProperties: false), so a stray field would pass it; this
 * stricter reading refuses any field the schema does not define, on the card and on its capabilities.
 */
function undefinedFields03(card: Record<string, unknown>): string[] {
  const defined = (name: string) => Object.keys(SCHEMA_0_3.definitions[name]!.properties ?? {});
  const stray = Object.keys(card).filter((key) => !defined('AgentCard').includes(key));
  const capabilities = (card.capabilities ?? {}) as Record<string, unknown>;
  return [...stray, ...Object.keys(capabilities).filter((key) => !defined('AgentCapabilities').includes(key)).map((key) => `capabilities.${key}`)];
}

describe('the vendored A2A spec files', () => {
  it('are the published ones, byte for byte (the sha256 recorded beside their source and commit)', () => {
    const readme = readFileSync(join(FIXTURES, 'README.md'), 'utf8');
    for (const file of ['a2a-v1.0.0.proto', 'a2a-v0.3.0.schema.json']) {
      const recorded = new RegExp(`^\\| \`${file.replaceAll('.', '\\.')}\` \\|.*\`([0-9a-f]{64})\` \\|$`, 'm').exec(readme)?.[1];
      expect(recorded, file).toBeDefined();
      expect(createHash('sha256').update(readFileSync(join(FIXTURES, file))).digest('hex'), file).toBe(recorded);
    }
  });
});

describe('the agent card against the A2A schemas', () => {
  let agent: TestWorkload;
  let current: Record<string, unknown>;
  let legacy: Record<string, unknown>;
  /** The model the agent says it runs, in /healthz: what the card must name. */
  let model: string;
  beforeAll(async () => {
    const config: AgentRuntimeConfig = {
      name: 'support-bot',
      namespace: 'trustusbank-bank-agents',
      description: 'Answers customers of the bank',
      systemMessage: 'You are the bank support bot.',
      model: { provider: 'scripted', model: 'scripted', source: 'test' },
      mcpServers: [],
      agents: [],
      skills: [{ id: 'support', name: 'Support', description: 'Balances, transactions, conversions', tags: ['banking'], examples: ['What is my balance?'] }],
      maxSteps: 4,
      url: 'http://support-bot.trustusbank-bank-agents.svc.cluster.local:8080/',
    };
    agent = await startTestWorkload('support-bot', agentWorkload, { env: { [AGENT_CONFIG_ENV]: JSON.stringify(config) } });
    current = (await (await fetch(`${agent.url}/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })).json()) as Record<string, unknown>;
    legacy = (await (await fetch(`${agent.url}/.well-known/agent-card.json`)).json()) as Record<string, unknown>;
    model = ((await (await fetch(`${agent.url}/healthz`)).json()) as { model: string }).model;
  });
  afterAll(async () => {
    await agent?.close();
  });

  it('serves a 1.0 card that a2a.proto 1.0 accepts, with the model in an optional extension rather than a field it lacks', () => {
    expect(cardProblems10(current)).toEqual([]);
    expect(current).not.toHaveProperty('metadata');
    expect(model).toMatch(/^scripted/);
    expect(current.capabilities).toMatchObject({ extensions: [{ uri: MODEL_EXTENSION_URI, required: false, params: { model } }] });
    expect(cardModel(current as Parameters<typeof cardModel>[0])).toBe(model);
  });

  it('serves a 0.3 card that the 0.3 JSON Schema accepts, with no field the schema does not define, and the same extension', () => {
    expect(cardProblems03(legacy)).toEqual([]);
    expect(undefinedFields03(legacy)).toEqual([]);
    expect(cardModel(legacy as Parameters<typeof cardModel>[0])).toBe(model);
  });

  it('stays valid through the agent gateway, which points every URL of a card at itself', () => {
    const base = 'http://127.0.0.1:18008/a2a/support-bot/';
    expect(cardProblems10(rewriteAgentCard(current, base))).toEqual([]);
    expect(cardProblems03(rewriteAgentCard(legacy, base))).toEqual([]);
  });

  it('would catch the card as it was: metadata on a 1.0 card is not a field of AgentCard', () => {
    const problems = cardProblems10({ ...current, metadata: { model } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^metadata: not a field of lf\.a2a\.v1\.AgentCard \(its fields: name, description, supportedInterfaces, /);
    expect(undefinedFields03({ ...legacy, metadata: { model } })).toEqual(['metadata']);
  });

  it.each<[string, (card: Record<string, unknown>) => unknown, string]>([
    ['a missing name', ({ name: _name, ...card }) => card, 'name: is required by lf.a2a.v1.AgentCard (field_behavior REQUIRED)'],
    ['an interface without its protocol version', (card) => ({ ...card, supportedInterfaces: [{ url: 'http://a/', protocolBinding: 'JSONRPC' }] }), 'supportedInterfaces[0].protocolVersion: is required by lf.a2a.v1.AgentInterface (field_behavior REQUIRED)'],
    ['streaming as a string', (card) => ({ ...card, capabilities: { streaming: 'yes' } }), 'capabilities.streaming: expected true or false, got string "yes"'],
    ['extension params that are not an object', (card) => ({ ...card, capabilities: { extensions: [{ uri: MODEL_EXTENSION_URI, params: 'scripted' }] } }), 'capabilities.extensions[0].params: expected a JSON object (google.protobuf.Struct), got string "scripted"'],
    ['a skill with tags as a string', (card) => ({ ...card, skills: [{ id: 's', name: 'S', description: 'd', tags: 'banking' }] }), 'skills[0].tags: expected an array, got string "banking"'],
    ['two members of a oneof', (card) => ({ ...card, securitySchemes: { s: { mtlsSecurityScheme: {}, apiKeySecurityScheme: { location: 'header', name: 'k' } } } }), 'securitySchemes["s"].apiKeySecurityScheme: oneof scheme already has mtlsSecurityScheme set'],
    ['a 0.3 field on a 1.0 card', (card) => ({ ...card, url: 'http://a/' }), 'url: not a field of lf.a2a.v1.AgentCard'],
  ])('refuses %s at 1.0', (_what, edit, problem) => {
    const problems = cardProblems10(edit(structuredClone(current)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it.each<[string, (card: Record<string, unknown>) => unknown, string]>([
    ['a missing url', ({ url: _url, ...card }) => card, "(card) should have required property 'url'"],
    ['an extension without its uri', (card) => ({ ...card, capabilities: { extensions: [{ params: { model: 'x' } }] } }), ".capabilities.extensions[0] should have required property 'uri'"],
    ['a skill without tags', (card) => ({ ...card, skills: [{ id: 's', name: 'S', description: 'd' }] }), ".skills[0] should have required property 'tags'"],
  ])('refuses %s at 0.3', (_what, edit, problem) => {
    expect(cardProblems03(edit(structuredClone(legacy)))).toEqual([problem]);
  });
});
