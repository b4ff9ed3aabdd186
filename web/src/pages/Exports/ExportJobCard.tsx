import { Anchor, Badge, Button, Group, List, Paper, SimpleGrid, Stack, Text, Tooltip } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { consoleLink, downloadExportFile, getExportManifest, getPublicKeys, type ExportJob } from '../../api/exports.ts';
import { formatTime } from '../../lib/time.ts';
import { supportsEd25519, verifyExportCsv, verifyExportZip, type ExportVerification } from '../../lib/manifest.ts';
import { describeCriteria } from './criteria.ts';

/** The API's status names, as people read them. */
export const STATUS_LABEL: Record<string, { label: string; color: string }> = {
  Scheduled: { label: 'Scheduled', color: 'gray.7' },
  Progress: { label: 'In Progress', color: 'blue.8' },
  Finished: { label: 'Finished', color: 'teal.9' },
  Failed: { label: 'Failed', color: 'red.8' },
};

const fileName = (link: string) => decodeURIComponent(link.split('/').pop() ?? link);

/**
 * Downloads the file and checks it against its signed manifest and the installation's public
 * key: a ZIP's manifest is inside it, a CSV's comes from the manifest endpoint.
 */
async function verify(jobId: string, link: string): Promise<ExportVerification> {
  if (!(await supportsEd25519())) {
    throw new Error('This browser cannot check Ed25519 signatures. Download the file and run `auditrail verify-export` on it.');
  }
  const zip = /\.zip$/i.test(fileName(link));
  const [keys, bytes, manifest] = await Promise.all([getPublicKeys(), downloadExportFile(link), zip ? null : getExportManifest(jobId)]);
  const trusted = [{ key_id: keys.key_id, public_key: keys.public_key }, ...keys.keys.filter((k) => k.key_id !== keys.key_id)];
  return zip ? verifyExportZip(new Uint8Array(bytes), trusted) : verifyExportCsv(new Uint8Array(bytes), manifest!, trusted);
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">{label}</Text>
      <Text size="sm">{children}</Text>
    </div>
  );
}

/** One export job: its status, entries, expiry, files and (for a signed ZIP) the manifest check. */
export function ExportJobCard({ job, timeZone, moduleLabel, now }: { job: ExportJob; timeZone: string; moduleLabel: (m: string) => string; now: number }) {
  const client = useQueryClient();
  const status = STATUS_LABEL[job.status] ?? { label: job.status, color: 'gray.7' };
  const links = job.download_links ?? [];
  const expired = job.expiry_date ? Date.parse(job.expiry_date) < now : false;
  const file = links[0];
  // Run on demand (it downloads the whole file, an audited download) and kept for the session.
  const q = useQuery({
    queryKey: ['export-verification', job.id, file],
    queryFn: async () => {
      try {
        return await verify(job.id, file!);
      } finally {
        void client.invalidateQueries({ queryKey: ['audit-log'] });
      }
    },
    enabled: false, staleTime: Infinity, gcTime: Infinity, retry: false,
  });
  const check = { data: q.data, isPending: q.isFetching, isError: q.isError && !q.isFetching, error: q.error, mutate: () => void q.refetch() };
  const created = formatTime(job.job_start_time, timeZone);
  return (
    <Paper withBorder p="md" component="article" aria-label={`Export of ${created}`}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs" wrap="wrap">
            <Badge color={status.color} variant="filled" size="lg">{status.label}</Badge>
            {check.data?.ok && (
              <Tooltip label={`The manifest's Ed25519 signature (key ${check.data.keyId}) and every file's SHA-256 check out`} withArrow>
                <Badge color="teal.9" variant="filled" size="lg" tabIndex={0}>Verified</Badge>
              </Tooltip>
            )}
            {job.truncated && <Badge color="orange.9" variant="filled">Capped at 1,000,000 entries</Badge>}
          </Group>
          <Text size="sm" c="dimmed"><time dateTime={job.job_start_time}>{created}</time></Text>
        </Group>
        <Text size="sm">{describeCriteria(job.criteria, moduleLabel, (iso) => formatTime(iso, timeZone))}</Text>
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
          <Field label="Entries">{job.entry_count === null ? '—' : job.entry_count.toLocaleString('en-US')}</Field>
          <Field label="Expires">{job.expiry_date ? `${formatTime(job.expiry_date, timeZone)}${expired ? ' (expired)' : ''}` : '—'}</Field>
          <Field label="Created by">{job.created_by.name ?? `User ${job.created_by.id}`}</Field>
          <Field label="Ended">{job.job_end_time ? formatTime(job.job_end_time, timeZone) : '—'}</Field>
        </SimpleGrid>
        {job.status === 'Failed' && (
          <Text size="sm" c="red">The export failed. Create it again; if it fails again, the server log says why.</Text>
        )}
        {links.length > 0 && (
          <Group gap="sm" wrap="wrap">
            {expired ? (
              <Text size="sm" c="dimmed">The download links expired; create the export again.</Text>
            ) : links.map((l) => (
              <Button key={l} component="a" href={consoleLink(l)} download={fileName(l)} variant="light" size="xs"
                aria-label={`Download ${fileName(l)} of the export of ${created}`}>
                Download {fileName(l)}
              </Button>
            ))}
            {!expired && file && !check.data?.ok && (
              <Button size="xs" variant="default" onClick={() => check.mutate()} loading={check.isPending}>
                Verify signature
              </Button>
            )}
          </Group>
        )}
        {check.isPending && <Text size="sm" role="status">Downloading the export and checking its manifest…</Text>}
        {check.isError && (
          <Text size="sm" c="red" role="alert">The export could not be checked: {check.error instanceof Error ? check.error.message : String(check.error)}</Text>
        )}
        {check.data && !check.data.ok && (
          <Stack gap={2} role="alert">
            <Text size="sm" c="red" fw={600}>Not verified: the export does not match its signed manifest.</Text>
            <List size="sm">{check.data.problems.map((p, i) => <List.Item key={i}>{p.charAt(0).toUpperCase() + p.slice(1)}.</List.Item>)}</List>
          </Stack>
        )}
        {check.data?.ok && (
          <Text size="xs" c="dimmed" role="status">
            Checked in this browser: {check.data.entries.toLocaleString('en-US')} entries in {check.data.files.length} {check.data.files.length === 1 ? 'file' : 'files'} match the manifest signed with key {check.data.keyId}.
            {' '}<Anchor size="xs" href="/api/integrity/public-key" target="_blank" rel="noreferrer">Public key</Anchor>
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
