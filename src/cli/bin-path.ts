import { fileURLToPath } from 'node:url';

/** The CLI a child process runs: the tsx launcher for sources, the compiled entry for a dist/ build. */
export const CLI_BIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../bin/trustusbank.js' : './main.js', import.meta.url));
