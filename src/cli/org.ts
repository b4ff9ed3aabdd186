import type { Runtime } from '../services/runtime.ts';
import { out, say } from './output.ts';

/** `auditrail org create`: a new organisation with its first Administrator. */
export async function orgCreateCommand(rt: Runtime, opts: { name: string; adminEmail: string; timeZone?: string; json?: boolean }) {
  const r = await rt.services.directory.createOrganisation({ name: opts.name, adminEmail: opts.adminEmail, timeZone: opts.timeZone });
  if (opts.json) {
    out(JSON.stringify({ org_id: r.org.id, admin_email: r.admin.email, admin_password: r.password }));
  } else {
    out(`organisation ${r.org.name} (${r.org.id}) created`);
    out(`administrator: ${r.admin.email}  password: ${r.password}`);
    say(`API credentials: npx auditrail client create --org ${r.org.id}`);
  }
  return 0;
}

export async function orgListCommand(rt: Runtime) {
  for (const o of await rt.services.directory.listOrgs()) out(`${o.id}\t${o.name}\t${o.time_zone}`);
  return 0;
}
