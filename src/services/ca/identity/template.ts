/**
 * A small evaluator for the subset of Go's text/template that Fulcio's `ci-provider` claim
 * templates use (fulcio:pkg/identity/ciprovider/principal.go, config/identity/config.yaml):
 * `{{ .claim }}`, `{{ . }}`, `{{ index . "k" }}`, parenthesised calls, string literals, and
 * `{{ if <pipeline> }}…{{ else if … }}…{{ else }}…{{ end }}` with the functions `eq`, `ne`,
 * `not`, `and`, `or`, `index`. Trim markers `{{-` / `-}}` are honoured. Missing map keys read
 * with `.key` are an error (Fulcio runs templates with `missingkey=error`); `index` of a missing
 * key gives "" as in Go. Output is never escaped (text/template, not html/template).
 *
 * Templates come from the CA's configuration (trusted); the data are token claims (untrusted),
 * which are only ever substituted, never parsed as template text.
 */
export type TemplateData = Readonly<Record<string, string>>;

type Value = string | boolean | TemplateData;

type Expr =
  | { kind: 'dot' }
  | { kind: 'field'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'call'; fn: string; args: Expr[] };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: Expr }
  | { kind: 'if'; cond: Expr; then: Node[]; else: Node[] };

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface CompiledTemplate {
  readonly source: string;
  execute(data: TemplateData): string;
}

/** Parses once (throws TemplateError on bad syntax); `execute` may be called many times. */
export function compileTemplate(source: string): CompiledTemplate {
  const nodes = parse(lex(source), source);
  return {
    source,
    execute: (data) => {
      const out: string[] = [];
      run(nodes, data, out);
      return out.join('');
    },
  };
}

// ---- lexing: split into text and action pieces ----------------------------------------------

type Piece = { kind: 'text'; text: string } | { kind: 'action'; body: string };

function lex(src: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      pieces.push({ kind: 'text', text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) pieces.push({ kind: 'text', text });
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError(`unclosed action starting at offset ${open}`);
    let end = close;
    let trimAfter = false;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) {
      end = close - 1;
      trimAfter = true;
    }
    pieces.push({ kind: 'action', body: src.slice(start, end).trim() });
    i = close + 2;
    if (trimAfter) while (i < src.length && /\s/.test(src[i]!)) i++;
  }
  return pieces;
}

/** Index of the `}}` closing an action, skipping `}}` inside string literals. */
function findClose(src: string, from: number): number {
  let inStr = false;
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

// ---- parsing ----------------------------------------------------------------------------------

function parse(pieces: Piece[], source: string): Node[] {
  let pos = 0;
  // Parses nodes until an `else`/`end` action; returns which one stopped it.
  function block(top: boolean): { nodes: Node[]; stop: string | undefined } {
    const nodes: Node[] = [];
    while (pos < pieces.length) {
      const p = pieces[pos++]!;
      if (p.kind === 'text') {
        nodes.push({ kind: 'text', text: p.text });
        continue;
      }
      const body = p.body;
      if (body.startsWith('/*')) continue; // comment
      if (body === 'end' || body === 'else' || body.startsWith('else if ')) {
        if (top) throw new TemplateError(`unexpected {{${body}}} in "${source}"`);
        return { nodes, stop: body };
      }
      if (body.startsWith('if ')) {
        nodes.push(ifNode(body.slice(3)));
        continue;
      }
      nodes.push({ kind: 'output', expr: parseExpr(body, source) });
    }
    if (!top) throw new TemplateError(`missing {{end}} in "${source}"`);
    return { nodes, stop: undefined };
  }
  function ifNode(condText: string): Node {
    const cond = parseExpr(condText, source);
    const thenPart = block(false);
    let elsePart: Node[] = [];
    if (thenPart.stop === 'else') {
      const e = block(false);
      if (e.stop !== 'end')
        throw new TemplateError(`expected {{end}} after {{else}} in "${source}"`);
      elsePart = e.nodes;
    } else if (thenPart.stop?.startsWith('else if ')) {
      // `else if X` is sugar for `else` + nested `if X` sharing the same `end`.
      elsePart = [ifNode(thenPart.stop.slice('else if '.length))];
    }
    return { kind: 'if', cond, then: thenPart.nodes, else: elsePart };
  }
  return block(true).nodes;
}

type Tok = { t: 'lp' } | { t: 'rp' } | { t: 'str'; v: string } | { t: 'word'; v: string };

function tokenize(text: string, source: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(') {
      toks.push({ t: 'lp' });
      i++;
    } else if (c === ')') {
      toks.push({ t: 'rp' });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let v = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          const n = text[j + 1];
          v += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
          j += 2;
        } else v += text[j++];
      }
      if (j >= text.length) throw new TemplateError(`unterminated string in "${source}"`);
      toks.push({ t: 'str', v });
      i = j + 1;
    } else if (c === '`') {
      const j = text.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError(`unterminated raw string in "${source}"`);
      toks.push({ t: 'str', v: text.slice(i + 1, j) });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()"]/.test(text[j]!)) j++;
      toks.push({ t: 'word', v: text.slice(i, j) });
      i = j;
    }
  }
  return toks;
}

const FUNCTIONS = new Set(['eq', 'ne', 'not', 'and', 'or', 'index']);

function parseExpr(text: string, source: string): Expr {
  if (text.includes('|')) throw new TemplateError(`pipes are not supported in "${source}"`);
  const toks = tokenize(text, source);
  let pos = 0;
  function operand(): Expr {
    const tok = toks[pos++];
    if (!tok) throw new TemplateError(`missing operand in "${source}"`);
    if (tok.t === 'lp') {
      const e = command();
      if (toks[pos++]?.t !== 'rp') throw new TemplateError(`missing ) in "${source}"`);
      return e;
    }
    if (tok.t === 'rp') throw new TemplateError(`unexpected ) in "${source}"`);
    if (tok.t === 'str') return { kind: 'string', value: tok.v };
    const w = tok.v;
    if (w === '.') return { kind: 'dot' };
    if (w === 'true' || w === 'false') return { kind: 'bool', value: w === 'true' };
    if (/^\.[A-Za-z_][A-Za-z0-9_]*$/.test(w)) return { kind: 'field', name: w.slice(1) };
    if (FUNCTIONS.has(w)) return { kind: 'call', fn: w, args: [] };
    throw new TemplateError(`unsupported term "${w}" in "${source}"`);
  }
  // A command: a function name followed by arguments, or a single operand.
  function command(): Expr {
    const first = toks[pos];
    if (first?.t === 'word' && FUNCTIONS.has(first.v)) {
      pos++;
      const args: Expr[] = [];
      while (pos < toks.length && toks[pos]!.t !== 'rp') args.push(operand());
      return { kind: 'call', fn: first.v, args };
    }
    return operand();
  }
  const e = command();
  if (pos !== toks.length)
    throw new TemplateError(`unexpected text after expression in "${source}"`);
  return e;
}

// ---- evaluation -------------------------------------------------------------------------------

function run(nodes: Node[], data: TemplateData, out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'text') out.push(n.text);
    else if (n.kind === 'output') out.push(print(evaluate(n.expr, data)));
    else run(truthy(evaluate(n.cond, data)) ? n.then : n.else, data, out);
  }
}

function evaluate(e: Expr, data: TemplateData): Value {
  switch (e.kind) {
    case 'dot':
      return data;
    case 'string':
    case 'bool':
      return e.value;
    case 'field': {
      if (!Object.hasOwn(data, e.name))
        throw new TemplateError(`map has no entry for key "${e.name}"`);
      return data[e.name]!;
    }
    case 'call':
      return call(e.fn, e.args, data);
  }
}

function call(fn: string, args: Expr[], data: TemplateData): Value {
  const need = (n: number) => {
    if (args.length < n) throw new TemplateError(`${fn} needs at least ${n} arguments`);
  };
  switch (fn) {
    case 'index': {
      need(2);
      let v = evaluate(args[0]!, data);
      for (const a of args.slice(1)) {
        if (typeof v !== 'object') throw new TemplateError('index of a non-map value');
        const k = evaluate(a, data);
        if (typeof k !== 'string') throw new TemplateError('index key must be a string');
        v = Object.hasOwn(v, k) ? v[k]! : '';
      }
      return v;
    }
    case 'eq': {
      need(2);
      const a = evaluate(args[0]!, data);
      return args.slice(1).some((b) => same(a, evaluate(b, data)));
    }
    case 'ne':
      if (args.length !== 2) throw new TemplateError('ne needs 2 arguments');
      return !same(evaluate(args[0]!, data), evaluate(args[1]!, data));
    case 'not':
      if (args.length !== 1) throw new TemplateError('not needs 1 argument');
      return !truthy(evaluate(args[0]!, data));
    case 'and': {
      need(1);
      let v: Value = true;
      for (const a of args) if (!truthy((v = evaluate(a, data)))) return v;
      return v;
    }
    case 'or': {
      need(1);
      let v: Value = false;
      for (const a of args) if (truthy((v = evaluate(a, data)))) return v;
      return v;
    }
  }
  throw new TemplateError(`unknown function ${fn}`);
}

function same(a: Value, b: Value): boolean {
  if (typeof a === 'object' || typeof b === 'object')
    throw new TemplateError('eq/ne cannot compare maps');
  if (typeof a !== typeof b) throw new TemplateError('eq/ne: incompatible types for comparison');
  return a === b;
}

function truthy(v: Value): boolean {
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'boolean') return v;
  return Object.keys(v).length > 0;
}

function print(v: Value): string {
  if (typeof v === 'object') throw new TemplateError('cannot print a whole map');
  return String(v);
}
