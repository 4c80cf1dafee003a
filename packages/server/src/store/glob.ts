/**
 * A glob over cache keys: `*` matches any run of characters, `?` one character, everything else
 * itself. Matched by the two-pointer wildcard algorithm, not a regular expression, so no
 * pattern can make matching expensive (at most length(pattern) × length(key) steps).
 */
export function globMatcher(glob: string): (key: string) => boolean {
  const pattern = [...glob];
  return (key: string): boolean => {
    const text = [...key];
    let p = 0;
    let t = 0;
    let star = -1;
    let resume = 0;
    while (t < text.length) {
      if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === text[t]))) {
        p++;
        t++;
      } else if (p < pattern.length && pattern[p] === '*') {
        star = p++;
        resume = t;
      } else if (star !== -1) {
        p = star + 1;
        t = ++resume;
      } else return false;
    }
    while (p < pattern.length && pattern[p] === '*') p++;
    return p === pattern.length;
  };
}

/** The glob in Redis `MATCH` syntax: `*` and `?` kept, Redis's other specials escaped. */
export function globToRedisMatch(glob: string): string {
  return glob.replace(/[\\[\]^-]/g, '\\$&');
}
