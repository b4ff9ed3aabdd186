/**
 * The organisation's users as the pickers read them: the one list of GET /crm/v8/users
 * (api/directory.ts), under the name the audit log's components use.
 */
export { listUsers, type DirectoryUser as User } from './directory.ts';
