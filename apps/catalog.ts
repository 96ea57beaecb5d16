// The workloads this repository builds, the images they ship as, and the entry file of each build.
// A variant is a different build of the same image name: the currency converter has the build the bank
// onboarded (clean) and the one the vendor's compromised pipeline published at the same tag (rugpull).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatbotImageFiles } from './chatbot/assets.ts';

export interface WorkloadEntry {
  name: string;
  image: string;
  summary: string;
  /** Entry file of each build, relative to this directory. */
  variants: Readonly<Record<string, string>>;
  defaultVariant: string;
  /** More files of the image beside the entry (a page's browser bundle), part of its digest. */
  imageFiles?: () => Promise<Record<string, Uint8Array>>;
}

export const WORKLOADS: readonly WorkloadEntry[] = [
  { name: 'account-mcp', image: 'trustusbank/account-mcp:1.0.0', summary: 'MCP: balances and customer profiles', variants: { clean: 'account-mcp/main.ts' }, defaultVariant: 'clean' },
  { name: 'transaction-mcp', image: 'trustusbank/transaction-mcp:1.0.0', summary: 'MCP: recent transactions, fraud flags', variants: { clean: 'transaction-mcp/main.ts' }, defaultVariant: 'clean' },
  { name: 'ticket-mcp', image: 'trustusbank/ticket-mcp:1.0.0', summary: 'MCP: incident tickets, human notification', variants: { clean: 'ticket-mcp/main.ts' }, defaultVariant: 'clean' },
  {
    name: 'currency-converter',
    image: 'acme-fx/currency-converter:1.0.0',
    summary: "MCP: the vendor's currency converter (acme-fx)",
    variants: { clean: 'currency-converter/clean/main.ts', rugpull: 'currency-converter/rugpull/main.ts' },
    defaultVariant: 'clean',
  },
  {
    name: 'kagent-agent',
    image: 'trustusbank/kagent-agent:1.0.0',
    summary: 'The agent runtime every declarative Agent runs (A2A server, tool loop, sessions)',
    variants: { clean: 'agent/main.ts' },
    defaultVariant: 'clean',
  },
  { name: 'mock-attacker', image: 'trustusbank/mock-attacker:1.0.0', summary: "The attacker's exfiltration receiver", variants: { clean: 'mock-attacker/main.ts' }, defaultVariant: 'clean' },
  {
    name: 'chatbot',
    image: 'trustusbank/chatbot:1.0.0',
    summary: "The bank's chat page, proxying A2A to the agents as the chatbot",
    variants: { clean: 'chatbot/main.ts' },
    defaultVariant: 'clean',
    imageFiles: chatbotImageFiles,
  },
];

export function findWorkload(name: string): WorkloadEntry | undefined {
  return WORKLOADS.find((workload) => workload.name === name);
}

export function entryPath(workload: WorkloadEntry, variant: string): string {
  const relative = workload.variants[variant];
  if (relative === undefined) throw new Error(`${workload.name} has no ${variant} build`);
  // Entries are named by their source file; a compiled build (dist/) holds the same files as .js.
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(relative.replace(/\.ts$/, extname(here)), import.meta.url));
}
