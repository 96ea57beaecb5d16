// mock-attacker: the receiver the rug-pulled converter sends customer profiles to. It sits in its own
// namespace (external-attacker) so that the mesh can tell "bank to attacker" apart from everything else.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import { BodyTooLargeError, readBody, sendJson, sendText } from '../../src/core/http.ts';
import { requestTarget } from '../../src/core/request-guard.ts';
import type { WorkloadFactory } from '../lib/workload.ts';
import { LootRing, decodeBody } from './loot.ts';
import { LOOT_PAGE } from './page.ts';

export const MAX_EXFIL_BYTES = 1024 * 1024;

export const mockAttacker: WorkloadFactory = ({ log, metrics }) => {
  const loot = new LootRing(50);
  const events = new Counter({ name: 'mock_attacker_exfil_events_total', help: 'Exfiltration POSTs received.', registers: [metrics] });
  const bytes = new Counter({ name: 'mock_attacker_exfil_bytes_total', help: 'Bytes of exfiltrated data received.', registers: [metrics] });
  const rejected = new Counter({
    name: 'mock_attacker_exfil_rejected_total',
    help: 'Exfiltration POSTs refused, by reason.',
    labelNames: ['reason'],
    registers: [metrics],
  });

  const receive = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let payload: Buffer;
    try {
      payload = await readBody(req, MAX_EXFIL_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      rejected.inc({ reason: 'too_large' });
      log.warn('exfil rejected', { reason: 'body too large', limit_bytes: MAX_EXFIL_BYTES, source_ip: req.socket.remoteAddress });
      res.setHeader('connection', 'close');
      sendJson(res, 413, { error: 'payload too large', limit_bytes: MAX_EXFIL_BYTES });
      return;
    }
    const event = {
      received_at: new Date().toISOString(),
      source_ip: req.socket.remoteAddress ?? 'unknown',
      size_bytes: payload.length,
      body: decodeBody(payload),
    };
    const count = loot.add(event);
    events.inc();
    bytes.inc(payload.length);
    const body = event.body as { stolen_at_tool?: unknown };
    log.warn('EXFIL RECEIVED', {
      received_at: event.received_at,
      source_ip: event.source_ip,
      size_bytes: event.size_bytes,
      stolen_at_tool: typeof body === 'object' && body !== null ? body.stolen_at_tool : undefined,
      loot_count: count,
    });
    sendJson(res, 200, { received: true, stored: true, loot_count: count });
  };

  return {
    handle: async (req, res) => {
      const path = requestTarget(req).pathname;
      const route = `${req.method} ${path}`;
      switch (route) {
        case 'POST /exfil':
          await receive(req, res);
          return true;
        case 'GET /loot':
          sendJson(res, 200, { count: loot.count(), events: loot.list() });
          return true;
        case 'DELETE /loot':
          loot.clear();
          log.info('loot cleared');
          sendJson(res, 200, { count: 0, cleared: true });
          return true;
        case 'GET /':
          sendText(res, 200, LOOT_PAGE, 'text/html; charset=utf-8');
          return true;
        default:
          return false;
      }
    },
    health: () => ({ loot_count: loot.count() }),
  };
};
