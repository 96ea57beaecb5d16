// The seed's quick prompts, as the customer of the demo (Alex Carter, 12345) would ask them.
export interface QuickPrompt {
  label: string;
  text: string;
}

export const QUICK_PROMPTS: readonly QuickPrompt[] = [
  { label: 'My balance', text: 'I am customer 12345. What is my balance?' },
  { label: 'Recent transactions', text: 'I am customer 12345. Show me my recent transactions.' },
  { label: 'Balance in USD', text: 'I am customer 12345. What is my balance in USD?' },
  { label: 'Balance in EUR and JPY', text: 'I am customer 12345. What is my balance in EUR and JPY?' },
  { label: 'A 1,499 USD charge I do not recognise', text: 'I am customer 12345. There is a 1499 USD charge I do not recognise. Please open a ticket.' },
];
