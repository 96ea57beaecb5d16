import { describe, expect, it } from 'vitest';
import { LAYER_FILES } from '../scenario.ts';
import { readManifestDocuments } from '../manifests/load.ts';
import { actionOf } from './server.ts';
import { alertsOf, converterOf, incidentOf, layerState, mailOf, resourcesOf } from './snapshot.ts';
import { uiLinks } from './uis.ts';

describe("the control room's view of the stack", () => {
  it("knows each layer by the resources of the demo's own policy files", () => {
    const mesh = resourcesOf(readManifestDocuments(LAYER_FILES.mesh, []));
    expect(mesh).toContainEqual({ kind: 'AuthorizationPolicy', namespace: 'external-attacker', name: 'deny-bank-to-attacker' });
    expect(resourcesOf(readManifestDocuments(LAYER_FILES.admission, []))).toEqual([{ kind: 'ClusterPolicy', name: expect.any(String) }]);
    expect([layerState(0, 3), layerState(2, 3), layerState(3, 3), layerState(0, 0)]).toEqual(['off', 'partly on', 'on', 'off']);
  });

  it('names the converter behind the tag, its build and who signed it', () => {
    const images = { images: [{ ref: 'trustusbank/account-mcp:1.0.0', digest: 'sha256:aa', signers: [] }, { ref: 'acme-fx/currency-converter:1.0.0', digest: 'sha256:bb', variant: 'rugpull', signers: [{ signer: 'attacker', keyId: 'k' }] }] };
    expect(converterOf(images)).toEqual({ image: 'acme-fx/currency-converter:1.0.0', digest: 'sha256:bb', variant: 'rugpull', signers: ['attacker'] });
    expect(converterOf({ images: [] })).toBeUndefined();
  });

  it('shows the alerts with their summary and the newest mail', () => {
    expect(alertsOf({ alerts: [{ name: 'ExfilAttempt', state: 'firing', annotations: { summary: 'the converter called out' }, activeAt: 't' }] })).toEqual([{ name: 'ExfilAttempt', state: 'firing', summary: 'the converter called out', activeAt: 't' }]);
    expect(mailOf({ messages: [] })).toEqual({ count: 0 });
    expect(mailOf({ messages: [{ subject: 'new', from: 'a', to: ['soc'], created: Date.UTC(2026, 11, 2, 16, 45) }, { subject: 'old', from: 'a', to: ['soc'], created: 1 }] })).toEqual({ count: 2, latest: { subject: 'new', from: 'a', to: ['soc'], created: '2026-12-02T16:45:00.000Z' } });
  });

  it('shows the open incident first, else the newest, and none before a critical alert', () => {
    const incident = (id: string, status: string) => ({ id, title: `t ${id}`, status, detectedAt: 'd', classification: { major: id === 'INC-2' }, deadlines: { initialNotification: 'by' } });
    expect(incidentOf({ incidents: [incident('INC-3', 'contained'), incident('INC-2', 'open')] })).toEqual({ id: 'INC-2', title: 't INC-2', status: 'open', major: true, detectedAt: 'd', initialNotification: 'by' });
    expect(incidentOf({ incidents: [incident('INC-3', 'contained')] })?.id).toBe('INC-3');
    expect(incidentOf({ incidents: [] })).toBeUndefined();
  });

  it('links every UI with a host port, and the planned ones as not yet', () => {
    const links = uiLinks([
      { namespace: 'trustusbank-bank-frontend', service: 'chatbot', url: 'http://127.0.0.1:18009/' },
      { namespace: 'trustusbank-platform', service: 'prometheus', url: 'http://127.0.0.1:18002/' },
    ]);
    expect(links).toEqual([
      { name: 'chatbot', label: "Bank's chatbot", url: 'http://127.0.0.1:18009/' },
      { name: 'prometheus', label: 'Prometheus (metrics, alerts, PromQL)', url: 'http://127.0.0.1:18002/' },
      { name: 'evidence', label: 'Evidence dashboard', plannedPort: 18001 },
    ]);
  });

  it('maps the API paths to actions and nothing else', () => {
    expect(actionOf('/api/layers/access-policy/off')).toEqual({ action: 'layer', layer: 'access-policy', on: false });
    expect(actionOf('/api/actions/demo')).toEqual({ action: 'demo' });
    for (const path of ['/api/layers/mesh/maybe', '/api/layers/__proto__/on', '/api/actions/toString', '/api/actions/reset/']) expect(actionOf(path)).toBeUndefined();
  });
});
