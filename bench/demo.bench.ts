// `trustusbank demo` (three acts and five layers, scripted model) against its own unit measured in the same run:
// one chat with support-bot (the seed question, through the mesh). The target is the whole demo within 30 s.
import { runCli, FREE_PORT_FLAGS } from '../testing/cli.ts';
import { tempDir } from '../testing/workloads.ts';
import { SEED_PROMPT } from '../src/demo/demo.ts';
import { report, sized, summarise } from './stats.ts';

const DEMO_ROUNDS = sized(3, 1);
const CHAT_ROUNDS = sized(5, 1);

export async function run(): Promise<void> {
  const data = tempDir('tub-bench-');
  const flags = ['--data-dir', data.path];
  try {
    const up = await runCli(['up', '--detach', ...flags, ...FREE_PORT_FLAGS]);
    if (up.code !== 0) throw new Error(`up failed: ${up.stderr || up.stdout}`);
    const chats: number[] = [];
    for (let i = 0; i < CHAT_ROUNDS; i++) {
      const started = performance.now();
      const chat = await runCli(['chat', SEED_PROMPT, ...flags]);
      if (chat.code !== 0) throw new Error(`chat failed: ${chat.stderr}`);
      chats.push(performance.now() - started);
    }
    const demos: number[] = [];
    for (let i = 0; i < DEMO_ROUNDS; i++) {
      const started = performance.now();
      const demo = await runCli(['demo', ...flags]);
      if (demo.code !== 0) throw new Error(`demo failed:\n${demo.stdout}\n${demo.stderr}`);
      demos.push(performance.now() - started);
    }
    report(`trustusbank demo, scripted model (${DEMO_ROUNDS} runs; target ≤ 30 s)`, summarise('one `trustusbank chat` (baseline)', chats), [summarise('`trustusbank demo` (3 acts, 5 layers)', demos)]);
  } finally {
    await runCli(['down', ...flags]);
    data.remove();
  }
}
