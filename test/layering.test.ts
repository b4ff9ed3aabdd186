import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

describe('the lint step keeps the dependency direction', () => {
  const eslint = new ESLint();
  const lint = async (file: string, code: string) => (await eslint.lintText(code, { filePath: file }))[0].messages
    .filter((m) => m.ruleId === 'no-restricted-imports');

  it.each([
    ['src/domain/x.ts', "import { openStore } from '../store/db.ts';\nexport const a = openStore;\n"],
    ['src/store/x.ts', "import { createServices } from '../services/index.ts';\nexport const a = createServices;\n"],
    ['src/services/x.ts', "import { buildApp } from '../http/app.ts';\nexport const a = buildApp;\n"],
    ['src/http/x.ts', "import { main } from '../main.ts';\nexport const a = main;\n"],
    ['src/cli/x.ts', "import { openRuntime } from '../entry/runtime.ts';\nexport const a = openRuntime;\n"],
  ])('refuses an upward import in %s', async (file, code) => {
    expect(await lint(file, code)).toHaveLength(1);
  });

  it.each(['src/http/x.ts', 'src/services/x.ts', 'src/cli/commands/x.ts'])('refuses process exit and signal handling in %s', async (file) => {
    const messages = (await eslint.lintText("process.once('SIGTERM', () => process.exit(0));\n", { filePath: file }))[0].messages;
    expect(messages.filter((m) => m.ruleId === 'no-restricted-properties')).toHaveLength(2);
  });

  it('allows process exit in an entry', async () => {
    const messages = (await eslint.lintText("process.once('SIGTERM', () => process.exit(0));\n", { filePath: 'src/entry/x.ts' }))[0].messages;
    expect(messages.filter((m) => m.ruleId === 'no-restricted-properties')).toHaveLength(0);
  });

  it('allows the downward direction', async () => {
    expect(await lint('src/services/x.ts', "import { openStore } from '../store/db.ts';\nexport const a = openStore;\n")).toHaveLength(0);
  });
});
