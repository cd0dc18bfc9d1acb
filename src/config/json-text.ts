/**
 * A strict check of JSON text, run on a config before JSON.parse, for two things JSON.parse cannot do:
 *
 *   - say where the first syntax error is, always: V8 gives no position when the very token is
 *     wrong (`"lr": NaN`, a binary file, a UTF-16 file), so its message cannot be turned into a line
 *     and column; and name the usual mistakes (comments, trailing commas, single quotes, NaN);
 *   - refuse duplicate keys: JSON.parse keeps the last one silently, so a second "lr" further down
 *     a file would override the first unseen, the same kind of silent mistake as an unknown key.
 *
 * The grammar is RFC 8259's. Depth is capped so that a pathological file cannot exhaust the stack.
 */

export class JsonTextError extends Error {
  constructor(
    /** Offset (UTF-16 code units) of the offending character; text.length at the end of the text. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'JsonTextError';
  }
}

const MAX_DEPTH = 64;

/** 1-based line and column of an offset (a column counts characters). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Throws JsonTextError at the first syntax error or duplicate key of `text`. */
export function checkJsonText(text: string): void {
  let i = 0;

  const fail = (reason: string, at = i): never => {
    throw new JsonTextError(at, reason);
  };
  const skipSpace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const unexpected = (): never => {
    if (i >= text.length) return fail('unexpected end of the file (is it truncated?)');
    const c = text[i]!;
    if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) return fail('comments are not allowed in JSON');
    if (c === "'") return fail('strings and names need double quotes (") in JSON');
    const word = /^[A-Za-z_$][\w$]*/.exec(text.slice(i, i + 40))?.[0];
    if (word === 'NaN' || word === 'Infinity') return fail(`${word} is not a JSON number`);
    if (word) return fail(`unexpected word ${word} (strings need double quotes)`);
    return fail(`unexpected character ${showChar(c)}`);
  };

  const string = (): string => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) return fail('unterminated string (is the file truncated?)', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (c < 0x20) return fail('a line break or control character inside a string (write it as \\n, \\t, ...)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('bad \\u escape (expected 4 hex digits)');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return fail(`bad escape \\${e ?? ''} in a string`);
        }
        continue;
      }
      i++;
    }
  };

  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return void unexpected();
    if (/^-?0\d/.test(text.slice(i, i + 3))) return fail('a number cannot start with 0 (write 7, not 07)');
    i += m[0].length;
    if (i < text.length && /[\w.]/.test(text[i]!)) return fail(`unexpected character ${showChar(text[i]!)} in a number`);
  };

  const value = (path: string, depth: number): void => {
    skipSpace();
    if (i >= text.length) return void unexpected();
    const c = text[i]!;
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) return fail(`nested more than ${MAX_DEPTH} levels deep`);
      return c === '{' ? object(path, depth + 1) : array(path, depth + 1);
    }
    if (c === '"') return void string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i) && !/[\w$]/.test(text[i + word.length] ?? '')) {
        i += word.length;
        return;
      }
    }
    return void unexpected();
  };

  const object = (path: string, depth: number): void => {
    i++; // {
    const seen = new Set<string>();
    skipSpace();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipSpace();
      if (text[i] === '}') return fail('trailing comma before }');
      if (text[i] !== '"') {
        if (i < text.length && text[i] !== "'" && text[i] !== '/') return fail('expected a property name in double quotes');
        return void unexpected();
      }
      const keyAt = i;
      const key = string();
      const where = path ? `${path}.${key}` : key;
      if (seen.has(key)) return fail(`duplicate key "${key}"${path ? ` in ${path}` : ''} (JSON would keep only the last one)`, keyAt);
      seen.add(key);
      skipSpace();
      if (text[i] !== ':') return i >= text.length ? unexpected() : fail(`expected ':' after "${key}"`);
      i++;
      value(where, depth);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      if (i >= text.length || text[i] === '/') return void unexpected();
      return fail(`expected ',' or '}' after the value of "${key}"`);
    }
  };

  const array = (path: string, depth: number): void => {
    i++; // [
    skipSpace();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (let k = 0; ; k++) {
      skipSpace();
      if (text[i] === ']') return fail('trailing comma before ]');
      value(`${path}.${k}`, depth);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      if (i >= text.length || text[i] === '/') return void unexpected();
      return fail("expected ',' or ']' after an array element");
    }
  };

  value('', 0);
  skipSpace();
  if (i < text.length) fail(text[i] === '/' ? 'comments are not allowed in JSON' : 'more text after the end of the JSON value');
}

/** A character as it can be shown on one line: 'x', or U+XXXX for control and invisible ones. */
function showChar(c: string): string {
  const code = c.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xfffd || code === 0x2028 || code === 0x2029
    ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
    : `'${c}'`;
}
