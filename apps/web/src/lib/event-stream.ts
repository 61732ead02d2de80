/** One dispatched server-sent event (`event:` type, `data:` lines joined by newlines, last `id:`). */
export interface ServerSentEvent {
  type: string;
  data: string;
  lastEventId: string;
}

/**
 * An incremental `text/event-stream` parser, as the HTML standard defines it: lines end in LF, CR
 * or CRLF (also split between chunks); a blank line dispatches; `:` starts a comment; `data:`
 * lines accumulate; `event:` names the type (default `message`); `id:` sets the last event id;
 * one space after the colon is dropped. An event left unfinished when the stream ends is dropped.
 * `retry:` is accepted and ignored (the caller owns reconnection).
 */
export function createEventStreamParser(onEvent: (event: ServerSentEvent) => void): { push(text: string): void } {
  let pending = '';
  let started = false;
  let skipLeadingLf = false;
  let type = '';
  let data = '';
  let hasData = false;
  let lastEventId = '';

  const line = (text: string) => {
    if (text === '') {
      if (hasData) onEvent({ type: type || 'message', data: data.endsWith('\n') ? data.slice(0, -1) : data, lastEventId });
      type = '';
      data = '';
      hasData = false;
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      data += `${value}\n`;
      hasData = true;
    } else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) lastEventId = value;
  };

  return {
    push(text: string) {
      if (!started && text.length > 0) {
        started = true;
        if (text.startsWith('\uFEFF')) text = text.slice(1);
      }
      if (skipLeadingLf && text.startsWith('\n')) text = text.slice(1);
      skipLeadingLf = false;
      pending += text;
      let start = 0;
      for (let i = 0; i < pending.length; i += 1) {
        const char = pending[i];
        if (char !== '\n' && char !== '\r') continue;
        line(pending.slice(start, i));
        if (char === '\r') {
          if (i + 1 < pending.length) {
            if (pending[i + 1] === '\n') i += 1;
          } else {
            skipLeadingLf = true; // a CRLF split between two chunks
          }
        }
        start = i + 1;
      }
      pending = pending.slice(start);
    },
  };
}

/**
 * Reads a response body as server-sent events until it ends (or its request is aborted, which
 * rejects). `onChunk` is told of every chunk, comments included: a heartbeat counts as life.
 */
export async function readEventStream(body: ReadableStream<Uint8Array>, onEvent: (event: ServerSentEvent) => void, onChunk: () => void = () => undefined): Promise<void> {
  const parser = createEventStreamParser(onEvent);
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      onChunk();
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
  } finally {
    reader.releaseLock();
  }
}
