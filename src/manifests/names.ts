// Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation), as pure checks that return what is wrong
// or undefined. The engine accepts only names a real API server would accept, so the same files apply there.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SERVICE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Namespaces, container names: at most 63 characters of [a-z0-9-], alphanumeric at both ends. */
export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be at most 63 characters';
  if (!DNS1123_LABEL.test(value)) return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. \"account-mcp\")";
  return undefined;
}

/** Most object names: DNS-1123 labels joined by dots, at most 253 characters. */
export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be at most 253 characters';
  if (!DNS1123_SUBDOMAIN.test(value)) return "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. \"account-mcp\")";
  return undefined;
}

/** Service names become DNS host labels, so Kubernetes also requires them to start with a letter. */
export function dns1035LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be at most 63 characters';
  if (!DNS1035_LABEL.test(value)) return "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. \"account-mcp\")";
  return undefined;
}

/** Label and annotation keys: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix === '') return 'has an empty prefix before "/"';
    const problem = dns1123SubdomainProblem(prefix);
    if (problem) return `has an invalid prefix "${prefix}": ${problem}`;
  }
  if (name === '') return 'needs a name';
  if (name.length > 63) return 'has a name longer than 63 characters';
  if (!QUALIFIED_NAME.test(name)) return "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional \"prefix/\" (e.g. \"app\" or \"app.kubernetes.io/name\")";
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be at most 63 characters';
  if (!LABEL_VALUE.test(value)) return "must be empty or letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
  return undefined;
}

/** Container port names and named target ports (IANA_SVC_NAME): how a probe or a Service refers to a port. */
export function portNameProblem(value: string): string | undefined {
  if (value.length > 15) return 'must be at most 15 characters';
  if (!IANA_SERVICE_NAME.test(value)) return "must be lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. \"http\")";
  if (value.includes('--')) return "must not contain '--'";
  if (!/[a-z]/.test(value)) return 'must contain at least one letter (a number here would be a port number, not a name)';
  return undefined;
}

/** The conservative rule older API servers enforce; newer ones accept more, but this set applies everywhere. */
export function envVarNameProblem(value: string): string | undefined {
  if (!ENV_VAR_NAME.test(value)) return "must be letters, digits, '_', '-' and '.', not starting with a digit (e.g. \"FX_API_URL\")";
  return undefined;
}
