import { describe, expect, it } from 'vitest';
import { compilePathPatterns, compileStringPatterns, pathTemplateProblem } from './string-patterns.ts';

describe('Istio string patterns', () => {
  it.each([
    { pattern: 'abc', value: 'abc', matches: true },
    { pattern: 'abc', value: 'abcd', matches: false },
    { pattern: 'abc', value: '', matches: false },
    { pattern: 'abc*', value: 'abc', matches: true },
    { pattern: 'abc*', value: 'abcd', matches: true },
    { pattern: 'abc*', value: 'xabc', matches: false },
    { pattern: '*abc', value: 'abc', matches: true },
    { pattern: '*abc', value: 'xabc', matches: true },
    { pattern: '*abc', value: 'abcx', matches: false },
    { pattern: '*', value: 'anything', matches: true },
    { pattern: '*', value: '', matches: false },
    { pattern: 'trustusbank-bank-*', value: 'trustusbank-bank-mcp', matches: true },
    { pattern: 'trustusbank-bank-*', value: 'trustusbank-platform', matches: false },
    // A leading star wins over a trailing one, as in istiod: "*abc*" is a suffix match on the literal "abc*".
    { pattern: '*abc*', value: 'xabc*', matches: true },
    { pattern: '*abc*', value: 'xabcx', matches: false },
  ])('"$pattern" against "$value" → $matches', ({ pattern, value, matches }) => {
    expect(compileStringPatterns([pattern]).matches(value)).toBe(matches);
  });

  it('never matches an absent value, whatever the pattern', () => {
    expect(compileStringPatterns(['*', 'a', 'a*', '*a']).matches(undefined)).toBe(false);
  });

  it('ORs the values of a list', () => {
    const patterns = compileStringPatterns(['a', 'b*', '*c']);
    expect(['a', 'bee', 'arc', 'd'].map((value) => patterns.matches(value))).toEqual([true, true, true, false]);
  });

  it('compares case-insensitively only when asked (hosts)', () => {
    expect(compileStringPatterns(['Example.COM']).matches('example.com')).toBe(false);
    expect(compileStringPatterns(['Example.COM', '*.Bank.Example'], { ignoreCase: true }).matches('api.bank.example')).toBe(true);
  });
});

describe('path templates', () => {
  it.each([
    { template: '/a/{*}/c', path: '/a/b/c', matches: true },
    { template: '/a/{*}/c', path: '/a//c', matches: false },
    { template: '/a/{*}/c', path: '/a/b/d/c', matches: false },
    { template: '/a/{**}', path: '/a/b/c/d', matches: true },
    { template: '/a/{**}', path: '/b/c', matches: false },
    { template: '/a.b/{*}', path: '/axb/c', matches: false },
  ])('$template against $path → $matches', ({ template, path, matches }) => {
    expect(compilePathPatterns([template]).matches(path)).toBe(matches);
  });

  it.each([
    { template: '/a/{*}/c', problem: false },
    { template: '/a/{**}', problem: false },
    { template: '/a/{**}/c', problem: true },
    { template: '/a/{name}/{*}', problem: true },
    { template: '/a/b*/{*}', problem: true },
    { template: '/plain/*', problem: false },
  ])('validates $template', ({ template, problem }) => {
    expect(pathTemplateProblem(template) !== undefined).toBe(problem);
  });
});
