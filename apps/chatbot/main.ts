import { runWorkloadMain } from '../lib/workload.ts';
import { loadPageScript } from './assets.ts';
import { createChatbot } from './server.ts';

await runWorkloadMain('chatbot', createChatbot({ script: await loadPageScript(import.meta.url) }));
