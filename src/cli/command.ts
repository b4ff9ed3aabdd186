import type { Command } from 'commander';
import type { Config, ConfigFlags } from '../config/config.ts';
import type { Runtime } from '../services/runtime.ts';

/** A command's module exports one of these as `command` (see README.md in this folder). */
export interface CliCommand {
  /**
   * Adds the command's arguments, options, option help and sub-verbs to `cmd` (its name and one-line
   * description come from the table in main.ts), with actions wrapped in `ctx.action`.
   */
  define(cmd: Command, ctx: CliContext): void;
}

/** A line of main.ts's table: what `auditrail --help` shows without loading the module. */
export interface CommandEntry {
  name: string;
  /** The command as `--help` lists it: name, `[options]` when it has any, arguments. */
  term: string;
  description: string;
  /** Path of the module from src/, for example `cli/commands/verify.ts`. */
  module: string;
}

/** What main gives a command: configuration and a runtime on demand, and where its exit code goes. */
export interface CliContext {
  /** Wraps an action: the number it resolves to is the process's exit code. */
  action<A extends unknown[]>(run: (...args: A) => Promise<number>): (...args: A) => Promise<void>;
  /** The configuration from the environment and the global options, overridden by `flags`. */
  config(flags?: ConfigFlags): Config;
  /**
   * Runs `fn` over a runtime and closes it after. Commands that change data pass `migrate: true`:
   * the database is brought to the current schema first. Commands that only read pass `false`:
   * the database is left as it is and one whose schema is behind is refused (exit code 2).
   */
  withRuntime(opts: { migrate: boolean }, fn: (rt: Runtime) => Promise<number>): Promise<number>;
  /** Loads the jobs worker; the function it resolves to starts one in this process (no maintenance tasks). */
  workerStarter(rt: Runtime): Promise<() => { stop(): Promise<void> }>;
}
