// TLS contexts for SVIDs. Building one parses the chain, the key and the trust bundle (~2 ms), so each
// (SVID, trust bundle) pair is built once and shared by every client and server in the process. Keyed by the
// Svid object: a renewed SVID is a new object and gets its own context; the old one goes with its SVID.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Svid } from '../ca/index.ts';

const contexts = new WeakMap<Svid, Map<string, SecureContext>>();

export function secureContextFor(svid: Svid, trustBundlePem: string): SecureContext {
  let byTrust = contexts.get(svid);
  if (!byTrust) {
    byTrust = new Map();
    contexts.set(svid, byTrust);
  }
  let context = byTrust.get(trustBundlePem);
  if (!context) {
    context = createSecureContext({ cert: svid.certificateChainPem, key: svid.privateKeyPem, ca: trustBundlePem, minVersion: 'TLSv1.3' });
    byTrust.set(trustBundlePem, context);
  }
  return context;
}
