import { hostname, userInfo } from 'node:os';

/**
 * The name a change made from the command line is audited under: the operating-system user and
 * host who ran it, so that "who changed this setting" has an answer beyond "the CLI".
 */
export function cliActorName(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `auditrail CLI (${user}@${hostname()})`;
}
