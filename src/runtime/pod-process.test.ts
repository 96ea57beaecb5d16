// A pod tells the engine where it listens; its socket directory is its own to change. A pod that swaps its
// socket for a symlink to a host socket (the admin API's, say) must not turn ztunnel into its courier: the
// engine only ever connects through a hard link it took of a real socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shimModeLaunch } from '../../testing/workloads.ts';
import { PodProcess } from './pod-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'tub-podproc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pod whose program reports a listener at `<socketDir>/8080.sock` after `prepare` made whatever is there. */
function podReporting(name: string, prepare: string): PodProcess {
  const socketDir = join(dir, name, 'sock');
  const launch = shimModeLaunch(
    dir,
    name,
    `import net from 'node:net';
import fs from 'node:fs';
process.once('message', async () => {
  const path = ${JSON.stringify(join(socketDir, '8080.sock'))};
  ${prepare}
  process.send({ type: 'tub/listening', containerPort: 8080, path });
});
`,
  );
  return new PodProcess({ ...launch, capture: { ...launch.capture, token: 'x'.repeat(32) } });
}

function listening(pod: PodProcess, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    pod.onListening(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe("a pod's listener, as the engine adopts it", () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('takes a real socket the pod bound, and reaches the pod through its own hard link', async () => {
    const pod = podReporting('honest', `await new Promise((r) => net.createServer((s) => s.end('pod')).listen(path, r));`);
    try {
      expect(await listening(pod)).toBe(true);
      const address = pod.ports.get(8080)!;
      expect(address).toEqual({ path: join(dir, 'links', 'sock-8080.sock') });
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(address);
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(reply).toBe('pod');
    } finally {
      await pod.stop();
    }
    // A dead process listens nowhere.
    expect(pod.ports.size).toBe(0);
  });

  it('refuses a symlink the pod put where its socket should be, so nothing ever connects to the host socket behind it', async () => {
    const hostSocket = join(dir, 'admin.sock');
    let reached = 0;
    const host = createServer((s) => {
      reached++;
      s.destroy();
    });
    servers.push(host);
    await new Promise<void>((resolve) => host.listen(hostSocket, resolve));
    const pod = podReporting('swapper', `fs.mkdirSync(${JSON.stringify(join(dir, 'swapper', 'sock'))}, { recursive: true }); fs.symlinkSync(${JSON.stringify(hostSocket)}, path);`);
    try {
      expect(await listening(pod, 3_000)).toBe(false);
      expect(pod.ports.size).toBe(0);
      expect(reached).toBe(0);
    } finally {
      await pod.stop();
    }
  });

  it('ignores a report of a socket outside its socket directory', async () => {
    const pod = podReporting('elsewhere', `await new Promise((r) => net.createServer().listen(path, r)); process.send({ type: 'tub/listening', containerPort: 9090, path: ${JSON.stringify(join(dir, 'admin.sock'))} });`);
    try {
      expect(await listening(pod)).toBe(true);
      expect([...pod.ports.keys()]).toEqual([8080]);
    } finally {
      await pod.stop();
    }
  });
});
