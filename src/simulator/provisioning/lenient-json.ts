/**
 * The JSON leniency of Gson's JsonReader in lenient mode (what ThingsBoard's JsonParser.parseString uses),
 * for request bodies that strict JSON.parse refuses: unquoted and single-quoted names and strings,
 * `#`, `//` and `/* *\/` comments, `=` or `=>` between name and value, `;` between members. Unquoted values
 * other than true/false/null are kept as their text (Gson keeps numbers as their text too). The document
 * must be one object and nothing after it. No npm package in the dependencies does this, so this is the
 * minimum written here; it is used only after JSON.parse failed.
 */

const LITERAL_END = /[\s/\\;#={}[\]:,'"]/;

class Reader {
  private position = 0;

  constructor(private readonly text: string) {}

  parseDocument(): Record<string, unknown> {
    this.skipSpace();
    if (this.text[this.position] !== '{') throw this.fail('not an object');
    const value = this.parseObject();
    this.skipSpace();
    if (this.position < this.text.length) throw this.fail('data after the document');
    return value;
  }

  private fail(why: string): SyntaxError {
    return new SyntaxError(`lenient JSON: ${why} at ${this.position}`);
  }

  private skipSpace(): void {
    for (;;) {
      const char = this.text[this.position];
      if (char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f') {
        this.position++;
      } else if (char === '#' || this.text.startsWith('//', this.position)) {
        const end = this.text.indexOf('\n', this.position);
        this.position = end < 0 ? this.text.length : end + 1;
      } else if (this.text.startsWith('/*', this.position)) {
        const end = this.text.indexOf('*/', this.position + 2);
        if (end < 0) throw this.fail('unterminated comment');
        this.position = end + 2;
      } else {
        return;
      }
    }
  }

  private parseValue(): unknown {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === '{') return this.parseObject();
    if (char === '[') return this.parseArray();
    if (char === '"' || char === "'") return this.parseQuoted(char);
    const literal = this.parseLiteral();
    if (literal === 'true') return true;
    if (literal === 'false') return false;
    if (literal === 'null') return null;
    return literal;
  }

  private parseObject(): Record<string, unknown> {
    const members: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === '}') {
      this.position++;
      return members;
    }
    for (;;) {
      this.skipSpace();
      const char = this.text[this.position];
      const name = char === '"' || char === "'" ? this.parseQuoted(char) : this.parseLiteral();
      this.skipSpace();
      if (this.text[this.position] === ':') this.position++;
      else if (this.text.startsWith('=>', this.position)) this.position += 2;
      else if (this.text[this.position] === '=') this.position++;
      else throw this.fail('expected ":"');
      members[name] = this.parseValue();
      this.skipSpace();
      const separator = this.text[this.position++];
      if (separator === '}') return members;
      if (separator !== ',' && separator !== ';') throw this.fail('expected "," or "}"');
    }
  }

  private parseArray(): unknown[] {
    const items: unknown[] = [];
    this.position++;
    this.skipSpace();
    if (this.text[this.position] === ']') {
      this.position++;
      return items;
    }
    for (;;) {
      items.push(this.parseValue());
      this.skipSpace();
      const separator = this.text[this.position++];
      if (separator === ']') return items;
      if (separator !== ',' && separator !== ';') throw this.fail('expected "," or "]"');
    }
  }

  private parseLiteral(): string {
    const start = this.position;
    while (this.position < this.text.length && !LITERAL_END.test(this.text[this.position])) this.position++;
    if (this.position === start) throw this.fail('expected a value');
    return this.text.slice(start, this.position);
  }

  private parseQuoted(quote: string): string {
    let value = '';
    this.position++;
    for (;;) {
      if (this.position >= this.text.length) throw this.fail('unterminated string');
      const char = this.text[this.position++];
      if (char === quote) return value;
      if (char !== '\\') {
        value += char;
        continue;
      }
      const escaped = this.text[this.position++];
      switch (escaped) {
        case 'u': {
          const hex = this.text.slice(this.position, this.position + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.fail('bad \\u escape');
          value += String.fromCharCode(parseInt(hex, 16));
          this.position += 4;
          break;
        }
        case 't':
          value += '\t';
          break;
        case 'b':
          value += '\b';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 'f':
          value += '\f';
          break;
        case '"':
        case "'":
        case '\\':
        case '/':
        case '\n':
          value += escaped;
          break;
        default:
          throw this.fail('invalid escape sequence');
      }
    }
  }
}

/** Parses `text` as one JSON object the way Gson's lenient reader does; throws SyntaxError otherwise. */
export function parseLenientObject(text: string): Record<string, unknown> {
  return new Reader(text).parseDocument();
}
