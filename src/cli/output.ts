/** CLI output helpers: results on stdout, progress and messages on stderr. */
export const out = (line: string) => process.stdout.write(`${line}\n`);
export const say = (line: string) => process.stderr.write(`${line}\n`);

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
