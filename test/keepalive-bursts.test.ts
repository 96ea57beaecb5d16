// Bursts of chats separated by about five seconds of idle: the gap at which Node's default keep-alive
// timeout closes pooled connections on the server side just as a client reuses them. Every hop of a chat
// (the chatbot's identity to the agent's waypoint, the agent to the gateway, the gateway to the MCP server)
// keeps connections between bursts, so each burst starts on connections that have idled for the gap. No tool
// call may be lost, and no chat may report success without its tool's answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesValue, startTestCluster, type TestCluster } from '../testing/cluster.ts';

const BURSTS = 10;
const CHATS_PER_BURST = 20;
const GAPS_MS = [4_900, 4_950, 5_000, 5_050, 5_100];
const PROMPT = 'I am customer 12345. What is my balance?';

describe('chats in bursts with idle gaps around five seconds', () => {
  let t: TestCluster;
  beforeAll(async () => {
    t = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it(`loses no tool call in ${BURSTS * CHATS_PER_BURST} chats`, async () => {
    const errorsBefore = gatewayErrors(await t.metricsText());
    const failures: string[] = [];
    let chats = 0;
    for (let burst = 0; burst < BURSTS; burst++) {
      if (burst > 0) await idle(GAPS_MS[(burst - 1) % GAPS_MS.length]!);
      const answers = await Promise.all(Array.from({ length: CHATS_PER_BURST }, () => t.chat(PROMPT)));
      for (const answer of answers) {
        chats++;
        const calls = answer.tools.map((c) => `${c.name}${c.isError ? ' (error)' : ''}`);
        if (answer.failed || calls.join() !== 'get_balance' || !answer.reply.includes('£4,287.55')) failures.push(`burst ${burst}: failed=${answer.failed} tools=[${calls.join(', ')}] reply=${answer.reply.slice(0, 120)}`);
      }
    }
    expect(chats).toBe(BURSTS * CHATS_PER_BURST);
    expect(failures).toEqual([]);
    // Nothing was lost and recovered behind the chat's back either: the gateway answered every call itself.
    expect(gatewayErrors(await t.metricsText())).toBe(errorsBefore);
  }, 600_000);
});

function gatewayErrors(metrics: string): number {
  return seriesValue(metrics, 'agentgateway_requests_total', { status: /5\d\d/ });
}

/** The scenario's idle gap between bursts (not a wait for readiness: every burst above has finished). */
function idle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
