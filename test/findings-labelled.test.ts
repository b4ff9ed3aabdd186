import { describe, expect, it } from 'vitest';
import { generateOrg } from '../bench/findings-generator.ts';
import { score } from '../bench/findings.ts';
import { detectAll } from '../src/domain/findings-detectors.ts';
import { eventFromApiEntry, findingView } from '../src/domain/findings.ts';

/** The labelled organisation of bench:findings, smaller: a change that costs precision or recall fails here first. */
describe('the detectors on a labelled organisation', () => {
  it.each([15, 7])('find every planted incident and little else (seed %i)', (seed) => {
    const org = generateOrg({ days: 90, seed });
    const admins = new Set(org.users.filter((u) => u.profile.name === 'Administrator').map((u) => u.profile.id));
    const found = detectAll(org.entries.map(eventFromApiEntry), { timeZone: org.timeZone, adminProfileIds: admins })
      .map((f) => findingView({ ...f, id: f.entryIds[0] }, org.timeZone));
    for (const row of score(found, org.labels)) {
      expect(row.recall, `${row.kind} missed ${row.missed.join(', ')}`).toBe(1);
      expect(row.precision, `${row.kind}: ${row.falsePositives.join(' | ')}`).toBeGreaterThanOrEqual(0.9);
    }
  });
});
