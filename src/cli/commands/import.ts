import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { findModule, moduleFields } from '../../domain/modules.ts';
import type { Runtime } from '../../services/runtime.ts';
import { actingUser } from '../directory-lookup.ts';
import type { CliCommand } from '../command.ts';
import { CliError, out, say } from '../output.ts';

/**
 * `auditrail import --module Leads --file leads.csv`: one record per CSV row, header cells are
 * field api names. Every record is audited with source `import` under one batch id, and one
 * `imported` entry carries the count.
 */
export async function importCommand(rt: Runtime, opts: { module: string; file: string; user?: string; org?: string }) {
  const module = findModule(opts.module);
  if (!module) throw new CliError(`unknown module ${opts.module}`);
  const { actor } = await actingUser(rt, opts, 'import');
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${opts.file}: ${(e as Error).message}`);
  }
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, bom: true, skip_empty_lines: true, trim: true });
  } catch (e) {
    throw new CliError(`${opts.file} is not valid CSV: ${(e as Error).message}`);
  }
  const fields = moduleFields(module);
  const items = rows.map((row) => {
    const item: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (v === '') continue;
      const f = fields.get(k);
      if (f?.type === 'boolean') item[k] = v.toLowerCase() === 'true';
      else if (f?.type === 'multiselectpicklist') item[k] = v.split(';').map((s) => s.trim());
      else if (f && ['lookup', 'ownerlookup', 'userlookup'].includes(f.type)) item[k] = { id: v };
      else item[k] = v;
    }
    return item;
  });
  if (items.length === 0) throw new CliError(`${opts.file} has no rows`);
  const r = await rt.services.actions.importRecords(actor, module.apiName, items, path.basename(opts.file));
  const failed = r.results.map((x, i) => ({ x, line: i + 2 })).filter(({ x }) => !x.ok);
  for (const { x, line } of failed) if (!x.ok) say(`line ${line}: ${x.error.code}: ${x.error.message} ${JSON.stringify(x.error.details)}`);
  out(`imported ${r.results.length - failed.length} of ${r.results.length} ${module.plural} (batch ${r.batchId})`);
  return failed.length ? 1 : 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.requiredOption('--module <api name>').requiredOption('--file <file.csv>')
      .option('--user <email>', 'import as this user (default: the first Administrator)').option('--org <id>')
      .action(ctx.action((o: { module: string; file: string; user?: string; org?: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => importCommand(rt, o))));
  },
};
