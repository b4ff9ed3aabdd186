/**
 * The audit log's search box, as GitHub's audit log reads its own: `key:value` qualifiers and free
 * text. `action:deleted module:Deals user:amelia@zylker.com record:"Acme" ip:10.0.0.1 source:api`;
 * what is not a qualifier searches record names. Pure: the page resolves emails to user ids.
 */

export const QUALIFIERS = ['action', 'module', 'user', 'record', 'ip', 'source'] as const;
export type Qualifier = (typeof QUALIFIERS)[number];

/** What a search asks for. Lists hold every value of every occurrence of their qualifier. */
export interface SearchQuery {
  actions?: string[];
  modules?: string[];
  /** Emails, lower-cased; the page turns them into user ids. */
  users?: string[];
  /** `record:"..."` or the free text: the record's name contains it. */
  recordName?: string;
  ip?: string;
  sources?: string[];
}

export interface SearchVocabulary {
  actions: readonly string[];
  sources: readonly string[];
  /** Module api names; a qualifier's value matches one whatever its case. */
  modules: readonly string[];
}

export type SearchResult = { ok: true; query: SearchQuery } | { ok: false; errors: string[] };

/** One token of the text: a qualifier (`key:value`) or a word of free text, with its raw text. */
export interface Token {
  raw: string;
  key: string | null;
  value: string;
}

const KEY = /^([A-Za-z_]+):/;

/**
 * Splits the text into tokens: whitespace separates them, double quotes keep spaces inside one
 * value (`record:"Acme Corp"`, `"Acme Corp"`). An unclosed quote is an error.
 */
export function tokenize(text: string): { tokens: Token[]; error?: string } {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i])) i++;
    if (i >= n) break;
    const start = i;
    const keyMatch = KEY.exec(text.slice(i));
    let key: string | null = null;
    if (keyMatch) {
      key = keyMatch[1].toLowerCase();
      i += keyMatch[0].length;
    }
    let value = '';
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) return { tokens, error: 'A quote is not closed: add the closing " after the value.' };
      value = text.slice(i + 1, close);
      i = close + 1;
      // A quoted value is one token; text glued to its end (`"Acme"x`) belongs to it.
      while (i < n && !/\s/.test(text[i])) value += text[i++];
    } else {
      while (i < n && !/\s/.test(text[i])) value += text[i++];
    }
    tokens.push({ raw: text.slice(start, i), key, value });
  }
  return { tokens };
}

const list = (value: string) => value.split(',').map((v) => v.trim()).filter(Boolean);

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9a-f:]+(?:%\w+)?$/i;

/** An IPv4 or IPv6 address, as the server stores them. */
export function isIpAddress(value: string): boolean {
  const m = IPV4.exec(value);
  if (m) return m.slice(1).every((o) => Number(o) <= 255);
  return value.includes(':') && IPV6.test(value) && value.split(':').length <= 8;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const known = QUALIFIERS.map((q) => `${q}:`).join(', ');

/** Parses the search text; every problem is a sentence a person can act on. */
export function parseSearch(text: string, vocab: SearchVocabulary): SearchResult {
  const { tokens, error } = tokenize(text);
  const errors: string[] = error ? [error] : [];
  const query: SearchQuery = {};
  const free: string[] = [];
  let record: string | undefined;
  const add = (field: 'actions' | 'modules' | 'users' | 'sources', values: string[]) => {
    const existing = query[field] ?? [];
    query[field] = [...existing, ...values.filter((v) => !existing.includes(v))];
  };
  for (const t of tokens) {
    if (t.key === null) {
      if (t.value) free.push(t.value);
      continue;
    }
    if (!(QUALIFIERS as readonly string[]).includes(t.key)) {
      errors.push(`"${t.key}:" is not a search qualifier. Use ${known} or text to search record names.`);
      continue;
    }
    const key = t.key as Qualifier;
    if (!t.value.trim()) {
      errors.push(`"${key}:" needs a value, for example ${example[key]}.`);
      continue;
    }
    switch (key) {
      case 'action': {
        const values = list(t.value).map((v) => v.toLowerCase());
        const bad = values.filter((v) => !vocab.actions.includes(v));
        if (bad.length) errors.push(`${quoteList(bad)} ${bad.length > 1 ? 'are not actions' : 'is not an action'}. Actions are: ${vocab.actions.join(', ')}.`);
        else add('actions', values);
        break;
      }
      case 'source': {
        const values = list(t.value).map((v) => v.toLowerCase());
        const bad = values.filter((v) => !vocab.sources.includes(v));
        if (bad.length) errors.push(`${quoteList(bad)} ${bad.length > 1 ? 'are not sources' : 'is not a source'}. Sources are: ${vocab.sources.join(', ')}.`);
        else add('sources', values);
        break;
      }
      case 'module': {
        const values = list(t.value);
        const resolved = values.map((v) => vocab.modules.find((m) => m.toLowerCase() === v.toLowerCase()));
        const bad = values.filter((_, i) => !resolved[i]);
        if (bad.length) errors.push(`${quoteList(bad)} ${bad.length > 1 ? 'are not modules' : 'is not a module'}. Modules are: ${vocab.modules.join(', ')}.`);
        else add('modules', resolved as string[]);
        break;
      }
      case 'user': {
        const values = list(t.value).map((v) => v.toLowerCase());
        const bad = values.filter((v) => !EMAIL.test(v));
        if (bad.length) errors.push(`"user:" takes a user's email address, for example user:amelia@zylker.com (${quoteList(bad)} is not one).`);
        else add('users', values);
        break;
      }
      case 'ip': {
        if (query.ip !== undefined && query.ip !== t.value) errors.push('"ip:" may be given once: an entry has one IP address.');
        else if (!isIpAddress(t.value)) errors.push(`"${t.value}" is not an IP address (for example ip:10.0.0.1).`);
        else query.ip = t.value;
        break;
      }
      case 'record': {
        if (record !== undefined && record !== t.value) errors.push('"record:" may be given once.');
        else record = t.value.trim();
        break;
      }
    }
  }
  const freeText = free.join(' ').trim();
  if (record !== undefined && freeText) {
    errors.push(`Search either with record:"…" or with free text, not both: both search record names ("${freeText}" and "${record}").`);
  } else if (record !== undefined || freeText) {
    query.recordName = record ?? freeText;
  }
  return errors.length ? { ok: false, errors } : { ok: true, query };
}

const example: Record<Qualifier, string> = {
  action: 'action:deleted', module: 'module:Deals', user: 'user:amelia@zylker.com', record: 'record:"Acme"',
  ip: 'ip:10.0.0.1', source: 'source:api',
};

function quoteList(values: string[]) {
  return values.map((v) => `"${v}"`).join(', ');
}

/** The text without the qualifiers named (what a filter control now decides), the rest as typed. */
export function removeQualifiers(text: string, keys: Qualifier[]): string {
  const { tokens, error } = tokenize(text);
  if (error) return text;
  return tokens.filter((t) => !(t.key && (keys as string[]).includes(t.key))).map((t) => t.raw).join(' ');
}

/** Whether the text names one of these qualifiers (the page keeps the filter controls in step). */
export function hasQualifier(text: string, key: Qualifier): boolean {
  return tokenize(text).tokens.some((t) => t.key === key);
}
