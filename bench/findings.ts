/**
 * Precision and recall of the anomaly detectors on a labelled organisation (not a test: it prints
 * figures and never fails on them).
 *
 * bench/findings-generator.ts writes several months of ordinary work with planted incidents of
 * every kind as JSON lines in the audit log API's shape, and the users as GET /crm/v8/users
 * answers them; `auditrail findings evaluate` runs over the file exactly as an administrator
 * would run it; the findings are matched against the labels.
 *
 * A finding matches a label when its kind is the label's (or one the label says it also is), it
 * is about the label's user (or, for a spray across users, about no single user), and the time
 * spans overlap. Precision counts findings of medium and high severity (low ones are for
 * reading, not for alerting, and are counted apart); recall counts labels found by a finding of
 * medium or high severity.
 *
 *   npm run bench:findings
 *   BENCH_FINDINGS_DAYS=180 BENCH_FINDINGS_SEED=7 npm run bench:findings
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FINDING_KINDS, type FindingView } from '../src/domain/findings.ts';
import { parseDateTime } from '../src/domain/time.ts';
import { runIfMain } from './common.ts';
import { generateOrg, type Label } from './findings-generator.ts';

const SLACK = 60_000;

export function score(findings: FindingView[], labels: Label[]) {
  const matches = (f: FindingView, l: Label) => {
    if (l.kind !== f.kind && !l.also?.includes(f.kind)) return false;
    if (l.userId ? f.user.id !== l.userId : f.user.id !== null) return false;
    const s = parseDateTime(f.started_at)!;
    const e = parseDateTime(f.ended_at)!;
    return s <= l.end + SLACK && e >= l.start - SLACK;
  };
  const alerting = findings.filter((f) => f.severity !== 'low');
  return FINDING_KINDS.map((kind) => {
    const found = alerting.filter((f) => f.kind === kind);
    const truePositives = found.filter((f) => labels.some((l) => matches(f, l)));
    const planted = labels.filter((l) => l.kind === kind);
    const recalled = planted.filter((l) => found.some((f) => matches(f, l)));
    return {
      kind, planted: planted.length, found: found.length, truePositives: truePositives.length, recalled: recalled.length,
      precision: found.length ? truePositives.length / found.length : 1, recall: planted.length ? recalled.length / planted.length : 1,
      low: findings.filter((f) => f.kind === kind && f.severity === 'low').length,
      missed: planted.filter((l) => !recalled.includes(l)).map((l) => l.name),
      falsePositives: found.filter((f) => !truePositives.includes(f)).map((f) => `${f.user.name}: ${f.explanation}`),
    };
  });
}

async function main() {
  const days = Number(process.env.BENCH_FINDINGS_DAYS ?? 120);
  const seed = Number(process.env.BENCH_FINDINGS_SEED ?? 15);
  const org = generateOrg({ days, seed });
  const dir = mkdtempSync(path.join(tmpdir(), 'auditrail-bench-findings-'));
  try {
    const entries = path.join(dir, 'entries.jsonl');
    writeFileSync(entries, `${org.entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
    writeFileSync(path.join(dir, 'users.json'), JSON.stringify({ users: org.users }));
    const started = performance.now();
    const r = spawnSync(process.execPath, [path.resolve('bin/auditrail.js'), 'findings', 'evaluate', '--entries', entries,
      '--users', path.join(dir, 'users.json'), '--time-zone', org.timeZone], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`findings evaluate failed: ${r.stderr}`);
    const seconds = (performance.now() - started) / 1000;
    const findings = (JSON.parse(r.stdout) as { findings: FindingView[] }).findings;
    const rows = score(findings, org.labels);
    console.log(`bench:findings: ${org.users.length} users, ${days} days, ${org.entries.length.toLocaleString('en-US')} entries `
      + `(seed ${seed}, zone ${org.timeZone}); evaluate took ${seconds.toFixed(1)} s`);
    console.log('');
    console.log('| detector           | planted | found (medium+) | true | precision | recall | low findings |');
    console.log('|--------------------|---------|-----------------|------|-----------|--------|--------------|');
    for (const x of rows) {
      console.log(`| ${x.kind.padEnd(18)} | ${String(x.planted).padStart(7)} | ${String(x.found).padStart(15)} | ${String(x.truePositives).padStart(4)} `
        + `| ${x.precision.toFixed(2).padStart(9)} | ${x.recall.toFixed(2).padStart(6)} | ${String(x.low).padStart(12)} |`);
    }
    console.log('');
    console.log('targets: recall 1.00 and precision >= 0.90 for every detector: '
      + (rows.every((x) => x.recall === 1 && x.precision >= 0.9) ? 'met' : 'NOT met'));
    for (const x of rows) {
      for (const m of x.missed) console.log(`  missed ${x.kind}: ${m}`);
      for (const f of x.falsePositives) console.log(`  false positive ${x.kind}: ${f}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, main);
