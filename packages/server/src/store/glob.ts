/** A compiled glob: call it with a key; `steps` counts the work done so far (32-bit word operations). */
export interface GlobMatcher {
  (key: string): boolean;
  readonly steps: number;
}

/**
 * A glob over cache keys: `*` matches any run of characters, `?` one character, everything else
 * itself. Compiled to a non-backtracking automaton run bit-parallel (one bit per pattern
 * position, 32 positions per word): a key costs at most length(key) × ⌈length(pattern) / 32⌉
 * word steps, whatever the pattern, and matching stops as soon as no position is alive.
 */
export function globMatcher(glob: string): GlobMatcher {
  // Runs of `*` are one `*`: with no two stars adjacent, the empty-match closure is one shift.
  const tokens = [...glob].filter((c, i, all) => c !== '*' || all[i - 1] !== '*');
  const words = Math.ceil((tokens.length + 1) / 32); // state i: the first i tokens matched
  const bit = (mask: Uint32Array, i: number) => {
    mask[i >>> 5] = (mask[i >>> 5] as number) | (1 << (i & 31));
  };
  const stars = new Uint32Array(words);
  const any = new Uint32Array(words); // positions where a `?` lets any character through
  tokens.forEach((token, i) => {
    if (token === '*') bit(stars, i);
    else if (token === '?') bit(any, i);
  });
  // Per character of the pattern, the positions it lets through (plus every `?`).
  const literal = new Map<number, Uint32Array>();
  tokens.forEach((token, i) => {
    if (token === '*' || token === '?') return;
    const code = token.codePointAt(0) as number;
    let mask = literal.get(code);
    if (!mask) {
      mask = Uint32Array.from(any);
      literal.set(code, mask);
    }
    bit(mask, i);
  });
  const ascii = Array.from({ length: 128 }, (_, code) => literal.get(code) ?? any);
  const accept = tokens.length;

  let steps = 0;
  let state = new Uint32Array(words);
  let next = new Uint32Array(words);
  const matcher = ((key: string): boolean => {
    state.fill(0);
    state[0] = 1 | ((stars[0] as number) & 1 ? 2 : 0); // a leading star matches the empty run
    steps += 1;
    for (let i = 0; i < key.length; i++) {
      const code = key.codePointAt(i) as number;
      if (code > 0xffff) i++; // one character, two code units
      const through = code < 128 ? (ascii[code] as Uint32Array) : (literal.get(code) ?? any);
      let moveCarry = 0;
      let starCarry = 0;
      let alive = 0;
      for (let w = 0; w < words; w++) {
        const s = state[w] as number;
        const star = stars[w] as number;
        // Advance past a matching token (a shift by one, across words), or stay on a star...
        const moved = s & (through[w] as number);
        let n = (moved << 1) | moveCarry | (s & star);
        moveCarry = moved >>> 31;
        // ...and a star reached matches the empty run too: the position after it is alive.
        const reached = n & star;
        n |= (reached << 1) | starCarry;
        starCarry = reached >>> 31;
        next[w] = n;
        alive |= n;
      }
      steps += words;
      if (alive === 0) return false;
      [state, next] = [next, state];
    }
    return ((state[accept >>> 5] as number) & (1 << (accept & 31))) !== 0;
  }) as GlobMatcher;
  Object.defineProperty(matcher, 'steps', { get: () => steps });
  return matcher;
}

/** The literal characters a glob starts with, before its first `*` or `?`: every match starts with them. */
export function globPrefix(glob: string): string {
  const wild = glob.search(/[*?]/);
  return wild === -1 ? glob : glob.slice(0, wild);
}

/**
 * The keys of `batches` that match `glob`, at most `limit`, giving the event loop back (one
 * `setImmediate`) every `stepsPerTurn` steps of matching: a long pattern over many long keys
 * never holds the loop for longer than about one key's worth of work past that budget.
 */
export async function matchKeys(
  batches: Iterable<readonly string[]> | AsyncIterable<readonly string[]>,
  glob: string,
  limit: number,
  stepsPerTurn: number,
): Promise<string[]> {
  const matches = globMatcher(glob);
  const out: string[] = [];
  let yielded = 0;
  for await (const batch of batches) {
    for (const key of batch) {
      if (out.length >= limit) return out;
      if (matches(key)) out.push(key);
      if (matches.steps - yielded >= stepsPerTurn) {
        yielded = matches.steps;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  return out;
}

/** The glob in Redis `MATCH` syntax: `*` and `?` kept, Redis's other specials escaped. */
export function globToRedisMatch(glob: string): string {
  return glob.replace(/[\\[\]^-]/g, '\\$&');
}
