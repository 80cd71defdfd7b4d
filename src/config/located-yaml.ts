/**
 * YAML parsing that remembers where every value came from, so that a configuration error can name
 * the file, the line and the key. Duplicate keys are errors (a silently shadowed `duration` is the
 * kind of mistake a port-knocking config must not hide). Whatever the text, the only exception is a
 * ConfigError: a document nested so deeply that the parser runs out of stack is one too, the one
 * fault without a line (it belongs to the file as a whole).
 */

import {
  isAlias,
  isCollection,
  isMap,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import { ConfigError } from '../core/errors.js';
import { MAX_CONFIG_YAML_ALIASES } from '../core/limits.js';

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
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    throw tooDeep(file, err);
  }
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = lines.linePos(first.pos[0]).line;
    // For a duplicate key, name it: the text at the error's position up to the colon.
    const key =
      first.code === 'DUPLICATE_KEY' ? /^\s*-?\s*([^:#\n]+?)\s*:/.exec(text.slice(first.pos[0]))?.[1] : undefined;
    throw new ConfigError(file, line, key, `YAML syntax: ${first.message.split('\n')[0]}`);
  }
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as Node | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  let value: unknown;
  try {
    // A list, a mapping or an alias as a key is never configuration, and toJS would stringify it at
    // every enclosing level: nested keys (`? ? ? ... x`) take exponential time. Refuse them first.
    let badKey: Node | undefined;
    visit(doc, {
      Pair(_key, pair) {
        if (!isCollection(pair.key) && !isAlias(pair.key)) return undefined;
        badKey = pair.key as Node;
        return visit.BREAK;
      },
    });
    if (badKey !== undefined)
      throw new ConfigError(
        file,
        lineAt(badKey) ?? 1,
        undefined,
        'a key must be a plain value, not a list, a mapping or an alias',
      );
    value = doc.toJS({ maxAliasCount: MAX_CONFIG_YAML_ALIASES }) as unknown;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof RangeError) throw tooDeep(file, err);
    // toJS throws (a ReferenceError) for an alias without its anchor and for an alias bomb: locate
    // it at the first unresolved alias, else at the first alias.
    let firstAlias: Alias | undefined;
    let unresolved: Alias | undefined;
    visit(doc, {
      Alias(_key, node) {
        firstAlias ??= node;
        if (node.resolve(doc) !== undefined) return undefined;
        unresolved = node;
        return visit.BREAK;
      },
    });
    throw new ConfigError(
      file,
      lineAt(unresolved ?? firstAlias) ?? 1,
      undefined,
      `YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const nodeAt = (path: KeyPath): unknown => {
    for (let n = path.length; n >= 0; n--) {
      const node = path.length === 0 || n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (node !== undefined && node !== null && typeof node === 'object' && 'range' in node) return node;
    }
    return doc.contents;
  };
  return {
    file,
    value,
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

/** The parser and toJS recurse once per nesting level; a RangeError from them is a stack overflow. */
function tooDeep(file: string, err: unknown): unknown {
  if (!(err instanceof RangeError)) return err;
  return new ConfigError(file, undefined, undefined, 'YAML: nested too deeply to parse');
}
