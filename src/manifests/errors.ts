// Manifest problems are collected, never thrown one at a time: a user fixing a file wants every problem in
// it at once, and nothing may be applied while any remains (shared DESIGN.md, principle 5).
import { UserError } from '../core/errors.ts';

export interface ManifestIssue {
  file: string;
  /** 0-based position of the YAML document in its file, as `DocumentOrigin.index`. */
  index: number;
  /** What the document says it is, when it says so: lets the message name the object, not just the file. */
  kind?: string;
  namespace?: string;
  name?: string;
  /** Readable field path (`spec.ports[0].port`); empty when the problem is the document as a whole. */
  path: string;
  message: string;
  /** 1-based position in the file, when the YAML source could locate the field. */
  line?: number;
  column?: number;
}

/** `deploy/x.yaml: document 2 (Deployment trustusbank-bank-mcp/account-mcp): spec.replicas: must be at least 0 (line 9)` */
export function formatIssue(issue: ManifestIssue): string {
  const subject = issue.kind === undefined ? '' : ` (${[issue.kind, objectName(issue)].filter(Boolean).join(' ')})`;
  const where = issue.path === '' ? '' : `${issue.path}: `;
  const position = issue.line === undefined ? '' : issue.column === undefined ? ` (line ${issue.line})` : ` (line ${issue.line}, column ${issue.column})`;
  return `${issue.file}: document ${issue.index}${subject}: ${where}${issue.message}${position}`;
}

function objectName(issue: ManifestIssue): string {
  if (issue.name === undefined) return '';
  return issue.namespace === undefined ? issue.name : `${issue.namespace}/${issue.name}`;
}

/** Every problem found in a set of manifests; its message lists them one per line. */
export class ManifestError extends UserError {
  override readonly name = 'ManifestError';
  constructor(readonly issues: readonly ManifestIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}
