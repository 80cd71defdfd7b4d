/**
 * Reads, validates and compiles knockgate.yaml. Every failure is a ConfigError that names the file,
 * the line and the key (exit code 78); nothing is half-applied because nothing is applied here.
 * The steps: located YAML (located-yaml.ts), the schema (schema.ts), then compile
 * (compile/compile-config.ts) for the rules that span fields and doors.
 */

import { resolve } from 'node:path';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../core/errors.js';
import { MAX_CONFIG_FILE_BYTES } from '../core/limits.js';
import type { Config } from './config.js';
import { compileConfig } from './compile/compile-config.js';
import { formatKeyPath, parseLocatedYaml, type LocatedYaml } from './located-yaml.js';
import { didYouMean } from './did-you-mean.js';
import { configSchema } from './schema.js';
import { knownKeysAt } from './schema-keys.js';
import { readableByOthers, readTrustedFile } from './trusted-file.js';

export const DEFAULT_CONFIG_FILE = '/etc/knockgate/knockgate.yaml';

export function loadConfig(path: string): Config {
  const file = resolve(path);
  const { data, stat } = readTrustedFile(file, { maxBytes: MAX_CONFIG_FILE_BYTES });
  return parseConfigText(file, data.toString('utf8'), readableByOthers(stat) === null);
}

/**
 * Reads a configuration file (ours, knockd.conf) with the size limit, after the checks of
 * trusted-file.ts (owner, not writable by others, nor its directories); ConfigError otherwise.
 */
export function readConfigFile(file: string): string {
  return readTrustedFile(file, { maxBytes: MAX_CONFIG_FILE_BYTES }).data.toString('utf8');
}

/**
 * Validates and compiles configuration text; `file` is used for messages and relative paths.
 * `secretsProtected`: the file is readable by its owner only, so it may hold secret keys.
 */
export function parseConfigText(file: string, text: string, secretsProtected = true): Config {
  const src = parseLocatedYaml(file, text);
  const parsed = configSchema.safeParse(src.value ?? {});
  if (!parsed.success) throw firstInFile(parsed.error.issues.map((issue) => issueToError(src, issue)));
  return compileConfig(src, parsed.data, secretsProtected);
}

/** Reports the error that comes first in the file, so the user fixes errors top to bottom. */
function firstInFile(errors: readonly ConfigError[]): ConfigError {
  return errors.reduce((best, e) => ((e.line ?? Infinity) < (best.line ?? Infinity) ? e : best));
}

/** A schema issue as a located ConfigError, worded for the person editing the file. */
function issueToError(src: LocatedYaml, issue: ZodIssue): ConfigError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] as string;
    const near = didYouMean(key, knownKeysAt(configSchema, issue.path));
    return new ConfigError(
      src.file,
      src.lineOfKey(issue.path, key),
      formatKeyPath([...issue.path, key]),
      near === null ? 'unknown key' : `unknown key; did you mean "${near}"?`,
    );
  }
  const key = formatKeyPath(issue.path) || undefined;
  let message = issue.message;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') message = 'is required';
  else if (issue.code === 'invalid_type') message = `expected ${issue.expected}, got ${issue.received}`;
  else if (issue.code === 'invalid_enum_value')
    message = `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(issue.received)}`;
  return new ConfigError(src.file, src.lineOf(issue.path), key, message);
}
