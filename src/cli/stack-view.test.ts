// `status` and `get pods` say why a pod last stopped: its exit, restart count, backoff and stderr's end,
// with whatever escape sequences a pod wrote shown as text.
import { describe, expect, it } from 'vitest';
import type { PodStatus } from '../control-plane/admin-routes.ts';
import { formatTerminations } from './stack-view.ts';

const pod = (extra: Partial<PodStatus>): PodStatus => ({
  namespace: 'trustusbank-bank-mcp',
  name: 'account-mcp-abc',
  workload: 'account-mcp',
  identity: 'spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/account-mcp',
  ip: '10.244.0.3',
  image: 'trustusbank/account-mcp:1.0.0',
  digest: 'sha256:0',
  phase: 'Running',
  ready: true,
  restarts: 0,
  nativeAddons: true,
  policies: [],
  ...extra,
});

describe('formatTerminations', () => {
  it('is empty for pods that never stopped', () => {
    expect(formatTerminations([pod({})])).toBe('');
  });

  it('gives the exit, the restarts, when the next start is due and the end of stderr', () => {
    const now = new Date('2026-12-02T14:00:00.000Z');
    const text = formatTerminations(
      [
        pod({}),
        pod({
          phase: 'CrashLoopBackOff',
          ready: false,
          restarts: 4,
          nextStartAt: '2026-12-02T14:00:07.500Z',
          lastTermination: { exitCode: 1, signal: null, reason: 'Error', startedAt: '2026-12-02T13:59:58.000Z', finishedAt: '2026-12-02T13:59:59.000Z', stderr: ['account-mcp: cannot use the database /d/accounts.sqlite: file is not a database (SQLITE_NOTADB)', '\u001b[2Jgone'] },
        }),
        pod({ name: 'ticket-mcp-x', restarts: 1, lastTermination: { exitCode: null, signal: 'SIGKILL', reason: 'Error', startedAt: '', finishedAt: '2026-12-02T13:00:00.000Z', stderr: [] } }),
      ],
      now,
    );
    expect(text).toBe(
      [
        'Last termination:',
        '  trustusbank-bank-mcp/account-mcp-abc: exit code 1 (Error) at 2026-12-02T13:59:59.000Z, 4 restarts, next start in 8 s',
        '    | account-mcp: cannot use the database /d/accounts.sqlite: file is not a database (SQLITE_NOTADB)',
        '    | \\x1b[2Jgone',
        '  trustusbank-bank-mcp/ticket-mcp-x: killed by SIGKILL (Error) at 2026-12-02T13:00:00.000Z, 1 restart',
        '    (nothing on stderr)',
      ].join('\n'),
    );
  });
});
