// Container image references as the distribution spec defines them: `[registry[:port]/]repository[:tag][@digest]`.
// Only sha256 digests are accepted: they are what image stores (ours included) address content by.

export interface ImageReference {
  /** Registry and repository, e.g. `trustusbank/account-mcp` or `localhost:5000/acme-fx/currency-converter`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex digits>` */
  digest?: string;
}

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const EXAMPLE = 'e.g. "trustusbank/account-mcp:1.0.0"';

export type ImageReferenceResult = { reference: ImageReference; problem?: undefined } | { reference?: undefined; problem: string };

export function parseImageReference(value: string): ImageReferenceResult {
  if (value === '') return { problem: 'must not be empty' };
  if (value.length > 4096) return { problem: 'is too long to be an image reference' };
  const at = value.indexOf('@');
  const digest = at === -1 ? undefined : value.slice(at + 1);
  const named = at === -1 ? value : value.slice(0, at);
  if (digest !== undefined && !DIGEST.test(digest)) return { problem: `has an invalid digest "${digest}": expected sha256: followed by 64 lower-case hex digits` };
  // A ':' after the last '/' starts the tag; one before it belongs to a registry port (localhost:5000/x).
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const repository = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) return { problem: `has an invalid tag "${tag}": letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-' (${EXAMPLE})` };
  if (repository.length > 255) return { problem: 'has a repository name longer than 255 characters' };
  if (!REPOSITORY.test(repository)) {
    const lowered = /[A-Z]/.test(repository.slice(repository.indexOf('/') + 1));
    return { problem: lowered ? `has an invalid repository "${repository}": repository names must be lower-case (${EXAMPLE})` : `is not a valid image reference: expected repository[:tag][@sha256:digest] (${EXAMPLE})` };
  }
  return { reference: { repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) } };
}

export function imageReferenceProblem(value: string): string | undefined {
  return parseImageReference(value).problem;
}
