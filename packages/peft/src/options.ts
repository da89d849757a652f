import { z } from '@dfdet/core';

function validRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

/** A list of JavaScript regexes (checked when the config is validated). */
export const regexList = z
  .array(z.string().refine(validRegex, { message: 'not a valid regular expression' }))
  .describe('JavaScript regular expressions, searched (not anchored) in the name');

/** Compiles a validated regex list. */
export function compileAll(patterns: readonly string[]): RegExp[] {
  return patterns.map((p) => new RegExp(p));
}
