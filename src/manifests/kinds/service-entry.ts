// Istio ServiceEntry (networking.istio.io): a host outside the mesh that workloads may reach when the mesh's
// outboundTrafficPolicy is REGISTRY_ONLY. The subset ztunnel's egress check needs: hosts (exact or `*.`
// wildcard), addresses (IPs or CIDRs), ports, MESH_EXTERNAL, resolution NONE or DNS, exportTo.
import { isIP } from 'node:net';
import { z } from 'zod';
import { kubeObject, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { ServiceEntry } from '../types.ts';
import { parseIpBlock } from '../../mesh/authz/ip.ts';

export const SERVICE_ENTRY_API_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'] as const;

const HOSTNAME = /^(?:\*\.)?(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const host = z.string().superRefine((value, ctx) => {
  if (isIP(value) !== 0) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is an IP address: put it in addresses` });
  else if (!HOSTNAME.test(value)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a DNS name (a leading "*." wildcard is allowed; IP addresses go in addresses)` });
});

const address = z.string().superRefine((value, ctx) => {
  if (parseIpBlock(value) === undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not an IP address or CIDR block` });
});

const port = kubeObject(
  {
    number: z.number().int().min(1).max(65535),
    protocol: z.string().optional(),
    name: z.string().min(1),
    targetPort: z.number().int().min(1).max(65535).optional(),
  },
  { upstream: 'Istio' },
);

const serviceEntrySpec = kubeObject(
  {
    hosts: z.array(host).min(1, 'needs at least one host'),
    addresses: z.array(address).optional(),
    ports: z.array(port).min(1, 'needs at least one port (ztunnel allows only the ports named)'),
    location: supportedValue(['MESH_EXTERNAL'], { what: 'location', unsupported: ['MESH_INTERNAL'], upstream: 'Istio' }).optional(),
    resolution: supportedValue(['NONE', 'DNS', 'DNS_ROUND_ROBIN'], { what: 'resolution', unsupported: ['STATIC'], upstream: 'Istio' }).optional(),
    exportTo: z.array(z.string().regex(/^(?:\.|\*)$/, 'TrustUsBank supports exportTo "." (this namespace) and "*" (every namespace)')).optional(),
  },
  { upstream: 'Istio', unsupported: ['endpoints', 'workloadSelector', 'subjectAltNames'] },
);

export const serviceEntrySchema = kubeObject(
  {
    apiVersion: z.enum(SERVICE_ENTRY_API_VERSIONS),
    kind: z.literal('ServiceEntry'),
    metadata: objectMeta(dns1123SubdomainProblem),
    spec: serviceEntrySpec,
  },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _ServiceEntrySchemaMatchesType = Expect<SameShape<z.output<typeof serviceEntrySchema>, ServiceEntry>>;
