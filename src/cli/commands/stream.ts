import { readFileSync } from 'node:fs';
import type { Runtime } from '../../services/runtime.ts';
import type { StreamView } from '../../services/stream-service.ts';
import type { CliCommand } from '../command.ts';
import { actor, userByEmail } from '../directory-lookup.ts';
import { CliError, out, say } from '../output.ts';

export interface StreamCreateFlags {
  org?: string; type: string; name?: string; owner?: string; fromSeq?: string; paused?: boolean; batchSize?: string;
  url?: string; secret?: string;
  host?: string; port?: string; tls?: boolean; caFile?: string; serverName?: string; facility?: string; hostname?: string;
  servers?: string; subject?: string; jsStream?: string; createStream?: boolean; user?: string; pass?: string; token?: string;
}

const int = (v: string | undefined, flag: string) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`${flag} must be a whole number`);
  return Number(v);
};

/** The owner a stream made from the command line carries the view of: `--owner <email>`, or the first active Administrator. */
async function ownerId(rt: Runtime, orgId: string, email: string | undefined) {
  if (email) return (await userByEmail(rt, orgId, email)).id;
  const a = await actor(rt, orgId);
  const admins = (await rt.services.directory.listEveryUser(a.actor)).filter((u) => u.status === 'active');
  for (const u of admins) {
    if ((await rt.services.directory.actorForUser(orgId, u.id)).isAdmin) return u.id;
  }
  throw new CliError('no active Administrator to own the stream: name one with --owner <email>');
}

/** `auditrail stream create --type https|syslog|nats ...`: prints the stream's id, and a generated secret once. */
export async function streamCreateCommand(rt: Runtime, o: StreamCreateFlags) {
  const { org, actor: a } = await actor(rt, o.org);
  const destination: Record<string, unknown> = { batch_size: int(o.batchSize, '--batch-size') };
  if (o.type === 'https') Object.assign(destination, { url: o.url, secret: o.secret });
  else if (o.type === 'syslog') {
    Object.assign(destination, { host: o.host, port: int(o.port, '--port'), tls: o.tls === true, server_name: o.serverName,
      facility: int(o.facility, '--facility'), hostname: o.hostname, ca_pem: o.caFile ? readFileSync(o.caFile, 'utf8') : undefined });
  } else if (o.type === 'nats') {
    Object.assign(destination, { servers: o.servers?.split(',').map((s) => s.trim()), subject: o.subject, stream: o.jsStream,
      create_stream: o.createStream === true, user: o.user, pass: o.pass, token: o.token });
  }
  const { stream, secret } = await rt.services.streams.create(a, { name: o.name ?? `${o.type} stream`, type: o.type, destination,
    status: o.paused ? 'paused' : 'active', owner_id: await ownerId(rt, org.id, o.owner), from_seq: int(o.fromSeq, '--from-seq') });
  out(stream.id);
  if (secret) say(`HMAC secret (shown once; the receiver checks X-Auditrail-Signature with it): ${secret}`);
  return 0;
}

const lagOf = (s: StreamView) => `${s.progress.lag_entries} (${s.progress.lag_seconds}s)`;

/** `auditrail stream list [--json]`: each stream with its progress and lag. */
export async function streamListCommand(rt: Runtime, o: { org?: string; json?: boolean }) {
  const { actor: a } = await actor(rt, o.org);
  const streams = await rt.services.streams.list(a);
  if (o.json) { out(JSON.stringify(streams, null, 2)); return 0; }
  out(['ID', 'NAME', 'TYPE', 'STATUS', 'DELIVERED TO SEQ', 'HEAD SEQ', 'LAG', 'ERROR'].join('\t'));
  for (const s of streams) {
    out([s.id, s.name, s.type, s.status, s.progress.cursor_seq, s.progress.head_seq, lagOf(s),
      s.error ? `${s.error.message} (next attempt ${s.error.next_attempt_time})` : s.gap ? s.gap.message : '-'].join('\t'));
  }
  if (streams.length === 0) out('(no streams)');
  return 0;
}

/** `auditrail stream rewind <id> --seq N | --time T`: deliver again from there. */
export async function streamRewindCommand(rt: Runtime, id: string, o: { org?: string; seq?: string; time?: string }) {
  if ((o.seq === undefined) === (o.time === undefined)) throw new CliError('give --seq N or --time T (ISO 8601 with an offset)');
  const { actor: a } = await actor(rt, o.org);
  const s = await rt.services.streams.rewind(a, id, o.seq !== undefined ? { seq: int(o.seq, '--seq') } : { time: o.time });
  out(`${s.id}\tdelivers again after seq ${s.progress.cursor_seq}; lag ${lagOf(s)}`);
  return 0;
}

/** `auditrail stream pause|resume <id>`. */
export async function streamStatusCommand(rt: Runtime, id: string, status: 'active' | 'paused', o: { org?: string }) {
  const { actor: a } = await actor(rt, o.org);
  const s = await rt.services.streams.update(a, id, { status });
  out(`${s.id}\t${s.status}`);
  return 0;
}

/** `auditrail stream delete <id>`. */
export async function streamDeleteCommand(rt: Runtime, id: string, o: { org?: string }) {
  const { actor: a } = await actor(rt, o.org);
  await rt.services.streams.remove(a, id);
  out(`deleted ${id}`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('create').description('stream the audit log to an HTTPS endpoint, a syslog receiver or NATS JetStream')
      .requiredOption('--type <type>', 'https | syslog | nats').option('--name <name>')
      .option('--owner <email>', 'whose view of the audit log it carries (default: the first active Administrator)')
      .option('--from-seq <n>', 'first chain sequence to deliver (default: from now on)').option('--paused', 'create it paused')
      .option('--batch-size <n>', 'entries per batch (1-1000, default 100)')
      .option('--url <url>', 'https: the endpoint (plain http only to loopback)').option('--secret <s>', 'https: HMAC secret (default: generated, printed once)')
      .option('--host <host>', 'syslog: the receiver').option('--port <port>', 'syslog: its port (default 601, 6514 with --tls)')
      .option('--tls', 'syslog: over TLS').option('--ca-file <pem>', 'syslog: CA certificates (PEM) to trust for TLS')
      .option('--server-name <name>', 'syslog: the name the TLS certificate must carry').option('--facility <n>', 'syslog: facility 0-23 (default 13, log audit)')
      .option('--hostname <name>', 'syslog: HOSTNAME in the header (default: this machine\'s)')
      .option('--servers <urls>', 'nats: nats://host:port[,...] (default nats://127.0.0.1:4222)')
      .option('--subject <subject>', 'nats: default auditrail.<org id>.audit').option('--js-stream <name>', 'nats: the JetStream stream')
      .option('--create-stream', 'nats: create the JetStream stream when missing').option('--user <user>').option('--pass <pass>').option('--token <token>')
      .option('--org <id>')
      .action(ctx.action((o: StreamCreateFlags) => ctx.withRuntime({ migrate: true }, (rt) => streamCreateCommand(rt, o))));
    cmd.command('list').description('streams with their progress and lag').option('--json').option('--org <id>')
      .action(ctx.action((o: { org?: string; json?: boolean }) => ctx.withRuntime({ migrate: false }, (rt) => streamListCommand(rt, o))));
    cmd.command('rewind').description('deliver again from a chain sequence or a time').argument('<id>')
      .option('--seq <n>').option('--time <iso>').option('--org <id>')
      .action(ctx.action((id: string, o: { org?: string; seq?: string; time?: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => streamRewindCommand(rt, id, o))));
    for (const [verb, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
      cmd.command(verb).argument('<id>').option('--org <id>')
        .action(ctx.action((id: string, o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => streamStatusCommand(rt, id, status, o))));
    }
    cmd.command('delete').argument('<id>').option('--org <id>')
      .action(ctx.action((id: string, o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => streamDeleteCommand(rt, id, o))));
  },
};
