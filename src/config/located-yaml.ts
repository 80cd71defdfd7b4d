/**
 * YAML parsing that remembers where every value came from, so that a configuration error can name
 * the file, the line and the key. Duplicate keys are errors (a silently shadowed `duration` is the
 * kind of mistake a port-knocking config must not hide).
 */

import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../core/errors.js';

export type KeyPath = readonly (string | number)[];

export interface LocatedYaml {
  readonly file: string;
  readonly value: unknown;
  /** 1-based line of the value at `path`, or of its nearest existing parent. */
  lineOf(path: KeyPath): number | undefined;
  /** 1-based line of the key `key` inside the mapping at `path` (for unknown keys). */
  lineOfKey(path: KeyPath, key: string): number | undefined;
}

export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

export function parseLocatedYaml(file: string, text: string): LocatedYaml {
  const lines = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = lines.linePos(first.pos[0]).line;
    // For a duplicate key, name it: the text at the error's position up to the colon.
    const key = first.code === 'DUPLICATE_KEY' ? /^\s*-?\s*([^:#\n]+?)\s*:/.exec(text.slice(first.pos[0]))?.[1] : undefined;
    throw new ConfigError(file, line, key, `YAML syntax: ${first.message.split('\n')[0]}`);
  }
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as Node | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  const nodeAt = (path: KeyPath): unknown => {
    for (let n = path.length; n >= 0; n--) {
      const node = path.length === 0 || n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (node !== undefined && node !== null && typeof node === 'object' && 'range' in node) return node;
    }
    return doc.contents;
  };
  return {
    file,
    value: doc.toJS({ maxAliasCount: 100 }) as unknown,
    lineOf: (path) => {
      // The key's own line, where there is one: a block value starts on the line after its key.
      const last = path[path.length - 1];
      if (typeof last === 'string') {
        const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
          if (pair) return lineAt(pair.key);
        }
      }
      return lineAt(nodeAt(path));
    },
    lineOfKey: (path, key) => {
      const parent = nodeAt(path);
      if (isMap(parent)) {
        for (const pair of parent.items) {
          const k = pair.key as Node | null;
          if (k && (k as { value?: unknown }).value === key) return lineAt(k);
        }
      }
      if (isSeq(parent)) return lineAt(parent);
      return lineAt(parent);
    },
  };
}
