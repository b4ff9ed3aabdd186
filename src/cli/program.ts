import { Command, Help } from 'commander';
import type { CliCommand, CliContext, CommandEntry } from './command.ts';

/** The global options, with whether each takes a value (to find the command word after them). */
const GLOBAL_OPTIONS = new Map([['--data-dir', true], ['-h', false], ['--help', false], ['-V', false], ['--version', false]]);

/**
 * The command an argv runs (or asks help for): the first word that is not an option, skipping a
 * global option's value; the word after `help`. Undefined when none is named.
 */
export function commandWord(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === 'help') return args[i + 1];
    if (!a.startsWith('-')) return a;
    if (GLOBAL_OPTIONS.get(a)) i++;
  }
  return undefined;
}

/**
 * The `auditrail` program with every command of `table` listed, but only the one the argv names
 * loaded and defined in full: `--help` and each command start without importing the others.
 */
export async function buildProgram(table: CommandEntry[], argv: string[], ctxFor: (program: Command) => CliContext,
  load: (module: string) => Promise<{ command: CliCommand }>, version = ''): Promise<Command> {
  const program = new Command('auditrail').description('tamper-evident audit log and recycle bin speaking Zoho CRM API v8')
    .option('--data-dir <dir>', 'SQLite data directory (default ./data, env AUDITRAIL_DATA_DIR)')
    .version(version, '-V, --version', 'print the version')
    .exitOverride();
  // Bare `auditrail` shows its help and succeeds: asking what it can do is not an error. (Only
  // then: with a word, an unknown command must still be refused as one.)
  if (commandWord(argv.slice(2)) === undefined) program.action(() => { program.outputHelp(); });
  const terms = new Map(table.map((c) => [c.name, c.term]));
  const plain = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? plain.subcommandTerm(cmd) });
  const ctx = ctxFor(program);
  const word = commandWord(argv.slice(2));
  for (const entry of table) {
    const cmd = program.command(entry.name).description(entry.description);
    if (entry.name === word) (await load(entry.module)).command.define(cmd, ctx);
  }
  return program;
}
