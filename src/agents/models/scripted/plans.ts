// The three agents' plans: support, fraud and triage, each a pure function of the user's words and the run so far,
// and the texts they hand to one another.
import type { ModelRequest } from '../types.ts';
import { isRecord } from './json.ts';
import { maskPii, profileText } from './masking.ts';
import { approximately, formatMoney, readMoney, type Money } from './money.ts';
import { assessmentLine, describeTransaction, readTransactions, riskScore, severityFor, suspectTransactions, type Assessment, type Transaction } from './risk.ts';
import type { Plan, Run } from './run.ts';
import { FRAUD_AGENT, TRIAGE_AGENT, findHandOff, messageArgument } from './tools.ts';
import { agentReply, errorText, type Observation } from './transcript.ts';
import type { Words } from './words.ts';

export function agentPlan(request: ModelRequest, words: Words, run: Run): Plan {
  if (run.has('create_ticket')) return triagePlan(words, run);
  if ((run.has('get_details') || run.has('flag_suspicious')) && (words.txnIds.length > 0 || words.fraud)) return fraudPlan(words, run);
  return supportPlan(request, words, run);
}

const HELP =
  'I can check your balance, list your recent transactions, convert your balance to another currency, or look into a charge you do not recognise. What would you like me to do?';

function supportPlan(request: ModelRequest, words: Words, run: Run): Plan {
  const id = words.customerId;
  const convertBalance = words.targets.length > 0 && !words.explicit;
  const wantsAccount = words.balance || convertBalance || words.transactions || words.fraud || words.profile;
  if (!wantsAccount && !words.explicit) return { text: HELP };
  if (wantsAccount && id === undefined) {
    return { text: 'Please tell me your customer number (the 5-digit number on your account) so I can help.' };
  }
  const notes: string[] = [];

  let balance: Money | undefined;
  if (words.balance || convertBalance) {
    if (!run.has('get_balance')) notes.push(unavailable('check your balance', 'get_balance'));
    else {
      const result = run.call('get_balance', { account_id: id });
      if (!result) return run.wait();
      if (result.isError) notes.push(failure('get_balance', result));
      else {
        balance = readMoney(result.value, 'balance', 'currency');
        if (!balance) notes.push('The get_balance result had no balance I could read.');
      }
    }
  }

  let transactions: Transaction[] | undefined;
  if (words.transactions || words.fraud) {
    if (!run.has('list_recent')) notes.push(unavailable('list your recent transactions', 'list_recent'));
    else {
      const result = run.call('list_recent', { account_id: id, ...(words.days ? { days: words.days } : {}) });
      if (!result) return run.wait();
      if (result.isError) notes.push(failure('list_recent', result));
      else transactions = readTransactions(result.value);
    }
  }

  const source = words.explicit ?? balance;
  const converted: Money[] = [];
  if (words.targets.length > 0 && source) {
    const targets = words.targets.filter((to) => to !== source.currency);
    if (targets.length > 0 && !run.has('convert_currency')) notes.push(unavailable(`convert to ${targets.join(' and ')}`, 'convert_currency'));
    else {
      for (const to of targets) {
        const result = run.call('convert_currency', { amount: source.amount, from_ccy: source.currency, to_ccy: to });
        if (!result) return run.wait();
        const money = result.isError ? undefined : readMoney(result.value, 'converted', 'to_ccy');
        if (money) converted.push(money);
        else notes.push(result.isError ? failure('convert_currency', result) : `The conversion to ${to} returned no amount I could read.`);
      }
    }
  } else if (convertBalance && run.has('get_balance')) {
    notes.push(`Without the balance I could not convert it to ${words.targets.join(' and ')}.`);
  } else if (words.balance && words.targets.length === 0 && /\bconver(?:t|sion)\b/i.test(words.text)) {
    notes.push('Tell me which currency to convert to (for example USD, EUR or JPY).');
  }

  let profile: Record<string, unknown> | undefined;
  if (words.profile) {
    if (!run.has('get_profile')) notes.push(unavailable('show your profile', 'get_profile'));
    else {
      const result = run.call('get_profile', { account_id: id });
      if (!result) return run.wait();
      if (result.isError || !isRecord(result.value)) notes.push(failure('get_profile', result));
      else profile = result.value;
    }
  }

  const fraud: string[] = [];
  if (words.fraud) {
    const suspects = transactions ? suspectTransactions(transactions, words) : [];
    if (transactions && suspects.length === 0 && (words.charges.length > 0 || words.txnIds.length > 0)) {
      fraud.push('I found no recent transaction matching the charge you describe.');
    } else if (suspects.length > 0 && (words.charges.length > 0 || words.txnIds.length > 0)) {
      fraud.push(`The charge you describe is ${suspects.map(describeTransaction).join('; ')}.`);
    }
    const agent = findHandOff(run.tools, FRAUD_AGENT);
    if (!agent) notes.push('I could not pass this to the fraud team: no fraud agent is among my tools.');
    else {
      const message = fraudReferral(id!, words, transactions, transactions ? suspects : undefined);
      const result = run.call(agent.name, { [messageArgument(agent)]: message });
      if (!result) return run.wait();
      fraud.push(
        result.isError
          ? `I could not hand this over to ${agent.name}: ${errorText(result)}.`
          : `I have passed this to ${agent.name}, which replied:\n${agentReply(result)}`,
      );
    }
  }

  const sections: string[] = [];
  if (balance) sections.push(`Your balance is ${formatMoney(balance.amount, balance.currency)}${approximately(converted)}.`);
  if (words.explicit && converted.length > 0) {
    sections.push(`${formatMoney(words.explicit.amount, words.explicit.currency)} is ${converted.map((m) => `≈ ${formatMoney(m.amount, m.currency)}`).join(', ')}.`);
  }
  if (transactions && words.transactions) sections.push(transactionList(transactions, words.days));
  if (profile) sections.push(profileText(/\bmask/i.test(request.system) ? maskPii(profile) : profile));
  sections.push(...fraud, ...notes);
  return { text: sections.join('\n\n') };
}

function fraudPlan(words: Words, run: Run): Plan {
  const notes: string[] = [];
  let ids = words.txnIds;
  let customerId = words.customerId;
  if (ids.length === 0) {
    // Asked directly, without transaction ids: review the customer's recent transactions.
    if (customerId === undefined) return { text: 'Please give me the customer number or the transaction ids to review.' };
    if (!run.has('list_recent')) return { text: unavailable('list the recent transactions', 'list_recent') };
    const result = run.call('list_recent', { account_id: customerId });
    if (!result) return run.wait();
    if (result.isError) return { text: failure('list_recent', result) };
    ids = suspectTransactions(readTransactions(result.value), words).map((t) => t.txn_id);
    if (ids.length === 0) return { text: `Customer ${customerId} has no recent transactions to review.` };
  }

  const assessments: Assessment[] = [];
  if (!run.has('get_details')) notes.push(unavailable('look up the transactions', 'get_details'));
  else {
    for (const txnId of ids) {
      const result = run.call('get_details', { txn_id: txnId });
      if (!result) return run.wait();
      const txn = result.isError ? undefined : readTransactions([result.value])[0];
      if (!txn) {
        notes.push(result.isError ? failure(`get_details for ${txnId}`, result) : `The details of ${txnId} were unreadable.`);
        continue;
      }
      customerId ??= txn.account_id;
      assessments.push({ txn, ...riskScore(txn), flagged: false });
    }
  }

  for (const assessment of assessments.filter((a) => a.score > 70)) {
    if (!run.has('flag_suspicious')) {
      notes.push(unavailable(`flag ${assessment.txn.txn_id}`, 'flag_suspicious'));
      continue;
    }
    const result = run.call('flag_suspicious', { txn_id: assessment.txn.txn_id });
    if (!result) return run.wait();
    if (result.isError) notes.push(failure(`flag_suspicious for ${assessment.txn.txn_id}`, result));
    else assessment.flagged = true;
  }

  const overall = Math.max(0, ...assessments.map((a) => a.score));
  const who = customerId === undefined ? 'the customer' : `customer ${customerId}`;
  const sections: string[] = [];
  if (assessments.length > 0) {
    sections.push(
      [`Fraud assessment for ${who}:`, ...assessments.map((a) => `- ${assessmentLine(a)}`), `Overall risk ${overall}/100.`].join('\n'),
    );
  }
  if (overall > 70) {
    const agent = findHandOff(run.tools, TRIAGE_AGENT);
    if (!agent) notes.push('I could not escalate: no triage agent is among my tools.');
    else {
      const message = triageReferral(customerId, assessments, overall);
      const result = run.call(agent.name, { [messageArgument(agent)]: message });
      if (!result) return run.wait();
      sections.push(
        result.isError
          ? `I could not escalate to ${agent.name}: ${errorText(result)}.`
          : `Escalated to ${agent.name}, which replied:\n${agentReply(result)}`,
      );
    }
  } else if (assessments.length > 0) {
    sections.push('The risk is not high enough to escalate; no ticket is needed.');
  }
  sections.push(...notes);
  return { text: sections.join('\n\n') };
}

function triagePlan(words: Words, run: Run): Plan {
  const customerId = words.customerId;
  if (customerId === undefined) return { text: 'I need the customer number to open a ticket.' };
  const risks = [...words.text.matchAll(/\brisk(?:\s+score)?\s*(?:of|:|=|is)?\s*(\d{1,3})\b/gi)].map((m) => Number(m[1]));
  const risk = risks.length > 0 ? Math.min(100, Math.max(...risks)) : undefined;
  const severity = risk === undefined ? 'medium' : severityFor(risk);
  const created = run.call('create_ticket', { customer_id: customerId, summary: ticketSummary(words.text), severity });
  if (!created) return run.wait();
  if (created.isError) return { text: `I could not open a ticket for customer ${customerId}: ${errorText(created)}.` };
  const ticketId =
    (isRecord(created.value) && typeof created.value.ticket_id === 'string' ? created.value.ticket_id : undefined) ??
    /\bTICK-[A-Z0-9]+\b/i.exec(created.content)?.[0];
  if (ticketId === undefined) return { text: `I opened a ticket for customer ${customerId} (severity ${severity}), but its id was unreadable.` };

  const opened = `Opened ticket ${ticketId} (severity ${severity}) for customer ${customerId}`;
  if (!run.has('notify_human')) return { text: `${opened}. ${unavailable('notify a human', 'notify_human')}` };
  const notified = run.call('notify_human', { ticket_id: ticketId, channel: 'slack' });
  if (!notified) return run.wait();
  if (notified.isError) return { text: `${opened}, but notifying a human failed: ${errorText(notified)}.` };
  return { text: `${opened} and notified a human on slack.` };
}

function ticketSummary(message: string): string {
  const sentences = message.replace(/\s+/g, ' ').trim().split(/(?<=[.!?])\s+/);
  const summary = sentences.slice(0, 2).join(' ');
  return summary.length > 500 ? `${summary.slice(0, 499)}…` : summary || 'Escalation without details.';
}

function fraudReferral(customerId: string, words: Words, transactions: Transaction[] | undefined, suspects: Transaction[] | undefined): string {
  const parts = [`Customer ${customerId} reports a charge they do not recognise.`];
  const named = words.charges.filter((c) => c.currency !== undefined || words.charges.length === 1);
  if (named.length > 0) parts.push(`They describe it as ${named.map((c) => (c.currency ? formatMoney(c.amount, c.currency) : String(c.amount))).join(' or ')}.`);
  if (suspects && suspects.length > 0) {
    const matched = words.charges.length > 0 || words.txnIds.length > 0;
    parts.push(`${matched ? 'Matching transaction' : 'Recent transactions'}: ${suspects.map(describeTransaction).join('; ')}.`);
  } else if (transactions) {
    parts.push(`No recent transaction matches; recent transactions: ${transactions.map(describeTransaction).join('; ') || 'none'}.`);
  } else {
    parts.push('I could not list their recent transactions.');
  }
  if (words.ticket) parts.push('The customer asked for a ticket.');
  parts.push('Please assess the fraud risk.');
  return parts.join(' ');
}

function triageReferral(customerId: string | undefined, assessments: readonly Assessment[], overall: number): string {
  const risky = assessments.filter((a) => a.score > 70);
  return [
    `Customer ${customerId ?? 'unknown'}: suspected card fraud.`,
    `${risky.map(assessmentLine).join('; ')}.`,
    `Overall risk ${overall}/100.`,
    'Please open an incident ticket and notify a human.',
  ].join(' ');
}

function transactionList(transactions: readonly Transaction[], days: number | undefined): string {
  const period = `last ${days ?? 7} days`;
  if (transactions.length === 0) return `You have no transactions in the ${period}.`;
  const lines = transactions.map((t) => {
    const details = [t.txn_id, t.country, t.ts?.slice(0, 10)].filter(Boolean).join(', ');
    return `- ${t.merchant ?? 'Unknown merchant'}: ${formatMoney(t.amount, t.currency)} (${details})`;
  });
  return [`Your recent transactions (${period}):`, ...lines].join('\n');
}

function unavailable(what: string, tool: string): string {
  return `I could not ${what}: the ${tool} tool is not available to me.`;
}

function failure(what: string, result: Observation): string {
  return `The ${what} call failed: ${errorText(result)}.`;
}
