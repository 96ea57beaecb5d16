// What the model remembers of each conversation between turns (the session store keeps everything; this is
// only the model's context), bounded: at most `maxConversations`, at most `maxBytesPerConversation` each
// (older turns are dropped whole, so a tool result never loses the call it answers), and `maxBytes` in all
// (the least recently used conversation goes first).
import { retainedBytes } from '../../core/retained-bytes.ts';
import type { ChatMessage } from '../models/types.ts';

export interface ConversationLimits {
  maxConversations: number;
  maxBytesPerConversation: number;
  maxBytes: number;
}

/** The documented bounds (README, "Memory bounds"). */
export const DEFAULT_CONVERSATION_LIMITS: ConversationLimits = { maxConversations: 200, maxBytesPerConversation: 1024 * 1024, maxBytes: 8 * 1024 * 1024 };

export class ConversationMemory {
  /** Insertion order is recency. */
  private readonly conversations = new Map<string, { messages: ChatMessage[]; bytes: number }>();
  private total = 0;

  constructor(readonly limits: ConversationLimits = DEFAULT_CONVERSATION_LIMITS) {}

  get(contextId: string): ChatMessage[] {
    return this.conversations.get(contextId)?.messages ?? [];
  }

  remember(contextId: string, messages: ChatMessage[]): void {
    this.forget(contextId);
    const kept = trimToBytes(messages, this.limits.maxBytesPerConversation);
    if (kept.messages.length === 0) return;
    this.conversations.set(contextId, kept);
    this.total += kept.bytes;
    for (const [id] of this.conversations) {
      if (this.conversations.size <= this.limits.maxConversations && this.total <= this.limits.maxBytes) break;
      this.forget(id);
    }
  }

  usage(): { conversations: number; bytes: number } {
    return { conversations: this.conversations.size, bytes: this.total };
  }

  private forget(contextId: string): void {
    const entry = this.conversations.get(contextId);
    if (!entry) return;
    this.conversations.delete(contextId);
    this.total -= entry.bytes;
  }
}

/** The latest whole turns (each starting at a user message) that fit in `maxBytes`; none if the last alone does not. */
export function trimToBytes(messages: ChatMessage[], maxBytes: number): { messages: ChatMessage[]; bytes: number } {
  let bytes = 0;
  let start = messages.length;
  let turnBytes = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    turnBytes += retainedBytes(messages[i]);
    if (messages[i]!.role !== 'user') continue;
    if (bytes + turnBytes > maxBytes) break;
    bytes += turnBytes;
    turnBytes = 0;
    start = i;
  }
  return { messages: messages.slice(start), bytes };
}
