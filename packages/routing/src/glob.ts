const cache = new Map<string, RegExp>();

/** Glob match: `*` matches any run of characters (dots included); everything else is literal. */
export function globMatches(pattern: string, value: string): boolean {
  let regex = cache.get(pattern);
  if (!regex) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    regex = new RegExp(`^${body}$`, 's');
    cache.set(pattern, regex);
  }
  return regex.test(value);
}

export function anyGlobMatches(patterns: readonly string[], value: string): boolean {
  return patterns.some((pattern) => globMatches(pattern, value));
}
