// Email notifications: the template data Alertmanager gives a notification template (template.Data), and
// delivery over real SMTP with nodemailer. Header values are rendered from alert labels, which a compromised
// workload can shape; line breaks are flattened so a label can never add a header or a recipient.
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { Alert } from './alerts.ts';
import type { EmailConfig } from './config.ts';
import type { Deliver, Notification } from './dispatch.ts';
import type { Labels } from './labels.ts';
import { GoTime, KV } from './template.ts';

const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

interface TemplateAlert {
  Status: 'firing' | 'resolved';
  Labels: KV;
  Annotations: KV;
  StartsAt: GoTime;
  EndsAt: GoTime;
  GeneratorURL: string;
  Fingerprint: string;
}

type TemplateAlerts = TemplateAlert[] & { Firing(): TemplateAlert[]; Resolved(): TemplateAlert[] };

function alertList(items: TemplateAlert[]): TemplateAlerts {
  const list = items as TemplateAlerts;
  list.Firing = () => alertList(items.filter((a) => a.Status === 'firing'));
  list.Resolved = () => alertList(items.filter((a) => a.Status === 'resolved'));
  return list;
}

function common(maps: readonly Labels[]): Record<string, string> {
  if (maps.length === 0) return {};
  const [first, ...rest] = maps as [Labels, ...Labels[]];
  return Object.fromEntries(Object.entries(first).filter(([name, value]) => rest.every((m) => m[name] === value)));
}

export function templateData(notification: Notification, externalURL: string): Record<string, unknown> {
  const { alerts, now } = notification;
  const items = alerts.map(
    (a: Alert): TemplateAlert => ({
      Status: a.endsAt !== 0 && a.endsAt <= now ? 'resolved' : 'firing',
      Labels: new KV(a.labels),
      Annotations: new KV(a.annotations),
      StartsAt: new GoTime(a.startsAt),
      EndsAt: new GoTime(a.endsAt === 0 ? ZERO_TIME : a.endsAt),
      GeneratorURL: a.generatorURL,
      Fingerprint: a.fingerprint,
    }),
  );
  const list = alertList(items);
  return {
    Receiver: notification.receiver,
    Status: list.Firing().length > 0 ? 'firing' : 'resolved',
    Alerts: list,
    GroupLabels: new KV(notification.groupLabels),
    CommonLabels: new KV(common(alerts.map((a) => a.labels))),
    CommonAnnotations: new KV(common(alerts.map((a) => a.annotations))),
    ExternalURL: externalURL,
  };
}

export interface RenderedEmail {
  from: string;
  to: string;
  subject: string;
  headers: Record<string, string>;
  text?: string;
  html?: string;
}

function oneLine(value: string): string {
  return value.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
}

/** Pure: the mail one notification becomes. */
export function renderEmail(integration: EmailConfig, notification: Notification, externalURL: string): RenderedEmail {
  const data = templateData(notification, externalURL);
  const headers: Record<string, string> = {};
  let subject = '';
  for (const [name, template] of integration.headers) {
    const value = oneLine(template.render(data));
    if (name === 'Subject') subject = value;
    else if (!['From', 'To', 'Cc', 'Bcc', 'Reply-To', 'Sender'].includes(name)) headers[name] = value;
  }
  return {
    from: integration.from,
    to: integration.to,
    subject,
    headers,
    text: integration.text?.render(data),
    html: integration.html?.render(data),
  };
}

/** A Deliver that sends over SMTP; one pooled transport per smarthost. */
export function smtpDeliver(externalURL: string): { deliver: Deliver; close(): void } {
  const transports = new Map<string, Transporter>();
  const transportFor = (integration: EmailConfig): Transporter => {
    const key = `${integration.smarthost.host}:${integration.smarthost.port}:${integration.requireTls}:${integration.hello}`;
    let transport = transports.get(key);
    if (!transport) {
      transport = nodemailer.createTransport({
        host: integration.smarthost.host,
        port: integration.smarthost.port,
        secure: false,
        requireTLS: integration.requireTls,
        ignoreTLS: !integration.requireTls,
        name: integration.hello,
        pool: true,
        maxConnections: 2,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      });
      transports.set(key, transport);
    }
    return transport;
  };
  return {
    async deliver(integration, notification) {
      const mail = renderEmail(integration, notification, externalURL);
      await transportFor(integration).sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        headers: mail.headers,
        text: mail.text,
        html: mail.html,
        disableUrlAccess: true,
        disableFileAccess: true,
      });
    },
    close() {
      for (const transport of transports.values()) transport.close();
      transports.clear();
    },
  };
}
