import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/main.ts';
import { buildProgram } from '../src/cli/program.ts';
import type { CliCommand, CliContext } from '../src/cli/command.ts';

const load = (module: string) => import(/* @vite-ignore */ new URL(`../src/${module}`, import.meta.url).href) as Promise<{ command: CliCommand }>;
const unused = () => { throw new Error('not in this test'); };
const ctx: CliContext = { action: () => async () => {}, config: unused, withRuntime: unused, workerStarter: unused };

describe('the command table in main.ts', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('lists %s as its module defines it', async (_name, entry) => {
    const cmd = new Command(entry.name);
    (await load(entry.module)).command.define(cmd, ctx);
    expect(new Help().subcommandTerm(cmd)).toBe(entry.term);
  });

  it('loads no command for --help, and only the command named otherwise', async () => {
    const loads = async (...args: string[]) => {
      const loaded: string[] = [];
      await buildProgram(COMMANDS, ['node', 'auditrail', ...args], () => ctx, (m) => { loaded.push(m); return load(m); });
      return loaded;
    };
    expect(await loads('--help')).toEqual([]);
    expect(await loads()).toEqual([]);
    expect(await loads('--data-dir', 'verify', 'org', 'list')).toEqual(['cli/commands/org.ts']);
    expect(await loads('verify', '--since', '3')).toEqual(['cli/commands/verify.ts']);
    expect(await loads('help', 'client')).toEqual(['cli/commands/client.ts']);
    expect(await loads('serve', '--port', '0')).toEqual(['entry/serve.ts']);
  });

  it('answers --version, shows help and succeeds when bare, and still refuses an unknown command', async () => {
    const { main } = await import('../src/main.ts');
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default;
    const writes: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { writes.push(String(chunk)); return true; }) as typeof process.stdout.write;
    try {
      expect(await main(['node', 'auditrail', '--version'])).toBe(0);
      expect(await main(['node', 'auditrail'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(writes.join('')).toContain(`${version}\n`);
    expect(writes.join('')).toMatch(/Usage: auditrail/);
    expect(await main(['node', 'auditrail', 'nosuch'])).toBe(1);
  });
});
