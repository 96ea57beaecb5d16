// The kernel sandbox on its own, without the capture shim: what code that steps around the shim (a raw
// socket, UDP, a resolver of its own, a Unix socket found on disk, a file outside its view) finds inside a
// pod's namespaces. Nothing: no network, no host files, no host sockets. Where the kernel does not allow
// namespaces the test says so loudly and skips, unless TRUSTUSBANK_ISOLATION=kernel (as CI sets) demands them.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISOLATION_ENV, detectIsolation, sandboxCommand } from './sandbox.ts';

const isolation = (() => {
  try {
    return detectIsolation();
  } catch (error) {
    // TRUSTUSBANK_ISOLATION=kernel on a machine without namespaces: fail, do not skip.
    return { mode: 'missing' as const, reason: (error as Error).message };
  }
})();
if (isolation.mode !== 'kernel') {
  console.warn(`\n!!! SKIPPING the kernel sandbox tests: ${isolation.reason} !!!\n`);
  if (process.env[ISOLATION_ENV] === 'kernel') throw new Error(`${ISOLATION_ENV}=kernel, but ${isolation.reason}`);
}

// What a hostile image would try once it has stepped around the shim. Each attempt reports what happened.
const ESCAPE = `
import net from 'node:net';
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
const [tcpPort, udpPort, hostSocket, hostFile, allowedFile, writableDir] = process.argv.slice(2);
const outcome = (p) => p.then(() => 'allowed', (e) => 'blocked: ' + (e.code ?? e.message));
const tcp = (host) => new Promise((resolve, reject) => { const s = net.connect(Number(tcpPort), host); s.on('connect', () => { s.destroy(); resolve(); }); s.on('error', reject); });
const unix = (path) => new Promise((resolve, reject) => { const s = net.connect({ path }); s.on('connect', () => { s.destroy(); resolve(); }); s.on('error', reject); });
const udp = () => new Promise((resolve, reject) => { const s = dgram.createSocket('udp4'); s.send('leak', Number(udpPort), '127.0.0.1', (e) => { s.close(); e ? reject(e) : resolve(); }); });
const resolver = () => { const r = new dns.promises.Resolver({ timeout: 500, tries: 1 }); r.setServers(['127.0.0.1:' + udpPort]); return r.resolve4('exfil.example'); };
const sync = (f) => outcome((async () => f())());
console.log(JSON.stringify({
  tcpLoopback: await outcome(tcp('127.0.0.1')),
  tcpLocalhost: await outcome(tcp('localhost')),
  udp: await outcome(udp()),
  dns: await outcome(resolver()),
  hostUnixSocket: await outcome(unix(hostSocket)),
  readHostFile: await sync(() => fs.readFileSync(hostFile)),
  readAllowed: await sync(() => fs.readFileSync(allowedFile)),
  writeAllowedReadOnly: await sync(() => fs.writeFileSync(allowedFile, 'x')),
  writeVolume: await sync(() => fs.writeFileSync(writableDir + '/ok', 'x')),
  processes: fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).length,
  pid: process.pid,
}));
`;

describe.skipIf(isolation.mode !== 'kernel')('the kernel sandbox, with no capture shim at all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tub-sandbox-'));
  const servers: Server[] = [];
  const udpSeen: string[] = [];
  const udp = createSocket('udp4');
  let tcpPort = 0;
  let udpPort = 0;
  const hostSocket = join(dir, 'host.sock');
  const hostFile = join(dir, 'secret.txt');
  const script = join(dir, 'escape.mjs');
  const volume = join(dir, 'volume');

  beforeAll(async () => {
    writeFileSync(script, ESCAPE);
    writeFileSync(hostFile, 'the CA key, say');
    mkdirSync(volume);
    for (const listen of [(s: Server) => s.listen(0, '127.0.0.1'), (s: Server) => s.listen(hostSocket)]) {
      const server = createServer((socket) => socket.destroy());
      servers.push(server);
      await new Promise<void>((resolve) => listen(server).once('listening', resolve));
    }
    tcpPort = (servers[0]!.address() as { port: number }).port;
    udp.on('message', (message) => udpSeen.push(message.toString()));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    udpPort = udp.address().port;
  });
  afterAll(async () => {
    udp.close();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const { command, args } = sandboxCommand({ readOnly: [script], readWrite: [volume] }, [process.execPath, script, ...argv]);
    return new Promise((resolve) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  };

  it('finds no network, no host file and no host socket, and only its own view and processes', async () => {
    const result = await run([String(tcpPort), String(udpPort), hostSocket, hostFile, script, volume]);
    expect(result.stderr).toBe('');
    const attempts = JSON.parse(result.stdout) as Record<string, string | number>;
    expect(attempts).toMatchObject({
      tcpLoopback: 'blocked: ENETUNREACH',
      udp: 'blocked: ENETUNREACH',
      hostUnixSocket: 'blocked: ENOENT',
      readHostFile: 'blocked: ENOENT',
      readAllowed: 'allowed',
      writeAllowedReadOnly: 'blocked: EROFS',
      writeVolume: 'allowed',
      processes: 1,
      pid: 1,
    });
    // localhost does not even resolve to a reachable address, and a resolver of its own reaches nobody.
    expect(attempts.tcpLocalhost).toMatch(/^blocked: /);
    expect(attempts.dns).toMatch(/^blocked: /);
    expect(udpSeen).toEqual([]);
    expect(readFileSync(join(volume, 'ok'), 'utf8')).toBe('x');
  });

  it('runs the same script unsandboxed with the network it then has (the control for the test above)', async () => {
    const child = spawn(process.execPath, [script, String(tcpPort), String(udpPort), hostSocket, hostFile, script, volume], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await new Promise((resolve) => child.once('close', resolve));
    const attempts = JSON.parse(stdout) as Record<string, string>;
    expect(attempts).toMatchObject({ tcpLoopback: 'allowed', udp: 'allowed', hostUnixSocket: 'allowed', readHostFile: 'allowed' });
  });
});
