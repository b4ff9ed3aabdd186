import { cliActorName } from '../cli-actor.ts';
import { systemActor } from '../../services/context.ts';
import type { Runtime } from '../../services/runtime.ts';
import { resolveOrg } from '../org-option.ts';
import type { CliCommand } from '../command.ts';
import { out, say } from '../output.ts';

/** `auditrail client create`: a self-client with a refresh token, printed once. */
export async function clientCreateCommand(rt: Runtime, opts: { org?: string; user?: string; scopes?: string; json?: boolean; name?: string }) {
  const org = await resolveOrg(rt, opts.org);
  const scopes = opts.scopes?.split(',').map((s) => s.trim()).filter(Boolean);
  const c = await rt.services.oauth.createClient(org.id, { userEmail: opts.user, scopes, name: opts.name, actorName: cliActorName() });
  if (opts.json) {
    out(JSON.stringify({ client_id: c.client_id, client_secret: c.client_secret, refresh_token: c.refresh_token }));
  } else {
    out(`client_id:     ${c.client_id}`);
    out(`client_secret: ${c.client_secret}`);
    out(`refresh_token: ${c.refresh_token}`);
    say(`for ${c.user.email} in ${org.name}; scopes: ${c.scopes.join(',')}`);
    say('the secret and refresh token are shown only now; they are stored hashed.');
  }
  return 0;
}

/** `auditrail client code`: a one-time grant code for the authorization_code grant. */
export async function clientCodeCommand(rt: Runtime, opts: { clientId: string; scopes?: string }) {
  const code = await rt.services.oauth.createGrantCode(opts.clientId, opts.scopes?.split(',').map((s) => s.trim()).filter(Boolean), cliActorName());
  out(code);
  return 0;
}

export async function clientListCommand(rt: Runtime, opts: { org?: string }) {
  const org = await resolveOrg(rt, opts.org);
  const users = new Map((await rt.services.directory.listEveryUser(systemActor(org.id))).map((u) => [u.id, u.email]));
  out(['CLIENT ID', 'NAME', 'USER', 'STATUS', 'SCOPES'].join('\t'));
  for (const c of await rt.services.oauth.listClients(org.id)) {
    out([c.client_id, c.name, users.get(c.user_id) ?? c.user_id, c.revoked_at ? 'revoked' : 'active', c.scopes].join('\t'));
  }
  return 0;
}

export async function clientRevokeCommand(rt: Runtime, opts: { org?: string; clientId: string }) {
  const org = await resolveOrg(rt, opts.org);
  await rt.services.oauth.revokeClient(org.id, opts.clientId, cliActorName());
  say(`revoked ${opts.clientId} and every token it held`);
  return 0;
}

export async function clientUnlockCommand(rt: Runtime, opts: { org?: string; clientId: string }) {
  const org = await resolveOrg(rt, opts.org);
  await rt.services.oauth.unlockClient(org.id, opts.clientId, cliActorName());
  say(`unlocked ${opts.clientId}: its failed logins are forgotten and the token endpoint accepts it again`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('create').description('create a self-client and print client_id, client_secret, refresh_token')
      .option('--org <id>', 'organisation id (default: the first)')
      .option('--user <email>', 'the user the client acts as (default: the first Administrator)')
      .option('--scopes <list>', 'comma-separated scopes (default: everything the user may do)')
      .option('--name <name>', 'client name')
      .option('--json', 'print exactly one JSON object')
      .action(ctx.action((o: { org?: string; user?: string; scopes?: string; json?: boolean; name?: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => clientCreateCommand(rt, o))));
    cmd.command('code').description('print a one-time grant code (10 minutes) for the authorization_code grant')
      .requiredOption('--client-id <id>').option('--scopes <list>')
      .action(ctx.action((o: { clientId: string; scopes?: string }) => ctx.withRuntime({ migrate: true }, (rt) => clientCodeCommand(rt, o))));
    cmd.command('list').option('--org <id>')
      .action(ctx.action((o: { org?: string }) => ctx.withRuntime({ migrate: false }, (rt) => clientListCommand(rt, o))));
    cmd.command('revoke').requiredOption('--client-id <id>').option('--org <id>')
      .action(ctx.action((o: { clientId: string; org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => clientRevokeCommand(rt, o))));
    cmd.command('unlock').description('lift the token endpoint\'s lockout of a client id (audited)').requiredOption('--client-id <id>').option('--org <id>')
      .action(ctx.action((o: { clientId: string; org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => clientUnlockCommand(rt, o))));
  },
};
