/**
 * What every part of compile() shares: the located source (for FILE:LINE: KEY errors), the
 * schema-checked raw config, whether the file may hold secrets, the warnings collected so far, and
 * the registries that cross-door rules read (names, opened ports, SPA ports, client and door ids).
 *
 * Contract: `fail` always throws a ConfigError naming `src.file`, the line of `path` (or of its
 * nearest existing parent) and the dotted key path; nothing here is I/O.
 */

import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { formatKeyPath, type LocatedYaml } from '../located-yaml.js';
import type { RawConfig } from '../schema.js';

export type ConfigPath = (string | number)[];

export interface CompileContext {
  readonly src: LocatedYaml;
  readonly raw: RawConfig;
  /** The file is readable by its owner only, so it may hold secret keys. */
  readonly secretsProtected: boolean;
  /** Things that load but do not carry over exactly (from imported access.conf files). */
  readonly warnings: string[];
  /** Protected port (endpointKey) → the door that opens it. */
  readonly openedBy: ReadonlyMap<number, string>;
  /** SPA/fwknop UDP port → the door that receives on it. */
  readonly spaPortOf: ReadonlyMap<number, string>;
  /** SPA client id (hex) → `door/client` that holds it; filled as SPA doors compile. */
  readonly clientIds: Map<string, string>;
  /** SPA door id → the door that uses it; filled as SPA doors compile. */
  readonly spaDoorIds: Map<string, string>;
  fail(path: ConfigPath, message: string): never;
  /** A path from the file, made absolute against the configuration file's directory. */
  resolvePath(p: string): string;
}

export function compileContext(
  src: LocatedYaml,
  raw: RawConfig,
  secretsProtected: boolean,
  registries: { openedBy: ReadonlyMap<number, string>; spaPortOf: ReadonlyMap<number, string> },
): CompileContext {
  return {
    src,
    raw,
    secretsProtected,
    warnings: [],
    openedBy: registries.openedBy,
    spaPortOf: registries.spaPortOf,
    clientIds: new Map(),
    spaDoorIds: new Map(),
    fail: (path, message) => failAt(src, path, message),
    resolvePath: (p) => resolve(dirname(src.file), p),
  };
}

export function failAt(src: LocatedYaml, path: ConfigPath, message: string): never {
  throw new ConfigError(src.file, src.lineOf(path), formatKeyPath(path), message);
}
