// alertmanager.yaml: the shipped file loads as the SOC routing the seed describes; bad files are refused
// with the path of the field at fault, as amtool check-config would refuse them (or where we do less).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAlertmanagerConfig } from './config.ts';
import { AlertmanagerConfigError } from './errors.ts';
import { matchRoutes } from './route.ts';

const SHIPPED = join(import.meta.dirname, '..', '..', '..', 'deploy', 'manifests', 'evidence', 'alertmanager.yaml');

describe('the shipped alertmanager.yaml', () => {
  const config = parseAlertmanagerConfig(readFileSync(SHIPPED, 'utf8'));

  it('groups by alertname and source namespace with the seed timings', () => {
    const [route] = matchRoutes(config.route, { alertname: 'IstioAuthZDeny', severity: 'critical', source_workload_namespace: 'trustusbank-vendors' });
    expect(route).toMatchObject({ receiver: 'soc-email', groupBy: ['alertname', 'source_workload_namespace'], groupWait: 10_000, groupInterval: 30_000, repeatInterval: 120_000 });
  });

  it('groups the agent layer by gateway', () => {
    const [route] = matchRoutes(config.route, { alertname: 'KagentAccessPolicyDeny', gateway: 'agentgateway' });
    expect(route?.groupBy).toEqual(['alertname', 'gateway']);
  });

  it('mails from alerts@ to soc@ without TLS on loopback', () => {
    const email = config.receivers.get('soc-email')?.emailConfigs[0];
    expect(email).toMatchObject({ from: 'alerts@trustusbank.example', to: 'soc@trustusbank.example', requireTls: false, smarthost: { host: '127.0.0.1', port: 1025 } });
  });
});

const base = (extra: string) => `route: { receiver: r }\nreceivers: [{ name: r, email_configs: [{ to: a@b, from: c@d, smarthost: 'h:25', text: x }] }]\n${extra}`;

describe('refused configs name the field', () => {
  it.each([
    ['route: {}\nreceivers: []', 'route.receiver: the root route must have a receiver'],
    ['route: { receiver: nobody }\nreceivers: []', 'undefined receiver "nobody" used in route'],
    ['route: { receiver: r, matchers: [\'a="b"\'] }\nreceivers: [{ name: r }]', 'route: the root route must not have any matchers'],
    ['route: { receiver: r, group_wait: soon }\nreceivers: [{ name: r }]', 'route.group_wait: "soon" is not a duration'],
    ['route: { receiver: r, group_by: [alertname, "..."] }\nreceivers: [{ name: r }]', "'...' must be the only entry"],
    ['route: { receiver: r, routes: [{ matchers: [\'a=~"(?=x)"\'] }] }\nreceivers: [{ name: r }]', 'route.routes[0].matchers[0]: bad matcher'],
    ['route: { receiver: r, routes: [{ matchers: [\'a ~ b\'] }] }\nreceivers: [{ name: r }]', 'expected one of =, !=, =~, !~'],
    ['route: { receiver: r, grup_by: [a] }\nreceivers: [{ name: r }]', 'route.grup_by: unknown field'],
    ['route: { receiver: r }\nreceivers: [{ name: r, webhook_configs: [{ url: "http://x" }] }]', 'receivers[0].webhook_configs: not supported'],
    ['route: { receiver: r }\nreceivers: [{ name: r }, { name: r }]', 'receivers[1].name: notification config name "r" is not unique'],
    ['route: { receiver: r }\nreceivers: [{ name: r, email_configs: [{ to: a@b, from: c@d, smarthost: "h:25" }] }]', 'set html and/or text'],
    ['route: { receiver: r }\nreceivers: [{ name: r, email_configs: [{ to: a@b, smarthost: "h:25", text: x }] }]', 'email_configs[0].from: no from address'],
    ['route: { receiver: r }\nreceivers: [{ name: r, email_configs: [{ to: a@b, from: c@d, smarthost: "h", text: x }] }]', 'email_configs[0].smarthost: "h" is not host:port'],
    ['route: { receiver: r }\nreceivers: [{ name: r, email_configs: [{ to: a@b, from: c@d, smarthost: "h:25", text: "{{ template \\"x\\" . }}" }] }]', 'email_configs[0].text: template:'],
    [base('templates: [/etc/am/*.tmpl]'), 'templates: template files are not supported'],
    [base('inhibit_rules: [{ source_matchers: [\'severity=\'], target_match: { 1bad: x } }]'), 'inhibit_rules[0].target_match.1bad'],
    ['route: [\n', 'not valid YAML'],
  ])('%s', (yaml, problem) => {
    const attempt = (): unknown => parseAlertmanagerConfig(yaml);
    expect(attempt).toThrow(AlertmanagerConfigError);
    expect(attempt).toThrow(problem);
  });

  it('accepts a minimal config with defaults (30s / 5m / 4h, everything in one group)', () => {
    const config = parseAlertmanagerConfig(base(''));
    expect(config.route).toMatchObject({ groupWait: 30_000, groupInterval: 300_000, repeatInterval: 14_400_000, groupBy: [] });
    expect(config.resolveTimeout).toBe(300_000);
  });
});
