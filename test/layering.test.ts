// The layering rule (lint/layering.js) run through ESLint as CI runs it: a deliberately wrong import is reported,
// naming both folders; the same import where the table allows it is not; a new folder must be added to the table.
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: ROOT });

async function layeringProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'layering/allowed-imports').map((m) => m.message);
}

describe('the layering lint rule', () => {
  it.each([
    ['src/mesh/ztunnel/x.ts', "import { AgentGateway } from '../../gateway/gateway.ts';", 'src/mesh may not import src/gateway'],
    ['src/core/x.ts', "import { Engine } from '../control-plane/engine.ts';", 'src/core may not import src/control-plane'],
    ['src/control-room/x.ts', "import { demoCommand } from '../cli/commands/demo.ts';", 'src/control-room may not import src/cli'],
    ['apps/account-mcp/x.ts', "import { Ztunnel } from '../../src/mesh/ztunnel/ztunnel.ts';", 'apps/account-mcp may not import src/mesh'],
    ['src/agents/runtime/x.ts', "import type { Workload } from '../../../apps/lib/workload.ts';", 'src/agents may not import apps/lib'],
    ['bench/x.bench.ts', "import { something } from '../test/traces.test.ts';", 'bench may not import test'],
    ['src/manifests/kinds/x.ts', "export { RuleSet } from '../../gateway/policy/rate-limit.ts';", 'src/manifests may not import src/gateway'],
  ])('reports %s importing across the table', async (file, code, message) => {
    expect(await layeringProblems(file, code)).toEqual([expect.stringContaining(message)]);
  });

  it.each([
    ['src/gateway/x.ts', "import { RuleSet } from '../cel/cel.ts';"],
    ['src/control-room/x.ts', "import { LAYER_FILES } from '../scenario.ts';"],
    ['apps/agent/x.ts', "import { Toolbox } from '../../src/agents/runtime/toolbox.ts';"],
    ['bench/x.bench.ts', "import { startTestCluster } from '../testing/cluster.ts';"],
    ['src/mesh/x.test.ts', "import { AgentGateway } from '../gateway/gateway.ts';"],
  ])('lets %s import what the table allows (tests are exempt)', async (file, code) => {
    expect(await layeringProblems(file, code)).toEqual([]);
  });

  it('asks for a new folder to be placed in the table', async () => {
    expect(await layeringProblems('src/newthing/x.ts', "import { x } from '../core/log.ts';")).toEqual([expect.stringContaining('src/newthing is not in the layering table')]);
  });
});
