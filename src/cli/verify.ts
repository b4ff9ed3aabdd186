import type { Runtime } from '../services/runtime.ts';
import { out } from './output.ts';

/** `auditrail verify [--org <id>]`: exit 0 only when every chain checked is intact. */
export async function verifyCommand(rt: Runtime, opts: { org?: string; json?: boolean }) {
  const orgs = (await rt.services.directory.listOrgs()).filter((o) => !opts.org || o.id === opts.org);
  if (opts.org && orgs.length === 0) {
    out(`no organisation ${opts.org}`);
    return 2;
  }
  let ok = true;
  for (const org of orgs) {
    const r = await rt.services.audit.verifyChain(org.id);
    ok &&= r.ok;
    if (opts.json) out(JSON.stringify(r));
    else if (r.ok) out(`${org.name} (${org.id}): chain intact, ${r.entries} entries, head ${r.lastSeq} ${r.lastHash}`);
    else out(`${org.name} (${org.id}): CHAIN BROKEN at entry ${r.firstBreak!.seq}${r.firstBreak!.id ? ` (id ${r.firstBreak!.id})` : ''}: ${r.firstBreak!.reason}`);
  }
  return ok ? 0 : 1;
}
