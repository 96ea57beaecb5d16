// The demo's reading of the SOC: a step's alerts only once the rules have seen the step, alerts still firing from
// an earlier step not counted again, mail given to the step whose alert it reports, and a missing mail reported.
import { describe, expect, it } from 'vitest';
import type { AlertsNow, Mail } from './demo.ts';
import { SocWatch } from './soc.ts';

const alert = (name: string, labels: Record<string, string>, summary: string) => ({ name, state: 'firing', labels, annotations: { summary } });
const ATTEMPT = alert('BankToAttackerAttempt', { source_workload: 'currency-converter' }, 'currency-converter (trustusbank-bank-vendors) is connecting to the external attacker');
const DENY = alert('IstioAuthZDeny', { source_workload: 'currency-converter' }, 'Mesh denied currency-converter (trustusbank-bank-vendors) connecting to mock-attacker.external-attacker');

function fakeStack() {
  const state = { alerts: [] as AlertsNow['alerts'], evaluatedThrough: undefined as number | undefined, mails: [] as Mail[], reads: 0 };
  return {
    state,
    api: {
      alerts: async (): Promise<AlertsNow> => {
        state.reads++;
        return { alerts: state.alerts, evaluatedThrough: state.evaluatedThrough };
      },
      mails: async () => state.mails,
    },
  };
}

describe('SocWatch', () => {
  it("waits until the rules have evaluated the step before reading its alerts, and counts an alert once, in the step that raised it", async () => {
    const { state, api } = fakeStack();
    const soc = new SocWatch(api, { pollMs: 5 });
    state.evaluatedThrough = Date.now() - 1_000; // an evaluation from before the step
    const one = Date.now();
    const pending = soc.endStep('Act 2', one);
    // The alert the step raised shows only in a later evaluation.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(state.reads).toBeGreaterThan(1);
    state.alerts = [ATTEMPT];
    state.evaluatedThrough = Date.now() + 1;
    const two = await pending;
    expect(two).toEqual({ alertsFiring: ['BankToAttackerAttempt'], newAlerts: [{ name: 'BankToAttackerAttempt', labels: ATTEMPT.labels, summary: ATTEMPT.annotations.summary }], mails: [] });

    state.alerts = [ATTEMPT, DENY, { ...DENY, name: 'Pending', state: 'pending' }];
    state.evaluatedThrough = Date.now() + 60_000;
    const three = await soc.endStep('Act 3', Date.now());
    expect(three.alertsFiring).toEqual(['BankToAttackerAttempt', 'IstioAuthZDeny']);
    expect(three.newAlerts.map((a) => a.name)).toEqual(['IstioAuthZDeny']);
    expect(soc.problems).toEqual([]);
  });

  it('gives each step the mail about its own alerts, and a mail about both to both', async () => {
    const { state, api } = fakeStack();
    const soc = new SocWatch(api, { pollMs: 5, mailTimeoutMs: 2_000 });
    state.evaluatedThrough = Date.now() + 60_000;
    const t2 = Date.now() - 100;
    state.alerts = [ATTEMPT];
    // As the demo uses it: spread into a receipt before the mail is collected.
    const two = { ...(await soc.endStep('Act 2', t2)) };
    const t3 = Date.now();
    state.alerts = [ATTEMPT, DENY];
    const three = await soc.endStep('Act 3', t3);
    state.mails = [
      { subject: '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert', text: `Summary: ${DENY.annotations.summary}\n`, created: t3 + 10_000 },
      { subject: '[FIRING:1] BankToAttackerAttempt — TrustUsBank SOC alert', text: `Summary: ${ATTEMPT.annotations.summary}\n`, created: t3 + 1 },
      // Same name, another alert's summary: not this step's mail.
      { subject: '[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert', text: 'Summary: Mesh denied support-bot\n', created: t3 + 5 },
    ];
    await soc.collectMails();
    expect(two.mails.map((m) => m.subject)).toEqual(['[FIRING:1] BankToAttackerAttempt — TrustUsBank SOC alert']);
    expect(three.mails.map((m) => m.subject)).toEqual(['[FIRING:1] IstioAuthZDeny — TrustUsBank SOC alert']);
    expect(three.mails[0]!.receivedAt).toBe(new Date(t3 + 10_000).toISOString());
    expect(soc.problems).toEqual([]);
  });

  it('says so when the rules never evaluate the step, or a raised alert gets no mail, instead of waiting forever', async () => {
    const { state, api } = fakeStack();
    const soc = new SocWatch(api, { pollMs: 5, settleTimeoutMs: 50, mailTimeoutMs: 50 });
    state.alerts = [DENY];
    const stuck = await soc.endStep('Act 3', Date.now());
    expect(soc.problems).toEqual([expect.stringMatching(/^Act 3: the rules had not evaluated the step's metrics/)]);
    expect(stuck.newAlerts.map((a) => a.name)).toEqual(['IstioAuthZDeny']);
    await soc.collectMails();
    expect(soc.problems[1]).toMatch(/^no SOC mail about IstioAuthZDeny within 0.05 s of the alert$/);
  });
});
