/** Where commands write: human text by default, JSON with --json (for scripts). */
export interface Output {
  info(message: string): void;
  result<T>(value: T, asText: () => string): void;
  /** A side remark on stderr; left out under --json, where stderr carries only the error. */
  warn(message: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    info: (message) => {
      if (!json) process.stdout.write(`${message}\n`);
    },
    result: (value, asText) => {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${asText()}\n`);
    },
    warn: (message) => {
      if (!json) process.stderr.write(`orchestron: ${message}\n`);
    },
  };
}
