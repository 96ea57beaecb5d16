// Text from a pod (its stderr, its messages) shown on the operator's terminal: a compromised workload must not
// be able to move the cursor, rewrite earlier lines or retitle the window with escape sequences.

/** Control characters (tab aside) shown as `\xNN` instead of being obeyed. */
export function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
