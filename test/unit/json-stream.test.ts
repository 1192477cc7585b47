import { describe, expect, it } from 'vitest';
import { JsonStreamSplitter } from '../../src/core/json-stream.js';

// What `kubectl get pods -w -o json --output-watch-events` writes: pretty-printed documents back to back.
const ev1 = { type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'robustmq-0', annotations: { note: 'braces } { and "quotes" \\ inside' } } } };
const ev2 = { type: 'MODIFIED', object: { kind: 'Pod', metadata: { name: 'robustmq-1', labels: { a: 'ü€😀' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } };
const stream = `${JSON.stringify(ev1, null, 4)}\n${JSON.stringify(ev2, null, 4)}\n`;

describe('JsonStreamSplitter', () => {
  it('splits concatenated pretty-printed documents', () => {
    const s = new JsonStreamSplitter();
    const { docs, errors } = s.push(stream);
    expect(docs).toEqual([ev1, ev2]);
    expect(errors).toEqual([]);
    expect(s.pending).toBe(false);
  });

  it('gives the same result for every split point, including inside strings and escapes', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const s = new JsonStreamSplitter();
      const a = s.push(stream.slice(0, cut));
      const b = s.push(stream.slice(cut));
      expect([...a.docs, ...b.docs]).toEqual([ev1, ev2]);
    }
  });

  it('handles one character at a time', () => {
    const s = new JsonStreamSplitter();
    const docs: unknown[] = [];
    for (const ch of stream) docs.push(...s.push(ch).docs);
    expect(docs).toEqual([ev1, ev2]);
  });

  it('handles documents with no separator at all', () => {
    const s = new JsonStreamSplitter();
    expect(s.push(JSON.stringify(ev1) + JSON.stringify(ev2)).docs).toEqual([ev1, ev2]);
  });

  it('skips and reports a stray non-JSON line between documents', () => {
    const s = new JsonStreamSplitter();
    const { docs, errors } = s.push(`${JSON.stringify(ev1)}\nW1126 10:00:00.000 watch closed\n${JSON.stringify(ev2)}`);
    expect(docs).toEqual([ev1, ev2]);
    expect(errors).toEqual(['W1126 10:00:00.000 watch closed']);
  });

  it('reports a stream cut in the middle of a document as pending', () => {
    const s = new JsonStreamSplitter();
    s.push(stream.slice(0, 40));
    expect(s.pending).toBe(true);
  });
});
