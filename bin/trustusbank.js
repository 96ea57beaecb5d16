#!/usr/bin/env node
// The `trustusbank` command. The sources are TypeScript; tsx compiles them on load (with an on-disk cache),
// so a fresh clone runs without a build step. `npm run build` still emits dist/ for type-checked releases.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
