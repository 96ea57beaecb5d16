// The incident pages as HTML: everything escaped (an alert summary or a tool name can come from a compromised
// workload), deadlines with the time left or how long overdue, a clear page when there is no incident.
import { describe, expect, it } from 'vitest';
import type { Incident } from './derive.ts';
import { incidentListPage, incidentPage, timeLeft } from './page.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';
const incident: Incident = {
  id: 'INC-20261202-0001',
  status: 'contained',
  cause: { key: 'trustusbank-bank-vendors/currency-converter', namespace: 'trustusbank-bank-vendors', workload: 'currency-converter' },
  title: `currency-converter ${HOSTILE}`,
  detectedAt: '2026-12-02T10:00:00.000Z',
  classifiedAt: '2026-12-02T10:00:00.000Z',
  containedAt: '2026-12-02T10:01:00.000Z',
  classification: { major: true, basis: 'Art. 8', criteria: [{ criterion: 'Data losses', article: 'Art. 5', met: true, evidence: `1 connection completed ${HOSTILE}` }] },
  thirdParty: { name: 'currency-converter', namespace: 'trustusbank-bank-vendors', workload: 'currency-converter', image: 'acme-fx/currency-converter:1.0.0', publisher: 'Acme FX', thirdParty: true, dora: { providerLegalName: 'Acme FX Ltd', lei: 'ACMEFX00ACMEFXLTD070', country: 'GB', functionSupported: 'FX', criticality: 'important', dataLocations: ['GB'], contractReference: 'C-1' } },
  rootCause: ['same-tag image change: sha256:a → sha256:b'],
  alerts: ['BankToAttackerAttempt', 'IstioAuthZDeny'],
  timeline: [{ time: '2026-12-02T10:00:00.000Z', seq: 7, kind: 'alert.firing', what: `BankToAttackerAttempt ${HOSTILE}` }],
  deadlines: { initialNotification: '2026-12-02T14:00:00.000Z', intermediateReport: '2026-12-05T14:00:00.000Z', finalReport: '2027-01-05T14:00:00.000Z' },
  links: { ledgerSeqs: [7], mails: [`[FIRING:1] ${HOSTILE}`], traceIds: ['ab'.repeat(16)] },
};
const NOW = Date.parse('2026-12-02T13:00:00.000Z');

describe('the incident pages', () => {
  it('says the time left before each deadline, or how long it is overdue', () => {
    expect(timeLeft('2026-12-02T14:00:00.000Z', NOW)).toEqual({ text: '1 h 0 min left', overdue: false });
    expect(timeLeft('2026-12-02T12:30:00.000Z', NOW)).toEqual({ text: 'overdue by 0 h 30 min', overdue: true });
    expect(timeLeft('2026-12-05T14:00:00.000Z', NOW)).toEqual({ text: '3 d 1 h left', overdue: false });
  });

  it('lists incidents with a link to each, and says so plainly when there is none', () => {
    const list = incidentListPage([incident], NOW);
    expect(list).toContain('<a href="/incidents/INC-20261202-0001">INC-20261202-0001</a>');
    expect(list).toContain('Acme FX Ltd');
    expect(list).toContain('1 h 0 min left');
    expect(incidentListPage([], NOW)).toContain('No incident: no critical alert has fired.');
  });

  it('shows the whole record with its evidence links, everything escaped', () => {
    const page = incidentPage(incident, { traces: 'http://127.0.0.1:18003/', inbox: 'http://127.0.0.1:18012/', prometheus: 'http://127.0.0.1:18002' }, NOW);
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    for (const part of ['Data losses', 'Art. 5', 'ACMEFX00ACMEFXLTD070', 'same-tag image change', '<a href="/api/ledger/7">#7</a>', `http://127.0.0.1:18003/trace/${'ab'.repeat(16)}`, 'http://127.0.0.1:18002/api/v1/alerts', '1 h 0 min left']) {
      expect(page, part).toContain(part);
    }
    expect(page).not.toContain('overdue by');
    expect(incidentPage(incident, {}, Date.parse('2026-12-02T15:00:00.000Z'))).toContain('<td class="overdue">overdue by 1 h 0 min</td>');
  });
});
