import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { ManifestError, formatIssue, type ManifestIssue } from './errors.ts';
import { formatPath } from './paths.ts';

describe('formatPath', () => {
  it.each<[(string | number)[], string]>([
    [[], ''],
    [['spec', 'template', 'spec', 'containers', 0, 'imagePullPolicy'], 'spec.template.spec.containers[0].imagePullPolicy'],
    [['metadata', 'labels', 'app.kubernetes.io/name'], 'metadata.labels["app.kubernetes.io/name"]'],
    [['spec', 'portLevelMtls', '8080', 'mode'], 'spec.portLevelMtls["8080"].mode'],
    [['items', 1, 'kind'], 'items[1].kind'],
  ])('%j → %s', (segments, path) => {
    expect(formatPath(segments)).toBe(path);
  });
});

describe('formatIssue', () => {
  const base: ManifestIssue = { file: 'deploy/x.yaml', index: 2, path: 'spec.replicas', message: 'must be 0 or more' };
  it.each<[Partial<ManifestIssue>, string]>([
    [{ kind: 'Deployment', namespace: 'trustusbank-bank-mcp', name: 'account-mcp' }, 'deploy/x.yaml: document 2 (Deployment trustusbank-bank-mcp/account-mcp): spec.replicas: must be 0 or more'],
    [{ kind: 'Namespace', name: 'bank' }, 'deploy/x.yaml: document 2 (Namespace bank): spec.replicas: must be 0 or more'],
    [{ kind: 'Deployment' }, 'deploy/x.yaml: document 2 (Deployment): spec.replicas: must be 0 or more'],
    [{}, 'deploy/x.yaml: document 2: spec.replicas: must be 0 or more'],
    [{ path: '', message: 'YAML syntax error: x', line: 3, column: 7 }, 'deploy/x.yaml: document 2: YAML syntax error: x (line 3, column 7)'],
    [{ line: 9 }, 'deploy/x.yaml: document 2: spec.replicas: must be 0 or more (line 9)'],
  ])('%j', (fields, line) => {
    expect(formatIssue({ ...base, ...fields })).toBe(line);
  });
});

describe('ManifestError', () => {
  it('is a UserError listing every issue, one per line', () => {
    const issues: ManifestIssue[] = [
      { file: 'a.yaml', index: 0, path: 'kind', message: 'is required' },
      { file: 'b.yaml', index: 3, path: 'apiVersion', message: 'is required' },
    ];
    const error = new ManifestError(issues);
    expect(error).toBeInstanceOf(UserError);
    expect(error.name).toBe('ManifestError');
    expect(error.exitCode).toBe(1);
    expect(error.issues).toBe(issues);
    expect(error.message).toBe('a.yaml: document 0: kind: is required\nb.yaml: document 3: apiVersion: is required');
  });
});
