/**
 * Each audit action's colour in the Reports charts, the same on every load whatever the order the
 * actions arrive in: the common actions from a fixed map, any other from a hash of its name. Every
 * colour is a Mantine shade with at least 3:1 contrast against white (WCAG 1.4.11, graphics).
 */

/** The actions people see most, with a colour that says something about them (red: gone for good). */
export const ACTION_COLORS: Readonly<Record<string, string>> = {
  added: 'teal.8',
  updated: 'indigo.7',
  deleted: 'orange.8',
  permanently_deleted: 'red.8',
  restored: 'cyan.8',
  merged: 'grape.7',
  converted: 'green.9',
  mass_updated: 'blue.8',
  mass_deleted: 'pink.8',
  imported: 'lime.9',
  exported: 'violet.6',
  viewed: 'gray.6',
  login: 'blue.6',
  login_failed: 'red.6',
  logout: 'gray.8',
  audit_log_viewed: 'indigo.9',
  // What a new organisation's first day holds: set up together, shown together.
  org_created: 'dark.6',
  user_added: 'violet.7',
  user_updated: 'violet.9',
  role_added: 'grape.9',
  profile_added: 'cyan.9',
};

/**
 * For the other actions. No red or orange: those say "deleted", and an action that is not a
 * deletion should not look like one.
 */
export const FALLBACK_COLORS = ['teal.9', 'blue.9', 'pink.9', 'grape.6', 'cyan.7', 'green.8', 'indigo.5', 'pink.6', 'gray.9', 'violet.5'] as const;

/** FNV-1a over the name's UTF-16 code units: small, and the same in every browser. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The action's colour in the charts, a Mantine colour token ("teal.8"); its badge's colour is AuditEntryDetail's actionColor. */
export function seriesColor(action: string): string {
  return Object.hasOwn(ACTION_COLORS, action) ? ACTION_COLORS[action] : FALLBACK_COLORS[hash(action) % FALLBACK_COLORS.length];
}
