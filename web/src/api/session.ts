import { apiGet, apiSend } from './client.ts';

/** GET /api/console/session: who is signed in, what they may do, and the CSRF token. */
export interface Session {
  user: { id: string; name: string; email: string; role: { id: string; name: string } | null; profile: { id: string; name: string } | null };
  /** Administrator profile. */
  is_admin: boolean;
  /** Administrator or the top (CEO) role: sees the whole organisation's audit log. */
  sees_all: boolean;
  /** The profile's permissions, as the API's profiles carry them. */
  permissions: Record<string, unknown>;
  org: { id: string; name: string; time_zone: string };
  /** What the server lets this user use: the console hides the rest (the server still decides). */
  pages: { audit_log: boolean; reports: boolean; recycle_bin: boolean; exports: boolean; users: boolean; settings: boolean; findings: boolean;
    streams: boolean; empty_recycle_bin: boolean; alerts: boolean };
  csrf_token: string;
  idle_timeout_seconds: number;
}

export const getSession = () => apiGet<Session>('/api/console/session');
export const signIn = (email: string, password: string) => apiSend<Session>('POST', '/api/console/session', { email, password });
export const signOut = () => apiSend<void>('DELETE', '/api/console/session');
