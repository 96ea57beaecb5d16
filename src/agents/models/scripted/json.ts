// Small helpers over untrusted JSON and text shared by the scripted model's modules.
import type { ModelTool } from '../types.ts';

export function schemaProperties(tool: ModelTool): Record<string, unknown> {
  const properties = tool.inputSchema.properties;
  return isRecord(properties) ? properties : {};
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
