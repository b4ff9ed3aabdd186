import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Runtime } from '../../services/runtime.ts';
import { actingUser } from '../directory-lookup.ts';
import type { CliCommand } from '../command.ts';
import { CliError, out, say } from '../output.ts';

export interface RecordsExportFlags { module: string; fields?: string; criteria?: string; output?: string; user?: string; org?: string }

/** `--criteria`: the JSON itself, or the name of a file holding it. */
async function readCriteria(arg: string | undefined): Promise<string | undefined> {
  if (arg === undefined) return undefined;
  if (/^\s*[{[]/.test(arg)) return arg;
  try {
    return await readFile(arg, 'utf8');
  } catch (e) {
    throw new CliError(`--criteria is neither JSON nor a readable file: ${(e as Error).message}`);
  }
}

/**
 * `auditrail records export --module Leads`: the module data export (as `GET
 * /api/v1/modules/{module}/export`), as a user with their permissions (`--user`, default the first
 * Administrator). The `exported` entry is written before the file is opened; the CSV goes to
 * `--output` or standard output.
 */
export async function recordsExportCommand(rt: Runtime, opts: RecordsExportFlags, stdout: Writable = process.stdout) {
  const { actor, user } = await actingUser(rt, opts);
  const fields = opts.fields?.split(',').map((f) => f.trim()).filter(Boolean);
  const exp = await rt.services.moduleExports.exportModule(actor, opts.module, { fields, criteria: await readCriteria(opts.criteria) });
  const body = Readable.from(exp.csv());
  if (opts.output) {
    try {
      await pipeline(body, createWriteStream(opts.output));
    } catch (e) {
      await rm(opts.output, { force: true });
      throw e;
    }
    out(opts.output);
  } else {
    try {
      await pipeline(body, stdout, { end: false });
    } catch (e) {
      // A reader that stops early (`| head`) closes the pipe: the export was audited in full and
      // the reader has what it wanted, so that is no error.
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    }
  }
  say(`exported ${exp.count} ${exp.count === 1 ? exp.module.singular : exp.module.plural} as ${user.email} (audited as exported)`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('export').description('a module\'s records as CSV, as a user with the export permission; audited as exported')
      .requiredOption('--module <api name>', 'the module, e.g. Leads')
      .option('--fields <list>', 'comma-separated field api names (default: every field)')
      .option('--criteria <json or file>', 'only the records that meet these criteria (Zoho\'s Bulk Read grammar), given as JSON or a file')
      .option('--output <file.csv>', 'write here (default: standard output)')
      .option('--user <email>', 'export as this user, with their permissions (default: the first Administrator)')
      .option('--org <id>', 'organisation id (default: the first)')
      .action(ctx.action((o: RecordsExportFlags) => ctx.withRuntime({ migrate: true }, (rt) => recordsExportCommand(rt, o))));
  },
};
