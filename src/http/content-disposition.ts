/**
 * `Content-Disposition: attachment` for a file name in any script (RFC 6266). Header values
 * must be ASCII, so the plain `filename` gets an ASCII stand-in and, when that differs from the
 * name, `filename*` carries the exact name as UTF-8 percent-encoded (RFC 5987), which every
 * current browser and HTTP client prefers.
 */
export function attachmentDisposition(name: string): string {
  // Outside printable ASCII, and the quote, backslash and percent that some clients misread.
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/gu, '_');
  if (fallback === name) return `attachment; filename="${name}"`;
  // A lone surrogate has no UTF-8 form (encodeURIComponent would throw); encodeURIComponent
  // leaves ' ( ) * as they are, which RFC 5987's attr-char does not allow.
  const encoded = encodeURIComponent(name.replace(/\p{Surrogate}/gu, '\uFFFD'))
    .replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
