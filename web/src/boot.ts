/**
 * The console's first script (its own small chunk, loaded beside the main one): asks the server
 * who is signed in and, opened on /audit-log, for the audit log's first page, before the rest of
 * the console (React and Mantine, half a megabyte) has been compiled and run; main.tsx hands the
 * answers to its query cache. The first rows come that much sooner (bench:console). Imports only
 * the API client and pure helpers. The server decides either way: a signed-out caller gets 401,
 * one without the permission 403, as for any request.
 */
import { getAuditLog, type AuditLogPage } from './api/audit.ts';
import { getSession, type Session } from './api/session.ts';
import { firstPageQuery, PER_PAGE } from './pages/AuditLog/prefetch.ts';

let session: Promise<Session | undefined> | null = getSession();
const auditQuery = firstPageQuery(window.location);
let auditLog: Promise<AuditLogPage> | null = auditQuery ? getAuditLog(auditQuery, undefined, PER_PAGE) : null;
// Taken by main.tsx; should it never run, a failed request is no unhandled rejection.
session.catch(() => {});
auditLog?.catch(() => {});

/** The session request already sent, once (null after). */
export function takeSession() {
  const s = session;
  session = null;
  return s;
}

/** The audit log's first-page request already sent and its query, once (null after, or when none was sent). */
export function takeAuditLog() {
  const a = auditQuery && auditLog ? { query: auditQuery, page: auditLog } : null;
  auditLog = null;
  return a;
}
