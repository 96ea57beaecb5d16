// `trustusbank chat`: send one message to an agent as the bank's chatbot does (A2A `message/send`, through the
// mesh, with the chatbot's service account as the caller), and print the reply and the tool chain behind it.
import type { ChatAnswer } from '../../control-plane/admin-routes.ts';
import { UsageError } from '../../core/errors.ts';
import { dataDirHelp, printJson, stackCommand } from '../stack-command.ts';
import { formatTable } from '../table.ts';
import { CHAT_DEFAULTS } from '../../scenario.ts';
import type { ChatBodyInput } from '../../control-plane/admin-schemas.ts';

const usage = `Usage: trustusbank chat "<prompt>" [--agent NAME] [--namespace NS] [--as NS/SERVICEACCOUNT] [--a2a 0.3|1.0]
                        [--context ID] [--json] [--data-dir DIR]

Send the prompt to an agent the way the bank's chatbot does: an A2A message sent through the mesh with the
chatbot's identity (spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot), so mesh policies,
waypoints and AccessPolicies see it as the chatbot. Prints the reply and every tool call behind it, hand-offs
to other agents included. Exits 1 when the agent could not answer (a 403 from an AccessPolicy, a failed task).

Options:
  --agent NAME       the agent (default support-bot)
  --namespace NS     its namespace (default trustusbank-bank-agents)
  --as NS/SA         send as this service account instead of the chatbot's (it must exist)
  --a2a VERSION      A2A protocol: 0.3 (message/send, the chatbot's; default) or 1.0 (SendMessage)
  --context ID       continue a conversation (the contextId a previous reply printed)
  --json             print {reply, author, model, traceId, tools: [{name, author, args, result, isError}], ...}
${dataDirHelp(19)}
  -h, --help         show this help

Examples:
  trustusbank chat "What's the balance of account 12345 in USD?"
  trustusbank chat "There is a 1499 USD charge I do not recognise on account 12345, open a ticket"
  trustusbank chat "Balance of 12345?" --as external-attacker/mock-attacker`;

export const chatCommand = stackCommand({
  name: 'chat',
  summary: 'send a message to an agent as the chatbot and show the reply and its tool chain',
  usage,
  options: { agent: { type: 'string' }, namespace: { type: 'string', short: 'n' }, as: { type: 'string' }, a2a: { type: 'string' }, context: { type: 'string' }, json: { type: 'boolean' } },
  maxPositionals: Infinity,
  async run({ values, positionals, stack }) {
    const prompt = positionals.join(' ').trim();
    if (prompt === '') throw new UsageError('what should the agent be asked?', usage);
    if (values.a2a !== undefined && values.a2a !== '0.3' && values.a2a !== '1.0') throw new UsageError(`--a2a takes 0.3 or 1.0, got "${values.a2a}"`, usage);
    const body: ChatBodyInput = {
      prompt,
      ...(values.agent ? { agent: values.agent } : {}),
      ...(values.namespace ? { namespace: values.namespace } : {}),
      ...(values.as ? { as: values.as } : {}),
      ...(values.a2a ? { protocol: values.a2a } : {}),
      ...(values.context ? { contextId: values.context } : {}),
    };
    const answer = await stack().call<ChatAnswer>('POST', '/chat', body);
    if (values.json) {
      printJson(answer);
      return answer.failed ? 1 : 0;
    }
    if (answer.failed) {
      console.error(`${values.agent ?? CHAT_DEFAULTS.agent} did not answer (${answer.status === 403 ? 'denied, HTTP 403' : answer.state}) to ${answer.caller}:`);
      console.error(answer.reply);
      return 1;
    }
    console.log(answer.reply);
    console.log('');
    if (answer.tools.length > 0) {
      console.log(`Tool chain (${answer.tools.length} call${answer.tools.length === 1 ? '' : 's'}):`);
      console.log(
        formatTable(
          ['AGENT', 'TOOL', 'ARGUMENTS', 'RESULT'],
          answer.tools.map((t) => [t.author, t.name, clip(JSON.stringify(t.args), 60), `${t.isError ? 'ERROR ' : ''}${clip(typeof t.result === 'string' ? t.result : JSON.stringify(t.result), 60)}`]),
        ),
      );
    } else console.log('No tools were called.');
    console.log(`\nTrace ${answer.traceId}: from this question through the agents, the gateway and the mesh (\`trustusbank open traces ${answer.traceId}\`)`);
    console.log(`Answered by ${answer.author || 'the agent'} · model ${answer.model}${answer.model === 'scripted' ? ' (the offline scripted stand-in, not an LLM)' : ''} · asked as ${answer.caller} · context ${answer.contextId}`);
    return 0;
  },
});

function clip(text: string | undefined, width: number): string {
  const flat = (text ?? '').replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}
