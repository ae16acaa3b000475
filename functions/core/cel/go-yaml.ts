/**
 * `parseYAML()` as Tekton decodes it with sigs.k8s.io/yaml: YAML 1.1 (`yes`/`no` are booleans, `<<` merges),
 * converted to JSON and decoded into a map, so numbers are doubles, keys are strings, the document must be a mapping
 * (an empty one gives an empty map), and timestamps stay the text they were written as. The `yaml` package is handed
 * in, so a config that never calls parseYAML never loads it.
 */

/** The part of the `yaml` module used here. */
export interface YamlModule {
  parse(source: string, options: Record<string, unknown>): unknown;
}

export class YamlDecodeError extends Error {
  override readonly name = 'YamlDecodeError';
}

const TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp';

export function parseYamlAsTekton(yaml: YamlModule, text: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = yaml.parse(text, {
      version: '1.1',
      merge: true,
      uniqueKeys: true,
      maxAliasCount: 100,
      prettyErrors: false,
      customTags: (tags: Array<{ tag: string }>) => tags.filter((tag) => tag.tag !== TIMESTAMP_TAG),
    });
  } catch (error) {
    throw new YamlDecodeError(`failed to decode YAML in parseYAML: ${firstLine((error as Error).message)}`);
  }
  if (document === null || document === undefined) return {};
  const json = asJson(document);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new YamlDecodeError(`failed to decode YAML in parseYAML: the document is ${Array.isArray(json) ? 'a list' : `a ${typeof json}`}, not a mapping`);
  }
  return json as Record<string, unknown>;
}

function asJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new YamlDecodeError(`failed to decode YAML in parseYAML: ${value} has no JSON form`);
    return value;
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(asJson);
  if (value instanceof Set) return [...value].map(asJson);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Object.fromEntries(entries.map(([key, item]) => [typeof key === 'string' ? key : String(key), asJson(item)]));
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
