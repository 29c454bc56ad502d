import { Problem } from '@orchestron/http';

/** Bounds on the JSON numbers of a request (api.max_number_digits, api.max_number_exponent). */
export interface NumberLimits {
  maxDigits: number;
  maxExponent: number;
}

/** The defaults of api.max_number_digits and api.max_number_exponent. */
export const DEFAULT_NUMBER_LIMITS: NumberLimits = { maxDigits: 1000, maxExponent: 400 };

/** What scanning a JSON text found that JSON.parse does not keep. */
export interface JsonTextFacts {
  /**
   * How many characters the text's numbers gain when written out in full, as Postgres's
   * numeric stores them and `payload::text` (what the relays publish) prints them: `1e3`
   * becomes `1000` (+1), `1.50` stays. Negative when numbers shrink (`1.0e0` is `1.0`).
   */
  growth: number;
  /**
   * Per top-level element of an array text (a batch), else one for the whole text: its size
   * as the relays publish it, in UTF-8 bytes: numbers written out and a space after every `:`
   * and `,` (Postgres's jsonb text format).
   */
  elementBytes: number[];
  /** The same for the whole text. */
  totalBytes: number;
}

/**
 * Whether a JSON text may hold a number that breaks the limits or grows when written out: a
 * digit followed by an exponent, or a run of digits longer than maxDigits. False for nearly
 * every request, which then needs no scan (the hot path). May be true for a string's content;
 * the scan then finds nothing.
 */
export function mayHoldLargeNumbers(text: string, limits: NumberLimits): boolean {
  return /\d[eE]/.test(text) || longDigitRun(limits.maxDigits).test(text);
}

let cachedRun: { digits: number; pattern: RegExp } | undefined;
function longDigitRun(maxDigits: number): RegExp {
  if (cachedRun?.digits !== maxDigits) {
    // Digits and points: the mantissa of a number with more than maxDigits digits is such a run.
    cachedRun = { digits: maxDigits, pattern: new RegExp(`[0-9.]{${maxDigits + 1}}`) };
  }
  return cachedRun.pattern;
}

/**
 * The tokens of a JSON text that matter here: strings (skipped whole, so a number inside a
 * string is not one), numbers, separators and brackets. The text was parsed by JSON.parse
 * already, so it is well-formed and this needs no grammar. The string pattern is the unrolled
 * form, which runs in linear time and bounded regexp stack on long strings.
 */
const TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[:,[\]{}]/g;

/**
 * Checks every number of a well-formed JSON text against the limits (422 for the first one
 * that breaks them) and measures the text as it will be stored and published.
 */
export function scanJsonText(text: string, limits: NumberLimits): JsonTextFacts {
  let growth = 0;
  const elementBytes: number[] = [];
  const topIsArray = /^\s*\[/.test(text);
  let depth = 0;
  let elementStart = 0;
  let elementExtra = 0;
  let totalExtra = 0;
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const token = match[0];
    const first = token.charCodeAt(0);
    if (first === 0x22 /* " */) continue;
    if (token === ':' || token === ',') {
      elementExtra += 1;
      totalExtra += 1;
    } else if (token === '[' || token === '{') {
      if (depth === 1 && topIsArray) {
        elementStart = match.index;
        elementExtra = 0;
      }
      depth += 1;
    } else if (token === ']' || token === '}') {
      depth -= 1;
      if (depth === 1 && topIsArray) {
        elementBytes.push(Buffer.byteLength(text.slice(elementStart, match.index + 1)) + elementExtra);
      }
    } else {
      const gained = writtenOutLength(token, limits) - token.length;
      growth += gained;
      elementExtra += gained;
      totalExtra += gained;
    }
  }
  const totalBytes = Buffer.byteLength(text) + totalExtra;
  return { growth, elementBytes: topIsArray ? elementBytes : [totalBytes], totalBytes };
}

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The length of a JSON number written out in full as Postgres's numeric prints it (plain
 * notation, the literal's scale kept: `1.50e1` is `15.0`, `1e3` is `1000`, `-0` is `0`);
 * 422 when the number has more digits or a larger exponent than the limits allow.
 */
export function writtenOutLength(literal: string, limits: NumberLimits): number {
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = NUMBER.exec(literal) ?? [];
  const exponent = Number(exponentText);
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits.length > limits.maxDigits || Math.abs(exponent) > limits.maxExponent) {
    throw new Problem(
      422,
      'number-out-of-bounds',
      'Number out of bounds',
      `the number ${literal.length > 24 ? `${literal.slice(0, 20)}...` : literal} has ${digits.length} digits and exponent ${exponent}; at most ${limits.maxDigits} digits and an exponent between -${limits.maxExponent} and ${limits.maxExponent} are accepted`,
    );
  }
  const scale = Math.max(0, fraction.length - exponent);
  const wholeDigits = digits.length === 0 ? 1 : Math.max(1, digits.length - (fraction.length - exponent));
  return (digits.length > 0 ? sign.length : 0) + wholeDigits + (scale > 0 ? 1 + scale : 0);
}
