/**
 * Text that cannot be stored exactly. A lone UTF-16 surrogate has no UTF-8 encoding: SQLite
 * stores bytes the hash never saw and PostgreSQL stores U+FFFD. PostgreSQL refuses NUL in text
 * outright. Both would make a stored audit entry differ from the one that was hashed, so such
 * text is refused everywhere (on both databases, so that the API behaves alike on each).
 */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\0');
}

/** Why `s` cannot be stored, in words for an error message; null when it can. */
export function unstorableReason(s: string): string | null {
  if (!s.isWellFormed()) return 'the text holds a lone UTF-16 surrogate, which has no UTF-8 encoding';
  if (s.includes('\0')) return 'the text holds a NUL character';
  return null;
}

export interface UnstorableText { jsonPath: string; reason: string }

/**
 * The first string, object key included, anywhere in a JSON value that cannot be stored
 * exactly, with its JSON path; null when every string can.
 */
export function findUnstorable(value: unknown, jsonPath = '$'): UnstorableText | null {
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    return reason ? { jsonPath, reason } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${jsonPath}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyReason = unstorableReason(k);
      if (keyReason) return { jsonPath: `${jsonPath}[${JSON.stringify(k)}]`, reason: keyReason };
      const found = findUnstorable(v, `${jsonPath}.${k}`);
      if (found) return found;
    }
  }
  return null;
}
