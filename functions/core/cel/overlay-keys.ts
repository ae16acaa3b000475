/**
 * Overlay keys as Tekton sets them with sjson: `a.b` nests, `\.` is a literal dot, a number addresses (and creates) a
 * list element, `-1` appends to a list, and `:` before a part makes it a plain key. sjson's query characters are refused
 * when the config loads (see overlayKeyProblem).
 */

export class OverlayKeyError extends Error {
  override readonly name = 'OverlayKeyError';
}

interface KeyPart {
  part: string;
  force: boolean;
}

const MAX_INDEX = 10_000;
const QUERY_CHARACTERS = /[|#@*?]/;

/** Why a key cannot be used, or undefined. */
export function overlayKeyProblem(key: string): string | undefined {
  if (key === '') return 'an overlay key cannot be empty';
  const unescaped = key.replace(/\\./g, '');
  if (QUERY_CHARACTERS.test(unescaped)) return `overlay key "${key}" uses sjson's query syntax (| # @ * ?), which tekton-bridge does not support`;
  if (splitKey(key).some(({ part }) => part === '')) return `overlay key "${key}" has an empty part`;
  return undefined;
}

function splitKey(key: string): KeyPart[] {
  const parts: KeyPart[] = [];
  let part = '';
  let force = false;
  let start = true;
  for (let i = 0; i < key.length; i += 1) {
    const char = key[i] as string;
    if (start && char === ':') {
      force = true;
      start = false;
      continue;
    }
    start = false;
    if (char === '\\' && i + 1 < key.length) {
      part += key[i + 1];
      i += 1;
    } else if (char === '.') {
      parts.push({ part, force });
      part = '';
      force = false;
      start = true;
    } else {
      part += char;
    }
  }
  parts.push({ part, force });
  return parts;
}

function isIndex({ part, force }: KeyPart): boolean {
  return !force && (/^[0-9]+$/.test(part) || part === '-1');
}

function define(target: object, key: string | number, value: unknown): void {
  // defineProperty, so a key named __proto__ is a key and never the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function setOverlayValue(extensions: Record<string, unknown>, key: string, value: unknown): void {
  const parts = splitKey(key);
  let node: unknown = extensions;
  parts.forEach((keyPart, i) => {
    const last = i === parts.length - 1;
    const next = parts[i + 1];
    const child = (existing: unknown): unknown => {
      if (last) return value;
      if (existing !== null && typeof existing === 'object') return existing;
      return isIndex(next as KeyPart) ? [] : {};
    };
    if (Array.isArray(node)) {
      if (!isIndex(keyPart)) throw new OverlayKeyError(`cannot set array element for non-numeric key '${keyPart.part}'`);
      const index = keyPart.part === '-1' ? node.length : Number(keyPart.part);
      if (index > MAX_INDEX) throw new OverlayKeyError(`list index ${keyPart.part} in an overlay key is over ${MAX_INDEX}`);
      while (node.length < index) node.push(null);
      const created = child(node[index]);
      node[index] = created;
      node = created;
      return;
    }
    const record = node as Record<string, unknown>;
    const created = child(Object.hasOwn(record, keyPart.part) ? record[keyPart.part] : undefined);
    define(record, keyPart.part, created);
    node = created;
  });
}
