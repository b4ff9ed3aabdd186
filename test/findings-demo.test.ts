import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnv, type TestEnv } from './helpers.ts';

/** The plain demo organisation holds no incident: the detectors must not cry wolf over it. */
describe('findings on the demo organisation', () => {
  let env: TestEnv;
  beforeAll(async () => { env = await createEnv(); });
  afterAll(async () => { await env?.close(); });

  it('gives no finding above low severity over its six months', async () => {
    const { orgId } = await env.rt.demo.seedDemo();
    const r = await env.rt.services.findings.scanOrganisation(orgId);
    expect(r.scanned).toBeGreaterThan(3000);
    const findings = await env.store.db.selectFrom('findings').selectAll().where('org_id', '=', orgId).execute();
    expect(findings.filter((f) => f.severity !== 'low').map((f) => `${f.kind} ${f.user_name}: ${f.explanation}`)).toEqual([]);
  }, 300_000);
});
