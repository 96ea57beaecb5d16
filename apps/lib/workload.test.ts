import { describe, expect, it } from 'vitest';
import { startTestWorkload } from '../../testing/workloads.ts';
import { UserError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { parsePort, startWorkload, type WorkloadFactory } from './workload.ts';

const hello: WorkloadFactory = () => ({
  handle: (req, res) => {
    if (req.url !== '/hello') return false;
    res.end('hi');
    return true;
  },
  health: () => ({ greeting: 'hi' }),
});

describe('workload runtime', () => {
  it('serves /healthz with the workload name and its own fields, /metrics in Prometheus text, 404 otherwise', async () => {
    const workload = await startTestWorkload('hello', hello);
    try {
      expect(await (await fetch(`${workload.url}/healthz`)).json()).toEqual({ status: 'ok', workload: 'hello', greeting: 'hi' });
      expect(await (await fetch(`${workload.url}/hello`)).text()).toBe('hi');
      expect((await fetch(`${workload.url}/nope`)).status).toBe(404);
      const metrics = await fetch(`${workload.url}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      expect(text).toMatch(/^http_requests_total\{method="GET",route="\/hello",status="200"\} 1$/m);
      expect(text).toMatch(/^http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    } finally {
      await workload.close();
    }
  });

  it('names the port and the flag when the port is taken', async () => {
    const first = await startTestWorkload('hello', hello);
    try {
      const taken = startWorkload('hello', hello, { host: '127.0.0.1', port: first.port, dataDir: first.dataDir, env: {}, log: silentLogger });
      await expect(taken).rejects.toBeInstanceOf(UserError);
      await expect(taken).rejects.toThrow(`port ${first.port} on 127.0.0.1 is already in use; choose another with --port N`);
    } finally {
      await first.close();
    }
  });

  it('reads PORT strictly', () => {
    expect(parsePort(undefined)).toBe(8080);
    expect(parsePort('0')).toBe(0);
    expect(() => parsePort('80a')).toThrow(/PORT must be a whole number/);
    expect(() => parsePort('70000')).toThrow(UserError);
  });
});
