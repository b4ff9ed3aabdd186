import { apiGet } from './client.ts';

/** A user as GET /crm/v8/users answers (the fields the console reads). */
export interface User {
  id: string;
  first_name: string | null;
  last_name: string;
  full_name: string;
  email: string;
  status: string;
  role: { id: string; name: string } | null;
  profile: { id: string; name: string } | null;
}

const PER_PAGE = 200;
const MAX_PAGES = 50;

/** GET /crm/v8/users?type=AllUsers, every page: the organisation's users (active and not). */
export async function listUsers(): Promise<User[]> {
  const users: User[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const body = await apiGet<{ users: User[]; info: { more_records: boolean } }>('/crm/v8/users', { type: 'AllUsers', per_page: PER_PAGE, page });
    if (!body) break;
    users.push(...body.users);
    if (!body.info?.more_records) break;
  }
  return users;
}
