import YAML, { type SchemaOptions } from 'yaml';
import { type ErrorCode, SignetError } from './errors.ts';

export interface YamlOptions {
  /** The error code of a refusal (default INVALID_INPUT). */
  code?: ErrorCode;
  /** Details the refusal carries (e.g. the file). */
  details?: Record<string, unknown>;
  /** Aliases a document may expand (YAML's "billion laughs"); default 100. */
  maxAliasCount?: number;
  customTags?: SchemaOptions['customTags'];
}

/**
 * Every document of a YAML (or JSON) text as plain values; an empty document is null. One
 * reader for configs, policies, identities and manifests, so that each refuses the same way:
 * a syntax error, a duplicate key, an unresolved alias or tag (a warning the library would
 * print on stderr and then read the value as text), more aliases than allowed, and nesting
 * deeper than the parser's stack all give one SignetError, `<source>: is not YAML or JSON:
 * <first line of the problem>`.
 */
export function parseYamlDocuments(
  text: string,
  source: string,
  opts: YamlOptions = {},
): unknown[] {
  try {
    const docs = YAML.parseAllDocuments(text, {
      uniqueKeys: true,
      logLevel: 'silent',
      ...(opts.customTags ? { customTags: opts.customTags } : {}),
    });
    const list = Array.isArray(docs) ? docs : [docs];
    return list.map((d) => {
      const problem = d.errors[0] ?? d.warnings[0];
      if (problem) throw problem;
      return d.toJS({ maxAliasCount: opts.maxAliasCount ?? 100 }) as unknown;
    });
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/:$/, '');
    throw refusal(source, opts, first, e);
  }
}

/** `<source>: is not YAML or JSON: <problem>`, with the caller's code and details. */
function refusal(source: string, opts: YamlOptions, problem: string, cause?: unknown): SignetError {
  return new SignetError(
    'invalid-input',
    opts.code ?? 'INVALID_INPUT',
    `is not YAML or JSON: ${problem}`,
    {
      field: source,
      cause,
      ...(opts.details ? { details: opts.details } : {}),
    },
  );
}

/** The one document of a YAML (or JSON) text (null when empty); several are refused. */
export function parseYamlDocument(text: string, source: string, opts: YamlOptions = {}): unknown {
  const docs = parseYamlDocuments(text, source, opts);
  if (docs.length > 1)
    throw refusal(source, opts, `it holds ${docs.length} documents, one is expected`);
  return docs[0] ?? null;
}
