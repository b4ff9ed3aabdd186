/**
 * The console's browser tests' server: a real one on a port, serving the built console and the API
 * over a fresh store, with an organisation whose users have passwords and a jobs worker when a
 * flow needs one. The browser side is ./browser.ts, re-exported here.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createEnv, createOrg, type Backend, type TestEnv, type TestOrg } from '../helpers.ts';
import { createHttpApp } from '../../src/http/create-http-app.ts';
import { createAppWorker } from '../../src/jobs/index.ts';
import { ensureConsoleBuilt } from '../../src/entry/console-build.ts';
import type { Actor } from '../../src/services/context.ts';
import { launchChromium, openPage, signedIn, type Credentials, type PageOptions } from './browser.ts';

export * from './browser.ts';

/** A flow's limit in vitest: several steps, each allowed a browser step's time (STEP_TIMEOUT). */
export const FLOW_TIMEOUT = 10 * 60_000;

export const PASSWORD = 'correct horse battery staple';

export interface ConsoleUser extends Credentials {
  id: string;
  name: string;
}

export interface ConsoleServer {
  env: TestEnv;
  app: FastifyInstance;
  org: TestOrg;
  orgId: string;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** The Administrator and a trainee (Standard profile, in a role under the Manager's). */
  users: { admin: ConsoleUser; trainee: ConsoleUser };
  /** A user as the services see them, to seed data as that user. */
  actor(user: ConsoleUser): Promise<Actor>;
  close(): Promise<void>;
}

export interface ServerOptions {
  backend?: Backend;
  /** The server's clock (ms), fixed unless the test moves it: screenshots then show the same times each run. */
  now?: number;
  /** Run a jobs worker beside the server (exports, large bin actions). */
  worker?: boolean;
}

/** Builds the console if it is missing or stale; a fresh build takes tens of seconds. */
export async function buildConsole() {
  return ensureConsoleBuilt({ log: (l) => console.log(`[e2e] ${l}`) });
}

/**
 * A listening server over a fresh store, with the Acme organisation, its Administrator and a
 * trainee, both with the password PASSWORD. The console is built first when it needs to be.
 */
export async function startConsoleServer(opts: ServerOptions = {}): Promise<ConsoleServer> {
  await buildConsole();
  const env = await createEnv(opts.backend);
  if (opts.now !== undefined) env.setNow(opts.now);
  const org = await createOrg(env);
  const orgId = org.org.id;
  const dir = env.rt.services.directory;
  const adminActor = await dir.actorForUser(orgId, org.admin.id);
  const team = await dir.createRole(adminActor, { name: 'Sales Team', reporting_to: { id: org.roles.manager.id } });
  const trainee = await dir.createUser(adminActor, { first_name: 'Tia', last_name: 'Trainee', email: 'trainee@acme.example',
    role: { id: team.id }, profile: { id: org.profiles.standard.id } });
  const users = {
    admin: { id: org.admin.id, email: org.admin.email, password: PASSWORD, name: 'Ada Admin' },
    trainee: { id: trainee.id, email: 'trainee@acme.example', password: PASSWORD, name: 'Tia Trainee' },
  };
  for (const u of Object.values(users)) await env.rt.services.sessions.setPassword(orgId, u.email, u.password, 'e2e harness');

  const app = await createHttpApp(env.rt);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // A short poll: a job the browser schedules should not wait half a second to start.
  const worker = opts.worker ? createAppWorker(env.rt, { maintenance: false, pollMs: 100 }) : null;
  worker?.start();
  return {
    env, app, org, orgId, baseUrl, users,
    actor: (u) => dir.actorForUser(orgId, u.id),
    async close() {
      await worker?.stop();
      await app.close();
      await env.close();
    },
  };
}

/**
 * A suite's Chromium and pages: the browser is launched before the suite and closed after it,
 * with the suite's server (`server` gives the one its beforeAll made); `fresh` opens a new browser
 * context (no cookies) on that server, `as` one signed in as a user, and each test's contexts are
 * closed after it. `defaults` are every page's options (a fixed clock, a phone's viewport).
 */
export function testPages(server: () => ConsoleServer | undefined, defaults: PageOptions = {}) {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  }, FLOW_TIMEOUT);
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });
  afterAll(async () => {
    await browser?.close();
    await server()?.close();
  });
  async function fresh(opts: PageOptions = {}): Promise<Page> {
    const s = server();
    if (!browser || !s) throw new Error('testPages: the suite\'s browser or server is not up');
    const { context, page } = await openPage(browser, s, { ...defaults, ...opts });
    contexts.push(context);
    return page;
  }
  async function as(user: Credentials, opts: PageOptions = {}): Promise<Page> {
    const page = await fresh(opts);
    await signedIn(page, user);
    return page;
  }
  return { fresh, as };
}
