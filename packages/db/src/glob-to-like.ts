/** `order.*` -> `order.%`: LIKE's own wildcards and the escape character are taken literally. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}
