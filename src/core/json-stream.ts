// Splits a stream of concatenated JSON documents (what `kubectl get -w -o json --output-watch-events` prints:
// pretty-printed objects one after another, no separators guaranteed) into parsed values.
// Pure and incremental: feed it chunks of any size, split anywhere (inside strings, escapes, multi-byte characters
// are handled by the caller decoding with a StringDecoder / setEncoding('utf8')).

export class JsonStreamSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  /** Feeds a chunk; returns the documents completed by it, in order. Garbage between documents is skipped and reported. */
  push(chunk: string): { docs: unknown[]; errors: string[] } {
    const docs: unknown[] = [];
    const errors: string[] = [];
    this.buf += chunk;
    let i = this.scanned;
    for (; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (this.depth === 0) {
        if (c === '{' || c === '[') {
          this.start = i;
          this.depth = 1;
          this.inString = false;
          this.escaped = false;
        } else if (c !== undefined && !/\s/.test(c)) {
          // Not a document start (kubectl sometimes interleaves a warning line); skip to the next line.
          const nl = this.buf.indexOf('\n', i);
          const end = nl === -1 ? this.buf.length : nl;
          errors.push(this.buf.slice(i, end));
          i = end;
          if (nl === -1) {
            // Keep nothing: the rest of the line is garbage too, and will be reported when it completes.
            this.buf = '';
            this.scanned = 0;
            return { docs, errors };
          }
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          const text = this.buf.slice(this.start, i + 1);
          try {
            docs.push(JSON.parse(text));
          } catch (e) {
            errors.push(`unparsable document (${(e as Error).message}): ${text.slice(0, 200)}`);
          }
          this.buf = this.buf.slice(i + 1);
          i = -1;
          this.start = -1;
        }
      }
    }
    this.scanned = this.buf.length;
    if (this.depth === 0) {
      this.buf = '';
      this.scanned = 0;
    }
    return { docs, errors };
  }

  /** True when a document has started but not finished (the stream ended mid-object). */
  get pending(): boolean {
    return this.depth > 0;
  }
}
