// The chatbot page in Chromium against `trustusbank chat` in the same run, on one stack (scripted model): time from
// submit to the first streamed event on the page and to the full reply, against the admin API's /chat (what
// `trustusbank chat` asks, without starting a process) and the `trustusbank chat` process itself. Also the size
// of the pages' script bundles (chatbot and control room) as served, raw and gzipped. Without Chromium the page
// rows are left out with one loud line (and a smoke run under CI=true fails, as the browser tests do).
import { gzipSync } from 'node:zlib';
import { callAdminApi } from '../src/control-plane/admin-api.ts';
import type { StackStatus } from '../src/control-plane/admin-routes.ts';
import { FIGURES, SEED_PROMPT } from '../src/demo/demo.ts';
import { adminSocketPath } from '../src/runtime/stack-state.ts';
import { BROWSER_MISSING, launchBrowser } from '../testing/browser.ts';
import { FREE_PORT_FLAGS, runCli } from '../testing/cli.ts';
import { tempDir } from '../testing/workloads.ts';
import { report, sized, summarise } from './stats.ts';

const ROUNDS = sized(10, 2);

export async function run(): Promise<void> {
  const data = tempDir('tub-bench-');
  const flags = ['--data-dir', data.path];
  try {
    const up = await runCli(['up', '--detach', ...flags, ...FREE_PORT_FLAGS]);
    if (up.code !== 0) throw new Error(`up failed: ${up.stderr || up.stdout}`);
    const socket = adminSocketPath(data.path);
    const status = await callAdminApi<StackStatus>(socket, 'GET', '/status');
    const url = (service: string): string => status.forwards.find((f) => f.service === service)!.url;

    await bundleSizes([
      ['chatbot page (app.js)', `${url('chatbot')}app.js`],
      ['control room page (app.js)', `${url('control-room')}app.js`],
    ]);

    const admin: number[] = [];
    const cli: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let started = performance.now();
      const answer = await callAdminApi<{ reply: string }>(socket, 'POST', '/chat', { prompt: SEED_PROMPT });
      if (!answer.reply.includes(FIGURES[1])) throw new Error(`admin /chat: unexpected reply ${answer.reply}`);
      admin.push(performance.now() - started);
      started = performance.now();
      const chat = await runCli(['chat', SEED_PROMPT, ...flags]);
      if (chat.code !== 0 || !chat.stdout.includes(FIGURES[1])) throw new Error(`trustusbank chat failed: ${chat.stderr || chat.stdout}`);
      cli.push(performance.now() - started);
    }
    const baseline = summarise('admin API /chat, full reply (baseline)', admin);
    const subjects = [summarise('`trustusbank chat` process, full reply', cli)];
    if (BROWSER_MISSING) console.warn('\n!!! chatbot page rows left out: no Chromium (see testing/browser.ts) !!!\n');
    else subjects.push(...(await pageTimings(url('chatbot'))));
    report(`The chatbot page against \`trustusbank chat\`, seed question, scripted model (${ROUNDS} rounds)`, baseline, subjects);
  } finally {
    await runCli(['down', ...flags]);
    data.remove();
  }
}

async function bundleSizes(bundles: [string, string][]): Promise<void> {
  console.log('\nPage bundles as served');
  for (const [label, url] of bundles) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    console.log(`  ${label.padEnd(44)} ${(bytes.length / 1024).toFixed(1).padStart(7)} KiB  (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped)`);
  }
}

/** Submit to first streamed event and to the full reply, timed in the page (performance.now()), one conversation per round. */
async function pageTimings(chatbotUrl: string): Promise<ReturnType<typeof summarise>[]> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(chatbotUrl);
    await page.locator('#health.pill-ok').waitFor({ timeout: 30_000 });
    const first: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await page.getByRole('button', { name: 'New conversation' }).click();
      await page.getByLabel('Your message').fill(SEED_PROMPT);
      // Timestamps taken in the page: at the form's submit, at the first change of the reply bubble away from its
      // placeholder (the first streamed event), and when the bubble holds the converted figure and is no longer busy.
      await page.evaluate((figure) => {
        const marks: { submit?: number; first?: number; full?: number } = {};
        (window as unknown as { __marks: typeof marks }).__marks = marks;
        document.getElementById('composer')!.addEventListener('submit', () => (marks.submit = performance.now()), { capture: true, once: true });
        const observer = new MutationObserver(() => {
          const bubble = document.querySelector('.message.agent:last-child');
          const text = bubble?.querySelector('.text')?.textContent ?? '';
          if (marks.submit === undefined || !bubble) return;
          if (marks.first === undefined && text !== '' && text !== '…') marks.first = performance.now();
          if (text.includes(figure) && !bubble.hasAttribute('aria-busy')) {
            marks.full = performance.now();
            observer.disconnect();
          }
        });
        observer.observe(document.getElementById('conversation')!, { subtree: true, childList: true, characterData: true, attributes: true });
      }, FIGURES[1]);
      await page.getByRole('button', { name: 'Send' }).click();
      await page.waitForFunction(() => (window as unknown as { __marks: { full?: number } }).__marks.full !== undefined, undefined, { timeout: 120_000 });
      const marks = await page.evaluate(() => (window as unknown as { __marks: { submit: number; first: number; full: number } }).__marks);
      first.push(marks.first - marks.submit);
      full.push(marks.full - marks.submit);
    }
    return [summarise('chatbot page: submit → first streamed event', first), summarise('chatbot page: submit → full reply', full)];
  } finally {
    await browser.close();
  }
}
