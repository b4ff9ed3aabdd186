import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { noContent, op, route } from '../route.ts';
import { DateTime, documented, Id, idParams } from '../schemas.ts';

/**
 * The scopes of `/api/v1/streams`: `ZohoCRM.settings.audit_log_streams.{READ,CREATE,UPDATE,DELETE}`
 * (or `.ALL`), or the audit log's own: `ZohoCRM.settings.audit_logs.READ` to read, `.ALL` to change.
 * A console session holds what the user's profile allows (the audit log permission gives both).
 */
export const STREAM_SCOPES = {
  read: ['ZohoCRM.settings.audit_log_streams.READ', 'ZohoCRM.settings.audit_logs.READ'],
  create: ['ZohoCRM.settings.audit_log_streams.CREATE', 'ZohoCRM.settings.audit_logs.ALL'],
  update: ['ZohoCRM.settings.audit_log_streams.UPDATE', 'ZohoCRM.settings.audit_logs.ALL'],
  delete: ['ZohoCRM.settings.audit_log_streams.DELETE', 'ZohoCRM.settings.audit_logs.ALL'],
};

const Stream = z.object({
  id: Id, name: z.string(), type: z.enum(['https', 'syslog', 'nats']), status: z.enum(['active', 'paused']),
  owner: z.object({ id: Id, name: z.string().nullable() }).describe('whose view of the audit log the stream carries'),
  destination: z.looseObject({ batch_size: z.number().int() }).describe('the destination\'s settings, without secrets'),
  secrets: z.array(z.string()).describe('the names of the secrets it holds; their values are never shown after creation'),
  progress: z.object({
    cursor_seq: z.number().int().describe('every entry up to this chain sequence is delivered (or not the owner\'s to see)'),
    last_delivered_seq: z.number().int().nullable(), head_seq: z.number().int().describe('the organisation\'s last chain sequence'),
    lag_entries: z.number().int(), lag_seconds: z.number().int().describe('the age of the oldest entry not yet delivered'),
    delivered: z.number().int(), last_delivered_time: DateTime.nullable(),
  }),
  error: z.object({ message: z.string(), time: DateTime.nullable(), failures: z.number().int(), next_attempt_time: DateTime.nullable() }).nullable(),
  gap: z.object({ from_seq: z.number().int(), to_seq: z.number().int(), time: DateTime.nullable(), message: z.string() }).nullable()
    .describe('entries purged by retention before the stream delivered them'),
  created_time: DateTime.nullable(), modified_time: DateTime.nullable(),
});

const Destination = z.looseObject({}).describe('https: {url, secret?, batch_size?}; syslog: {host, port?, tls?, ca_pem?, server_name?, '
  + 'facility?, hostname?, batch_size?}; nats: {servers?, subject?, stream?, create_stream?, user?, pass?, token?, batch_size?}');
const CreateBody = documented(z.object({ name: z.string(), type: z.enum(['https', 'syslog', 'nats']), destination: Destination,
  status: z.enum(['active', 'paused']).optional(), from_seq: z.number().int().optional().describe('first chain sequence to deliver (default: from now on)') }));
const PatchBody = documented(z.object({ name: z.string().optional(), status: z.enum(['active', 'paused']).optional(),
  destination: Destination.optional().describe('the whole destination, as at creation; secrets left out keep their values') }));
const RewindBody = documented(z.object({ seq: z.number().int().optional(), time: z.string().optional() }),
  '{"seq": N} to deliver again from chain sequence N, or {"time": "ISO 8601"} from the first entry at or after that time');

/** SIEM streams (auditrail's own API): each organisation's audit entries sent to HTTPS, syslog or NATS. */
export function streamRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const streams = services.streams;

  route(app, '/api/v1/streams', {
    GET: op({
      summary: 'The streams the caller manages (Administrators: all of the organisation\'s), with progress and lag',
      responses: { 200: z.object({ streams: z.array(Stream) }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, ...STREAM_SCOPES.read);
        return { streams: await streams.list(actor) };
      },
    }),
    POST: op({
      summary: 'Create a stream of the caller\'s view of the audit log (needs the audit log permission); audited as stream_created. '
        + 'An HTTPS stream without a secret gets one, shown in this answer only',
      body: CreateBody,
      responses: { 201: z.object({ stream: Stream, secret: z.string().optional().describe('the generated HMAC secret: shown once') }) },
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, ...STREAM_SCOPES.create);
        const body = (input.body ?? {}) as Record<string, unknown>;
        const { stream, secret } = await streams.create(actor, { name: body.name, type: body.type, destination: body.destination,
          status: body.status, from_seq: body.from_seq });
        reply.code(201);
        return secret === undefined ? { stream } : { stream, secret };
      },
    }),
  });

  route(app, '/api/v1/streams/:id', {
    GET: op({
      summary: 'One stream with its progress (last seq delivered, head seq), lag (entries, seconds), last error and any retention gap',
      params: idParams,
      responses: { 200: z.object({ stream: Stream }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, ...STREAM_SCOPES.read);
        return { stream: await streams.get(actor, input.params.id) };
      },
    }),
    PATCH: op({
      summary: 'Rename, pause or resume a stream, or change its destination; audited as stream_updated',
      params: idParams,
      body: PatchBody,
      responses: { 200: z.object({ stream: Stream }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, ...STREAM_SCOPES.update);
        const body = (input.body ?? {}) as Record<string, unknown>;
        return { stream: await streams.update(actor, input.params.id, { name: body.name, status: body.status, type: body.type,
          destination: body.destination }) };
      },
    }),
    DELETE: op({
      summary: 'Delete a stream; audited as stream_deleted',
      params: idParams,
      responses: { 204: 'empty' },
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, ...STREAM_SCOPES.delete);
        await streams.remove(actor, input.params.id);
        return noContent(reply);
      },
    }),
  });

  route(app, '/api/v1/streams/:id/rewind', {
    POST: op({
      summary: 'Replay history: deliver again from a chain sequence or a time; audited as stream_rewound',
      params: idParams,
      body: RewindBody,
      responses: { 200: z.object({ stream: Stream }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, ...STREAM_SCOPES.update);
        const body = (input.body ?? {}) as Record<string, unknown>;
        return { stream: await streams.rewind(actor, input.params.id, { seq: body.seq, time: body.time }) };
      },
    }),
  });
}
