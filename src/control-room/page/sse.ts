// A server-sent-events reader over fetch. EventSource cannot send a header, and the control room's token must
// travel in one (a token in the query string would land in histories and logs), so the page reads the
// text/event-stream itself. The parser is pure: chunks of text in, complete events out.

export interface SseEvent {
  event: string;
  data: string;
}

export interface SseParser {
  push(chunk: string): SseEvent[];
}

export function sseParser(): SseParser {
  let buffer = '';
  return {
    push(chunk) {
      buffer += chunk.replace(/\r\n?/g, '\n');
      const events: SseEvent[] = [];
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length > 0) events.push({ event, data: data.join('\n') });
      }
      return events;
    },
  };
}
