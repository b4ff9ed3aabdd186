/**
 * Runs once before the suites: says loudly when the PostgreSQL half of the suite is skipped, so
 * that a green run without it is not mistaken for a full one.
 */
export default function setup() {
  if (!process.env.AUDITRAIL_TEST_PG_URL) {
    const line = '='.repeat(78);
    process.stderr.write(`\n${line}\n  PostgreSQL tests SKIPPED: AUDITRAIL_TEST_PG_URL is not set.\n`
      + '  Run them with: AUDITRAIL_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test npm test\n'
      + `  (CI sets it, and fails when it is missing.)\n${line}\n\n`);
  }
}
