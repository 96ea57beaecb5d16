// Wire constants shared by both ends of HBONE.

/** Response header carrying why a CONNECT was refused: short, printable, for logs and error messages. */
export const DENY_REASON_HEADER = 'x-tub-deny-reason';
