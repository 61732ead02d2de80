import { describe, expect, it } from 'vitest';
import { createEventStreamParser, readEventStream, type ServerSentEvent } from './event-stream.js';

function parse(chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const parser = createEventStreamParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

/** Every way of cutting `text` into two chunks, and one character at a time. */
function splits(text: string): string[][] {
  const ways = [[text], [...text]];
  for (let i = 1; i < text.length; i += 1) ways.push([text.slice(0, i), text.slice(i)]);
  return ways;
}

const stream = 'event: job\nid: 1\ndata: {"id":"j1","status":"running"}\n\n: keep-alive\n\nevent: metric\nid: 2\ndata: {"step":3}\n\n';
const expected = [
  { type: 'job', data: '{"id":"j1","status":"running"}', lastEventId: '1' },
  { type: 'metric', data: '{"step":3}', lastEventId: '2' },
];

describe('createEventStreamParser', () => {
  it('gives the same events however the stream is cut into chunks (mid-field, mid-line, between CR and LF)', () => {
    for (const chunks of splits(stream)) expect(parse(chunks), JSON.stringify(chunks)).toEqual(expected);
    const crlf = stream.replace(/\n/g, '\r\n');
    for (const chunks of splits(crlf)) expect(parse(chunks), JSON.stringify(chunks)).toEqual(expected);
    const cr = stream.replace(/\n/g, '\r');
    for (const chunks of splits(cr)) expect(parse(chunks), JSON.stringify(chunks)).toEqual(expected);
  });

  it('joins multi-line data with newlines and keeps a colon or extra spaces in the value', () => {
    expect(parse(['data: first\ndata:second\ndata:  indented: yes\n\n'])).toEqual([{ type: 'message', data: 'first\nsecond\n indented: yes', lastEventId: '' }]);
    expect(parse(['data\ndata\n\n'])).toEqual([{ type: 'message', data: '\n', lastEventId: '' }]);
  });

  it('ignores comments, unknown fields and retry; a blank line without data dispatches nothing and resets the type', () => {
    expect(parse([': hello\nretry: 100\nfoo: bar\nevent: lonely\n\ndata: x\n\n'])).toEqual([{ type: 'message', data: 'x', lastEventId: '' }]);
  });

  it('keeps the last id across events, and an id with NUL is ignored', () => {
    expect(parse(['id: 7\ndata: a\n\ndata: b\n\nid: 8\0\ndata: c\n\n']).map((e) => e.lastEventId)).toEqual(['7', '7', '7']);
  });

  it('drops an event the stream ends in the middle of, and a leading byte order mark', () => {
    expect(parse(['\uFEFFdata: whole\n\ndata: half'])).toEqual([{ type: 'message', data: 'whole', lastEventId: '' }]);
  });
});

describe('readEventStream', () => {
  it('decodes bytes split inside a multi-byte character and reports each chunk', async () => {
    const bytes = new TextEncoder().encode('data: €uro ✓\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(Uint8Array.of(byte));
        controller.close();
      },
    });
    const events: ServerSentEvent[] = [];
    let chunks = 0;
    await readEventStream(body, (event) => events.push(event), () => (chunks += 1));
    expect(events).toEqual([{ type: 'message', data: '€uro ✓', lastEventId: '' }]);
    expect(chunks).toBe(bytes.length);
  });
});
