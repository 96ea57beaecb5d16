// Support tickets and the notifications sent about them. Each escalation is an incident record, so tickets
// are only ever added to, never rewritten.
import { randomBytes } from 'node:crypto';
import type { Db } from '../lib/sqlite.ts';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const CHANNELS = ['slack', 'email', 'pager'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type Channel = (typeof CHANNELS)[number];

export interface Ticket {
  ticket_id: string;
  customer_id: string;
  summary: string;
  severity: Severity;
  status: 'open';
  created_at: string;
}

export class TicketStore {
  constructor(
    private readonly db: Db,
    private readonly newId: () => string = () => `TICK-${randomBytes(4).toString('hex').toUpperCase()}`,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS tickets (
      ticket_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, summary TEXT NOT NULL, severity TEXT NOT NULL,
      status TEXT NOT NULL, created_at TEXT NOT NULL)`);
    db.exec(`CREATE TABLE IF NOT EXISTS notifications (
      id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL REFERENCES tickets(ticket_id),
      channel TEXT NOT NULL, notified_at TEXT NOT NULL)`);
  }

  create(customerId: string, summary: string, severity: Severity, now = new Date()): Ticket {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO tickets (ticket_id, customer_id, summary, severity, status, created_at) VALUES (?, ?, ?, ?, 'open', ?)`,
    );
    // 32 random bits: a clash is rare but possible, so try another id rather than overwrite a ticket.
    for (let attempt = 0; attempt < 8; attempt++) {
      const ticket: Ticket = { ticket_id: this.newId(), customer_id: customerId, summary, severity, status: 'open', created_at: now.toISOString() };
      if (insert.run(ticket.ticket_id, customerId, summary, severity, ticket.created_at).changes === 1) return ticket;
    }
    throw new Error('could not allocate a unique ticket id');
  }

  ticket(ticketId: string): Ticket | undefined {
    return this.db.prepare('SELECT * FROM tickets WHERE ticket_id = ?').get(ticketId) as Ticket | undefined;
  }

  /** Record a notification; false when the ticket does not exist. */
  notify(ticketId: string, channel: Channel, now = new Date()): boolean {
    if (!this.ticket(ticketId)) return false;
    this.db.prepare('INSERT INTO notifications (ticket_id, channel, notified_at) VALUES (?, ?, ?)').run(ticketId, channel, now.toISOString());
    return true;
  }

  notifications(ticketId: string): { channel: Channel; notified_at: string }[] {
    return this.db.prepare('SELECT channel, notified_at FROM notifications WHERE ticket_id = ? ORDER BY id').all(ticketId) as {
      channel: Channel;
      notified_at: string;
    }[];
  }

  close(): void {
    this.db.close();
  }
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

export function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}
