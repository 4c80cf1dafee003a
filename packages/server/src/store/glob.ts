/**
 * A glob over cache keys: `*` matches any run of characters, `?` one character, everything else
 * itself. Compiled to a regular expression with every other character escaped, so a pattern can
 * never become an expensive regex (no user-controlled alternation or nesting).
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '[\\s\\S]*';
    else if (char === '?') source += '[\\s\\S]';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  // Runs of `*` collapse: `a**b` is `a*b`, keeping matching linear.
  return new RegExp(`^${source.replace(/(?:\[\\s\\S\]\*)+/g, '[\\s\\S]*')}$`);
}

/** The glob in Redis `MATCH` syntax: `*` and `?` kept, Redis's other specials escaped. */
export function globToRedisMatch(glob: string): string {
  return glob.replace(/[\\[\]^-]/g, '\\$&');
}
