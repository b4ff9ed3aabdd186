import type { Runtime } from '../services/runtime.ts';
import { CliError } from './output.ts';

/** The organisation a command acts on: `--org <id>`, or the first one created. */
export async function resolveOrg(rt: Runtime, orgId: string | undefined) {
  const orgs = await rt.services.directory.listOrgs();
  if (orgs.length === 0) throw new CliError('no organisation yet: run `auditrail serve` or `auditrail org create` first');
  if (!orgId) return orgs[0];
  const org = orgs.find((o) => o.id === orgId);
  if (!org) throw new CliError(`no organisation ${orgId}`);
  return org;
}
