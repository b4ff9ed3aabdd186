import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The dependency direction of STYLE.md: main -> (http | jobs | cli) -> services -> store -> domain,
// with entry/ (what `serve` and `worker` run, and the runtime they build) at main's level.
// Each layer lists the layers it must never import.
const forbidden = {
  domain: ['store', 'services', 'jobs', 'http', 'cli', 'config', 'entry', 'main'],
  store: ['services', 'jobs', 'http', 'cli', 'config', 'entry', 'main'],
  services: ['jobs', 'http', 'cli', 'config', 'entry', 'main'],
  jobs: ['http', 'cli', 'entry', 'main'],
  http: ['jobs', 'cli', 'entry', 'main'],
  cli: ['http', 'jobs', 'entry', 'main'],
  config: ['store', 'services', 'jobs', 'http', 'cli', 'entry', 'main'],
};

// Outside store/, nothing holds the raw database: queries live in the store, services get a store
// bound to their transaction (tx.store) or to the pool (deps.store.repos), and audit entries are
// appended only by the store's transaction (inTransaction), never directly.
const rawDatabase = [
  { group: ['kysely', 'kysely/*'], message: 'only src/store/ imports kysely: use tx.store or deps.store.repos' },
  { group: ['**/store/db.ts'], importNames: ['Db'], message: 'only src/store/ holds the Kysely handle: use tx.store or deps.store.repos' },
  { group: ['**/store/bound-store.ts'], importNames: ['dbOf', 'runTransaction'], message: 'store-internal: use inTransaction' },
  { group: ['**/store/audit-store.ts'], importNames: ['appendAuditEntries', 'lockAuditHead'],
    message: 'audit entries are appended only by inTransaction (tx.audit)' },
];

const layerRules = Object.entries(forbidden).map(([layer, banned]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        ...banned.map((b) => ({
          group: b === 'main' ? ['**/main.ts', '**/main'] : [`**/${b}/*`],
          message: `${layer}/ must not import ${b}/ (dependency direction: main -> http|jobs|cli -> services -> store -> domain)`,
        })),
        ...(layer === 'store' ? [] : rawDatabase),
      ],
    }],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'web/dist/**', '.tmp/**', 'bench/.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
      setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  ...layerRules,
  {
    // The console talks to the server only over HTTP: it shares no code with src/.
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', EventSource: 'readonly',
      navigator: 'readonly', localStorage: 'readonly', crypto: 'readonly', TextEncoder: 'readonly', atob: 'readonly', btoa: 'readonly' } },
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/*', '../../src/*', '../../../src/*'],
      message: 'web/ talks to the server over HTTP only: it must not import the server\'s code' }] }] },
  },
  // main.ts and entry/ are in no layer folder; they follow the same rule.
  { files: ['src/*.ts', 'src/entry/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: rawDatabase }] } },
  {
    // Only an entry decides when the process ends: the HTTP app, services and commands return or throw.
    files: ['src/**/*.ts'],
    ignores: ['src/entry/**'],
    rules: {
      'no-restricted-properties': ['error', ...['exit', 'on', 'once'].map((property) => ({ object: 'process', property,
        message: 'process exit and signal handling belong to src/entry/ only' }))],
    },
  },
);
