// Every UI of a running stack by a short name: what `up` prints, what the control room links to, what
// `trustusbank open NAME` opens. The names and labels are data; the URLs come from the stack's host forwards.

export interface HostForwardLike {
  namespace: string;
  service: string;
  url: string;
}

export interface UiLink {
  /** What `trustusbank open` takes. */
  name: string;
  label: string;
  /** Undefined when nothing of the stack listens there yet. */
  url?: string;
  /** Where it will be, for a UI that is planned but not served yet. */
  plannedPort?: number;
}

interface UiDefinition {
  name: string;
  label: string;
  service: string;
  plannedPort?: number;
}

export const CONTROL_ROOM_SERVICE = 'control-room';

const UIS: readonly UiDefinition[] = [
  { name: 'control-room', label: 'Control room', service: CONTROL_ROOM_SERVICE },
  { name: 'chatbot', label: "Bank's chatbot", service: 'chatbot' },
  { name: 'attacker', label: "Attacker's loot", service: 'mock-attacker' },
  { name: 'registry', label: 'Registry (drift, DORA register)', service: 'registry' },
  { name: 'prometheus', label: 'Prometheus (metrics, alerts, PromQL)', service: 'prometheus' },
  { name: 'inbox', label: 'SOC inbox', service: 'soc-inbox' },
  { name: 'alertmanager', label: 'Alertmanager API', service: 'alertmanager' },
  { name: 'agents-ui', label: 'Agents UI (sessions)', service: 'agents-ui' },
  { name: 'gateway', label: 'Agent gateway (MCP)', service: 'trustusbank-agentgw' },
  { name: 'evidence', label: 'Evidence dashboard', service: 'evidence-dashboard', plannedPort: 18001 },
  { name: 'traces', label: 'Traces (search, waterfall; Tempo API)', service: 'traces' },
];

export const UI_NAMES: readonly string[] = UIS.map((ui) => ui.name);

export function uiLinks(forwards: readonly HostForwardLike[]): UiLink[] {
  return UIS.flatMap((ui): UiLink[] => {
    const forward = forwards.find((f) => f.service === ui.service);
    if (forward) return [{ name: ui.name, label: ui.label, url: forward.url }];
    // A planned UI is listed as "not yet"; a UI of today without a forward (no host port) is not listed.
    return ui.plannedPort !== undefined ? [{ name: ui.name, label: ui.label, plannedPort: ui.plannedPort }] : [];
  });
}
