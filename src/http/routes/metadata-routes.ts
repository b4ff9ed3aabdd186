import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { findModule, STANDARD_MODULES } from '../../domain/modules.ts';
import { USER_TYPES, type UserType } from '../../services/user-service.ts';
import type { Actor } from '../../services/context.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import {
  intParam, listParam, noContent, op, queryParam, route, sendActions, type ActionResult,
} from '../route.ts';
import { actionReplies, actions, DateTime, Id, idParams, itemsBody, list, ModuleName, page, q } from '../schemas.ts';
import { allFields, fieldView, moduleView, orgView, profileView, roleView, userView } from '../views.ts';
import { isId } from '../../domain/ids.ts';

const Ref = z.object({ id: Id });
const Named = z.object({ name: z.string(), id: Id });
const By = z.object({ name: z.string().nullable(), id: Id }).nullable();
const User = z.looseObject({ id: Id, first_name: z.string().nullable(), last_name: z.string(), full_name: z.string(), email: z.string(),
  status: z.string(), role: Named.nullable(), profile: Named.nullable(), time_zone: z.string().nullable(), created_time: DateTime });
const UserInput = z.looseObject({ first_name: z.string().optional(), last_name: z.string(), email: z.string(), role: Ref, profile: Ref,
  status: z.enum(['active', 'inactive']).optional(), time_zone: z.string().optional(), email_tracking: z.boolean().optional() });
const Role = z.looseObject({ id: Id, name: z.string(), display_label: z.string(), reporting_to: Named.nullable(), admin_user: z.boolean(),
  share_with_peers: z.boolean(), description: z.string().nullable(), created_by__s: By, modified_by__s: By });
const RoleInput = z.looseObject({ name: z.string(), reporting_to: Ref, description: z.string().optional(), share_with_peers: z.boolean().optional() });
const Profile = z.looseObject({ id: Id, name: z.string(), display_label: z.string(), description: z.string().nullable(), default: z.boolean(),
  custom: z.boolean(), created_by: By, modified_by: By });
const ProfileInput = z.looseObject({ name: z.string().optional(), description: z.string().optional(),
  permissions: z.record(z.string(), z.unknown()).optional() });
const Module = z.looseObject({ id: Id, api_name: z.string(), module_name: z.string(), singular_label: z.string(), plural_label: z.string(),
  api_supported: z.boolean(), creatable: z.boolean() });
const Field = z.looseObject({ id: Id, api_name: z.string(), field_label: z.string(), data_type: z.string(), json_type: z.string(),
  system_mandatory: z.boolean(), read_only: z.boolean() });
const Org = z.looseObject({ id: Id, zgid: z.string(), company_name: z.string(), time_zone: z.string() });

/** Users, roles, profiles, modules, fields and org: read and (users, roles, profiles) write. */
export function metadataRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const dir = services.directory;

  async function directoryMaps(actor: Actor) {
    const [users, roles, profiles, org] = await Promise.all([
      dir.listEveryUser(actor),
      dir.listRoles(actor), dir.listProfiles(actor), dir.getOrg(actor.orgId),
    ]);
    return {
      users: new Map(users.map((u) => [u.id, u])), roles: new Map(roles.map((r) => [r.id, r])),
      profiles: new Map(profiles.map((p) => [p.id, p])), org: org!, tz: actor.timeZone,
    };
  }

  /** Runs one write per item, turning AppErrors into per-item error results. */
  async function perItem<T>(items: unknown[], work: (item: Record<string, unknown>, index: number) => Promise<T>,
    ok: (value: T) => ActionResult): Promise<ActionResult[]> {
    const out: ActionResult[] = [];
    for (const [i, item] of items.entries()) {
      try {
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          throw new AppError('INVALID_DATA', 'invalid data', { json_path: `$[${i}]`, expected_data_type: 'jsonobject' });
        }
        out.push(ok(await work(item as Record<string, unknown>, i)));
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 401) throw e;
        const err = e;
        out.push({ ok: false, code: err.code, message: err.message, details: err.details });
      }
    }
    return out;
  }

  const limitItems = (items: unknown[], key: string, limit = 100) => {
    if (items.length === 0) throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: key, json_path: `$.${key}` });
    if (items.length > limit) throw new AppError('LIMIT_EXCEEDED', 'too many items', { api_name: key, json_path: `$.${key}`, limit });
  };
  const idParam = (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 1 });
    return id;
  };
  const settingsId = (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
    return id;
  };
  const afterDirectoryChange = () => services.oauth.clearCache();

  // ---- users ----
  route(app, '/users', {
    GET: op({
      summary: 'Users of the organisation, by type (AllUsers, ActiveUsers, AdminUsers, ...)',
      query: z.object({ type: z.string().optional().describe(USER_TYPES.join(', ')), per_page: q.perPage, page: q.page, ids: q.ids }),
      responses: { 200: page('users', User), 204: 'empty' },
      handler: async (request, reply) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.users.READ');
        const type = (queryParam(request, 'type') ?? 'AllUsers') as UserType;
        if (!USER_TYPES.includes(type)) throw new AppError('INVALID_DATA', 'invalid type', { param_name: 'type', supported_values: USER_TYPES });
        const perPage = intParam(request, 'per_page', 1, 200, 200);
        const page = intParam(request, 'page', 1, 100_000, 1);
        const ids = listParam(request, 'ids');
        if (ids && (ids.length > 100 || ids.some((i) => !isId(i)))) throw new AppError('INVALID_DATA', 'invalid ids', { param_name: 'ids' });
        let users = await dir.listUsers(actor, type);
        if (ids) users = users.filter((u) => ids.includes(u.id));
        const slice = users.slice((page - 1) * perPage, page * perPage);
        if (slice.length === 0) return noContent(reply);
        const maps = await directoryMaps(actor);
        return {
          users: slice.map((u) => userView(u, maps)),
          info: { per_page: perPage, count: slice.length, page, more_records: users.length > page * perPage },
        };
      },
    }),
    POST: op({
      summary: 'Add users (at most 100)',
      body: itemsBody('users', UserInput),
      responses: actionReplies('users', 201),
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.users.CREATE');
        const items = input.body.users;
        limitItems(items, 'users');
        const results = await perItem(items, (item, i) => dir.createUser(actor, item, `$.users[${i}]`),
          (u) => ({ ok: true, code: 'SUCCESS', message: 'User added', details: { id: u.id } }));
        return sendActions(reply, 'users', results, 201);
      },
    }),
    PUT: op({
      summary: 'Update users (at most 100), each with its id',
      body: itemsBody('users', UserInput.extend({ id: Id })),
      responses: actionReplies('users', 200),
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.users.UPDATE');
        const items = input.body.users;
        limitItems(items, 'users');
        const results = await perItem(items, (item, i) => {
          if (!isId(item.id)) throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'id', json_path: `$.users[${i}].id` });
          return dir.updateUser(actor, item.id, item, `$.users[${i}]`);
        }, (u) => ({ ok: true, code: 'SUCCESS', message: 'User updated', details: { id: u.id } }));
        afterDirectoryChange();
        return sendActions(reply, 'users', results, 200);
      },
    }),
  });
  route(app, '/users/:id', {
    GET: op({
      summary: 'One user',
      params: idParams,
      responses: { 200: list('users', User), 204: 'empty' },
      handler: async (request, reply) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.users.READ');
        const user = await dir.getUser(actor, idParam(request));
        if (!user) return noContent(reply);
        return { users: [userView(user, await directoryMaps(actor))] };
      },
    }),
    PUT: op({
      summary: 'Update one user',
      params: idParams,
      body: itemsBody('users', UserInput),
      responses: actionReplies('users', 200),
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.users.UPDATE');
        const id = idParam(request);
        const items = input.body.users;
        limitItems(items, 'users', 1);
        const results = await perItem(items, (item) => dir.updateUser(actor, id, item),
          (u) => ({ ok: true, code: 'SUCCESS', message: 'User updated', details: { id: u.id } }));
        afterDirectoryChange();
        return sendActions(reply, 'users', results, 200);
      },
    }),
    DELETE: op({
      summary: 'Delete one user',
      params: idParams,
      responses: actionReplies('users', 200),
      handler: async (request, reply) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.users.DELETE');
        const id = idParam(request);
        const results = await perItem([{}], () => dir.deleteUser(actor, id),
          (u) => ({ ok: true, code: 'SUCCESS', message: 'User deleted', details: { id: u.id } }));
        afterDirectoryChange();
        return sendActions(reply, 'users', results, 200);
      },
    }),
  });

  // ---- roles ----
  route(app, '/settings/roles', {
    GET: op({
      summary: 'The role tree',
      responses: { 200: list('roles', Role) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.roles.READ');
        const maps = await directoryMaps(actor);
        return { roles: [...maps.roles.values()].map((r) => roleView(r, maps.roles, maps.users, maps.tz)) };
      },
    }),
    POST: op({
      summary: 'Add roles',
      body: itemsBody('roles', RoleInput),
      responses: actionReplies('roles', 201),
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.roles.CREATE');
        const items = input.body.roles;
        limitItems(items, 'roles');
        const results = await perItem(items, (item, i) => dir.createRole(actor, item, `$.roles[${i}]`),
          (r) => ({ ok: true, code: 'SUCCESS', message: 'Role added', details: { id: r.id } }));
        return sendActions(reply, 'roles', results, 201);
      },
    }),
  });
  route(app, '/settings/roles/:id', {
    GET: op({
      summary: 'One role',
      params: idParams,
      responses: { 200: list('roles', Role) },
      handler: async (request, reply) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.roles.READ');
        const id = settingsId(request);
        const maps = await directoryMaps(actor);
        const role = maps.roles.get(id);
        if (!role) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
        void reply;
        return { roles: [roleView(role, maps.roles, maps.users, maps.tz)] };
      },
    }),
    PUT: op({
      summary: 'Update one role',
      params: idParams,
      body: itemsBody('roles', RoleInput.partial()),
      responses: actionReplies('roles', 200),
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.roles.UPDATE');
        const id = settingsId(request);
        const items = input.body.roles;
        limitItems(items, 'roles', 1);
        const results = await perItem(items, (item) => dir.updateRole(actor, id, item),
          (r) => ({ ok: true, code: 'SUCCESS', message: 'Role updated', details: { id: r.id } }));
        afterDirectoryChange();
        return sendActions(reply, 'roles', results, 200);
      },
    }),
    DELETE: op({
      summary: 'Delete one role, moving its users to another',
      params: idParams,
      query: z.object({ transfer_to_id: z.string().optional().describe('the role that takes over the users') }),
      responses: { 200: actions('roles') },
      handler: async (request, reply) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.roles.DELETE');
        const id = settingsId(request);
        const role = await dir.deleteRole(actor, id, queryParam(request, 'transfer_to_id'));
        afterDirectoryChange();
        return sendActions(reply, 'roles', [{ ok: true, code: 'SUCCESS', message: 'Role deleted', details: { id: role.id } }], 200);
      },
    }),
  });

  // ---- profiles ----
  route(app, '/settings/profiles', {
    GET: op({
      summary: 'The profiles',
      responses: { 200: z.object({ profiles: z.array(Profile), info: z.looseObject({ license_limit: z.null() }) }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.profiles.READ');
        const maps = await directoryMaps(actor);
        return { profiles: [...maps.profiles.values()].map((p) => profileView(p, maps.users, maps.tz, false)),
          info: { license_limit: null } };
      },
    }),
  });
  route(app, '/settings/profiles/:id', {
    GET: op({
      summary: 'One profile, with its permissions',
      params: idParams,
      responses: { 200: list('profiles', Profile) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.profiles.READ');
        const id = settingsId(request);
        const maps = await directoryMaps(actor);
        const profile = maps.profiles.get(id);
        if (!profile) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
        return { profiles: [profileView(profile, maps.users, maps.tz, true)] };
      },
    }),
    PUT: op({
      summary: 'Update one profile',
      params: idParams,
      body: itemsBody('profiles', ProfileInput),
      responses: actionReplies('profiles', 200),
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.profiles.UPDATE');
        const id = settingsId(request);
        const items = input.body.profiles;
        limitItems(items, 'profiles', 1);
        const results = await perItem(items, (item) => dir.updateProfile(actor, id, item),
          (p) => ({ ok: true, code: 'SUCCESS', message: 'Profile updated', details: { id: p.id } }));
        afterDirectoryChange();
        return sendActions(reply, 'profiles', results, 200);
      },
    }),
    DELETE: op({
      summary: 'Delete one custom profile, moving its users to another',
      params: idParams,
      query: z.object({ transfer_to: z.string().optional().describe('the profile that takes over the users') }),
      responses: { 200: actions('profiles') },
      handler: async (request, reply) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.profiles.DELETE');
        const id = settingsId(request);
        const profile = await dir.deleteProfile(actor, id, queryParam(request, 'transfer_to'));
        afterDirectoryChange();
        return sendActions(reply, 'profiles', [{ ok: true, code: 'SUCCESS', message: 'Profile deleted', details: { id: profile.id } }], 200);
      },
    }),
  });
  route(app, '/settings/profiles/:id/actions/clone', {
    POST: op({
      summary: 'Clone a profile',
      params: idParams,
      body: itemsBody('profiles', ProfileInput),
      responses: actionReplies('profiles', 201),
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.profiles.CREATE');
        const id = settingsId(request);
        const items = input.body.profiles;
        limitItems(items, 'profiles', 1);
        const results = await perItem(items, (item) => dir.cloneProfile(actor, id, item),
          (p) => ({ ok: true, code: 'SUCCESS', message: 'Profile cloned', details: { id: p.id } }));
        return sendActions(reply, 'profiles', results, 201);
      },
    }),
  });

  // ---- modules and fields ----
  route(app, '/settings/modules', {
    GET: op({
      summary: 'The modules',
      responses: { 200: list('modules', Module) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.modules.READ');
        const profiles = await dir.listProfiles(actor);
        return { modules: STANDARD_MODULES.map((m) => moduleView(actor.orgId, m, profiles)) };
      },
    }),
  });
  route(app, '/settings/modules/:api_name', {
    GET: op({
      summary: 'One module, with its fields',
      params: z.object({ api_name: ModuleName }),
      responses: { 200: list('modules', Module) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.modules.READ');
        const m = findModule(input.params.api_name);
        if (!m) throw new AppError('INVALID_MODULE', 'the module name given seems to be invalid', { resource_path_index: 2 });
        const profiles = await dir.listProfiles(actor);
        return { modules: [{ ...moduleView(actor.orgId, m, profiles), fields: allFields(m).map((f, i) => fieldView(actor.orgId, m, f, i)) }] };
      },
    }),
  });
  route(app, '/settings/fields', {
    GET: op({
      summary: 'The fields of a module',
      query: z.object({ module: z.string().optional().describe('a module api_name (required)') }),
      responses: { 200: list('fields', Field) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.fields.READ', 'ZohoCRM.settings.modules.READ');
        const name = queryParam(request, 'module');
        if (!name) throw new AppError('REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', { param_name: 'module' });
        const m = findModule(name);
        if (!m) throw new AppError('INVALID_MODULE', 'the module name given seems to be invalid', { param_name: 'module' });
        return { fields: allFields(m).map((f, i) => fieldView(actor.orgId, m, f, i)) };
      },
    }),
  });

  // ---- org ----
  route(app, '/org', {
    GET: op({
      summary: 'The organisation',
      responses: { 200: list('org', Org) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.org.READ');
        const org = (await dir.getOrg(actor.orgId))!;
        const admins = await dir.listUsers(actor, 'ActiveConfirmedAdmins');
        return { org: [orgView(org, admins[0])] };
      },
    }),
  });
}
