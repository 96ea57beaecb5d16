// The inbox's SMTP side (smtp-server): plain SMTP on loopback, no AUTH or STARTTLS, a size limit advertised
// and enforced (552), a message that is not a mail refused (554), bounded recipients and clients. A bad
// client gets an SMTP error and the server keeps running.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { UserError } from '../../core/errors.ts';
import type { StoredMessage } from './message.ts';
import { MalformedMessageError, decodeMessage } from './message.ts';

export interface SmtpOptions {
  host: string;
  port: number;
  /** How the user moves the port (for the "port in use" error). */
  portHint?: string;
  maxMessageBytes: number;
  maxRecipients: number;
  now: () => number;
  accept: (message: StoredMessage) => void;
  /** A message refused with this SMTP code (counted by the inbox's /metrics). */
  refused?: (code: number) => void;
  log: (message: string) => void;
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

const NO_COUNT = (): void => undefined;

export function newMessageId(): string {
  return `${randomBytes(12).toString('base64url')}@trustusbank.inbox`;
}

export async function startSmtp(options: SmtpOptions): Promise<{ port: number; close(): Promise<void> }> {
  const refused = options.refused ?? NO_COUNT;
  const server = new SMTPServer({
    banner: 'TrustUsBank SOC inbox',
    size: options.maxMessageBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    maxClients: 20,
    socketTimeout: 30_000,
    closeTimeout: 1_000,
    logger: false,
    onRcptTo(_address, session, callback) {
      if (session.envelope.rcptTo.length >= options.maxRecipients) return callback(smtpError(452, `too many recipients (at most ${options.maxRecipients})`));
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit, keep reading (the client is still sending) but stop keeping.
        if (size <= options.maxMessageBytes) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          refused(552);
          return callback(smtpError(552, `message exceeds fixed maximum message size ${options.maxMessageBytes}`));
        }
        const raw = Buffer.concat(chunks);
        decodeMessage(raw).then(
          (decoded) => {
            const mailFrom = session.envelope.mailFrom;
            options.accept({
              id: newMessageId(),
              created: options.now(),
              helo: session.hostNameAppearsAs ?? '',
              envelopeFrom: mailFrom ? mailFrom.address : '',
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              raw: raw.toString('utf8'),
              decoded,
            });
            callback();
          },
          (error: unknown) => {
            const code = error instanceof MalformedMessageError ? 554 : 451;
            refused(code);
            callback(code === 554 ? smtpError(554, `5.6.0 ${(error as Error).message}`) : smtpError(451, 'could not store the message'));
          },
        );
      });
    },
  });
  server.on('error', (error: Error) => options.log(`smtp: ${error.message}`));
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(error.code === 'EADDRINUSE' ? new UserError(`port ${options.port} on ${options.host} is already in use; choose another with ${options.portHint ?? 'another SMTP port for the inbox'}`) : error);
    };
    server.server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
