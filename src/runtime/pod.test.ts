// A crash-looping pod used to show only "exit code 1": now its last termination carries the exit code or
// signal, when, and the end of its stderr (bounded, however much a compromised pod writes), and the restart
// backoff starts over after a healthy run, as the kubelet's does. Real processes, no sandbox (shim mode).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/log.ts';
import { shimModeLaunch } from '../../testing/workloads.ts';
import { STDERR_TAIL_BYTES, STDERR_TAIL_LINES, keepTail } from './pod-process.ts';
import { DEFAULT_RESTART_BACKOFF, Pod, PodStartError, nextRestart, type PodTemplate, type RestartBackoff } from './pod.ts';

const dir = mkdtempSync(join(tmpdir(), 'tub-pod-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nextRestart', () => {
  it('doubles from the initial delay to the cap while the pod keeps crashing', () => {
    let streak = 0;
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const next = nextRestart(DEFAULT_RESTART_BACKOFF, streak, 0);
      streak = next.streak;
      delays.push(next.delayMs);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('starts over after a run that was ready for the reset time (10 minutes by default), not before', () => {
    expect(nextRestart(DEFAULT_RESTART_BACKOFF, 6, 10 * 60_000)).toEqual({ streak: 1, delayMs: 1000 });
    expect(nextRestart(DEFAULT_RESTART_BACKOFF, 6, 10 * 60_000 - 1)).toEqual({ streak: 7, delayMs: 30000 });
  });
});

describe('keepTail', () => {
  it('keeps the last lines within the line and byte bounds, however much is written', () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) keepTail(lines, `line ${i} ${'x'.repeat(500)}`);
    expect(lines.length).toBeLessThanOrEqual(STDERR_TAIL_LINES);
    expect(lines.reduce((n, l) => n + l.length + 1, 0)).toBeLessThanOrEqual(STDERR_TAIL_BYTES);
    expect(lines.at(-1)).toMatch(/^line 9999 /);
    keepTail(lines, 'y'.repeat(100_000));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThanOrEqual(STDERR_TAIL_BYTES);
  });
});

/** A pod (shim mode, no capture) running `script`, an ES module that gets the capture-init message first. */
function podRunning(name: string, script: string, backoff: RestartBackoff, logs: Record<string, unknown>[]): Pod {
  const template: PodTemplate = {
    name: `${name}-abc`,
    namespace: 'test',
    deployment: name,
    templateHash: 'h',
    labels: {},
    serviceAccount: name,
    ip: '10.244.0.9',
    spiffeId: `spiffe://cluster.local/ns/test/sa/${name}`,
    image: 'test',
    imageDigest: 'sha256:0',
    probe: { path: '/healthz', containerPort: 8080, periodMs: 100, timeoutMs: 1000, failureThreshold: 1 },
    launch: shimModeLaunch(dir, name, script),
  };
  const log = createLogger('engine', { write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>), level: 'debug' });
  return new Pod(template, log, () => undefined, undefined, backoff);
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a crash-looping pod', () => {
  it('says why it stopped: exit code, the end of its stderr, the restart count and when it starts again', async () => {
    const logs: Record<string, unknown>[] = [];
    const pod = podRunning(
      'crasher',
      `process.stderr.write('starting\\n');
process.stderr.write('crasher: cannot use the database /data/bank.sqlite: file is not a database\\n');
process.exit(3);
`,
      { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 },
      logs,
    );
    pod.start();
    try {
      await until(() => pod.failedBeforeReady);
      expect(pod.restarts).toBe(1);
      expect(pod.phase).toBe('CrashLoopBackOff');
      expect(pod.lastExit).toBe('exit code 3');
      expect(pod.lastTermination).toMatchObject({ exitCode: 3, signal: null, reason: 'Error', stderr: ['starting', 'crasher: cannot use the database /data/bank.sqlite: file is not a database'] });
      expect(pod.nextStartAt!.getTime()).toBeGreaterThan(Date.now() + 50_000);
      expect(new PodStartError(pod).message).toBe(
        `pod test/crasher-abc exited before it was ready (exit code 3):\n  | starting\n  | crasher: cannot use the database /data/bank.sqlite: file is not a database\nIts log: ${join(dir, 'crasher', 'pod.log')}`,
      );
    } finally {
      await pod.stop();
    }
  });

  it('shows escape sequences a pod writes as text, never as commands to the terminal', async () => {
    const pod = podRunning('escaper', `process.stderr.write('\\u001b]0;pwned\\u0007\\u001b[2Jcleared\\n'); process.exit(1);\n`, { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 }, []);
    pod.start();
    try {
      await until(() => pod.failedBeforeReady);
      const message = new PodStartError(pod).message;
      expect(message).not.toContain('\u001b');
      expect(message).toContain('\\x1b]0;pwned\\x07\\x1b[2Jcleared');
    } finally {
      await pod.stop();
    }
  });

  it('doubles its backoff while it crashes, and starts over after a run that was ready for the reset time', async () => {
    const logs: Record<string, unknown>[] = [];
    // Runs 1, 2 and 4 crash at once; run 3 serves its probe for 600 ms (more than the 200 ms reset), then crashes.
    const pod = podRunning(
      'flapper',
      `import fs from 'node:fs';
import net from 'node:net';
const counter = process.env.TRUSTUSBANK_DATA_DIR + '/runs';
const run = (fs.existsSync(counter) ? Number(fs.readFileSync(counter, 'utf8')) : 0) + 1;
fs.writeFileSync(counter, String(run));
process.once('message', (init) => {
  if (run !== 3) { process.stderr.write('run ' + run + ' crashes\\n'); process.exit(2); }
  const path = init.listenDir + '/8080.sock';
  // Raw, without the capture shim: the probe's source line comes first, then its request; any request is healthy.
  net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\nok'))).listen(path, () => {
    process.send({ type: 'tub/listening', containerPort: 8080, path });
    setTimeout(() => process.exit(1), 600);
  });
});
`,
      { initialMs: 50, maxMs: 5_000, resetAfterMs: 200 },
      logs,
    );
    const wasReady: boolean[] = [];
    pod.start();
    try {
      const restarts = () => logs.filter((l) => l.msg === 'pod exited; restarting');
      await until(() => {
        if (pod.ready && wasReady.length === 0) wasReady.push(true);
        return restarts().length >= 4;
      });
      expect(wasReady).toEqual([true]);
      expect(restarts().map((l) => l.backoff_ms)).toEqual([50, 100, 50, 100]);
      expect(restarts()[2]).toMatchObject({ exit: 'exit code 1', backoff: 'reset after a healthy run' });
      expect(pod.restarts).toBeGreaterThanOrEqual(4);
    } finally {
      await pod.stop();
    }
  });
});
