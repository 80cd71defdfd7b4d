/**
 * The keys a mapping of knockgate.yaml may hold, read from the schema itself (so they cannot
 * drift from it): the schema is walked along the path of the mapping that has the unknown key,
 * through lists, optional and defaulted values, refinements and unions. Returns [] where the path
 * leads to no object schema (then no suggestion is made).
 */

import { z } from 'zod';

export function knownKeysAt(schema: z.ZodTypeAny, path: readonly (string | number)[]): string[] {
  const keys = new Set<string>();
  /** The schema under the wrappers that do not change a value's keys. */
  const unwrap = (s: z.ZodTypeAny): z.ZodTypeAny | null => {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) return s.unwrap();
    if (s instanceof z.ZodDefault) return s._def.innerType;
    if (s instanceof z.ZodEffects) return s._def.schema;
    if (s instanceof z.ZodLazy) return s.schema;
    return null;
  };
  const visit = (s: z.ZodTypeAny, rest: readonly (string | number)[], depth: number): void => {
    if (depth > 32) return; // a bound on wrappers; the schema nests far less
    const inner = unwrap(s);
    if (inner !== null) visit(inner, rest, depth + 1);
    else if (s instanceof z.ZodUnion || s instanceof z.ZodDiscriminatedUnion) {
      for (const option of s.options as z.ZodTypeAny[]) visit(option, rest, depth + 1);
    } else if (s instanceof z.ZodArray) {
      if (rest.length > 0 && typeof rest[0] === 'number') visit(s.element, rest.slice(1), depth + 1);
    } else if (s instanceof z.ZodObject) {
      const shape = s.shape as Record<string, z.ZodTypeAny>;
      if (rest.length === 0) for (const k of Object.keys(shape)) keys.add(k);
      else {
        const next = shape[String(rest[0])];
        if (next !== undefined) visit(next, rest.slice(1), depth + 1);
      }
    }
  };
  visit(schema, path, 0);
  return [...keys];
}
