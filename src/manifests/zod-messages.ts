// Messages for schema violations, written for someone editing YAML: "expected a list, got a mapping" rather
// than zod's "Invalid input: expected array, received object". Messages a schema sets itself win over these.
import type { z } from 'zod';
import { isPlainObject } from './fields.ts';

export const manifestErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${typeNoun(issue.expected)}, got ${describeValue(issue.input)}${quoteHint(issue.expected, issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return Number(issue.minimum) === 1 ? 'must not be empty' : `needs at least ${issue.minimum} entries`;
      if (issue.origin === 'string') return Number(issue.minimum) === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} entries`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.join(', ')} (got ${JSON.stringify(issue.input)})`;
    default:
      return undefined;
  }
};

function typeNoun(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
    case 'tuple':
      return 'a list';
    case 'int':
      return 'an integer';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (isPlainObject(value)) return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the fraction ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  return typeof value;
}

/** Unquoted 8080, yes or on are not strings in YAML, and Kubernetes reads them the same way. */
function quoteHint(expected: string, input: unknown): string {
  if (expected !== 'string') return '';
  if (typeof input === 'number') return ' (quote it in YAML: "8080" is a string, 8080 a number)';
  if (typeof input === 'boolean') return ' (quote it in YAML: unquoted true/false, yes/no, y/n and on/off are booleans)';
  return '';
}
