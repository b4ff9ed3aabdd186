import { useEffect, useState } from 'react';
import { Alert, Anchor, Box, Button, Group, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { getBinJob, getConsoleRecord, listFields, listModules, restoreFromBin, type ConsoleRecord } from '../../api/records.ts';
import { ErrorState, LoadingState } from '../../components/States.tsx';
import { formatTime } from '../../lib/time.ts';
import { useSession } from '../../session.tsx';
import { FieldValue, isEmptyValue, recordName } from './fields.tsx';
import { Timeline } from './Timeline.tsx';
import { recordHref } from '../../components/AuditEntryDetail.tsx';
import { itemName } from '../RecycleBin/binQuery.ts';
import { useBinItemsByIds } from '../RecycleBin/useBin.ts';

/** The CRM modules, for singular labels (the same cache entry as the audit log's). */
const useModules = () => useQuery({ queryKey: ['modules'], queryFn: listModules, staleTime: 30 * 60_000 });

const NOT_FOUND = new Set(['INVALID_DATA', 'INVALID_URL_PATTERN', 'INVALID_MODULE', 'NOT_FOUND', 'RECORD_NOT_FOUND']);

/** A record's page: its name (h1), its fields, its timeline; a recycle-bin banner with Restore. */
export default function RecordPage() {
  const { module = '', recordId = '' } = useParams();
  const session = useSession();
  const modules = useModules();
  const moduleInfo = modules.data?.find((m) => m.api_name.toLowerCase() === module.toLowerCase());
  const singular = moduleInfo?.singular_label ?? 'Record';
  const rec = useQuery({ queryKey: ['console-record', module, recordId], queryFn: () => getConsoleRecord(module, recordId) });

  if (rec.isPending) {
    return (
      <Stack>
        <Title order={1}>{singular}</Title>
        <LoadingState label={`Loading the ${singular.toLowerCase()}`} />
      </Stack>
    );
  }
  if (rec.isError) {
    const e = rec.error;
    if (e instanceof ApiError && (e.status === 404 || NOT_FOUND.has(e.code))) {
      return (
        <Stack>
          <Title order={1}>{singular} not found</Title>
          <Alert color="yellow" role="alert" title="Not found">
            There is no {moduleInfo ? singular.toLowerCase() : `record in the module “${module}”`} with the id {recordId} that you can see.
            It may have been deleted permanently, or the link may be wrong.
            {session.pages.audit_log && (
              <> Its history may still be in the <Anchor component={Link} to={`/audit-log?record_id=${encodeURIComponent(recordId)}`}>audit log</Anchor>.</>
            )}
          </Alert>
        </Stack>
      );
    }
    if (e instanceof ApiError && (e.status === 403 || e.code === 'NO_PERMISSION')) {
      return (
        <Stack>
          <Title order={1}>{singular}</Title>
          <Alert color="yellow" role="alert" title="No permission">
            You do not have permission to view this {singular.toLowerCase()}. Ask an administrator if you need access.
          </Alert>
        </Stack>
      );
    }
    return (
      <Stack>
        <Title order={1}>{singular}</Title>
        <ErrorState title={`The ${singular.toLowerCase()} could not be loaded`} error={e} onRetry={() => rec.refetch()} />
      </Stack>
    );
  }
  return <RecordView module={moduleInfo?.api_name ?? module} recordId={recordId} data={rec.data} singular={singular} />;
}

function RecordView({ module, recordId, data, singular }: { module: string; recordId: string; data: ConsoleRecord; singular: string }) {
  const session = useSession();
  const timeZone = session.org.time_zone;
  const modules = useModules();
  const fields = useQuery({ queryKey: ['fields', module], queryFn: () => listFields(module), staleTime: 30 * 60_000 });
  const [showEmpty, setShowEmpty] = useState(false);
  const name = recordName(module, data.record) ?? `${singular} ${recordId}`;
  const shown = (fields.data ?? []).filter((f) => f.api_name !== 'id' && (showEmpty || !isEmptyValue(data.record[f.api_name])));
  return (
    <Stack gap="lg">
      <Box>
        <Text size="sm" c="gray.7">{singular}</Text>
        <Title order={1} style={{ overflowWrap: 'anywhere' }}>{name}</Title>
        {session.pages.audit_log && (
          <Anchor component={Link} size="sm"
            to={`/audit-log?${new URLSearchParams({ record_id: recordId, module }).toString()}`}>
            This record in the audit log
          </Anchor>
        )}
      </Box>

      <BinBanner module={module} recordId={recordId} data={data} singular={singular} />

      <Box component="section" aria-labelledby="fields-heading">
        <Group justify="space-between" align="flex-end" mb="xs" wrap="wrap">
          <Title order={2} id="fields-heading" size="h3">Fields</Title>
          <Switch label="Show empty fields" checked={showEmpty} onChange={(e) => setShowEmpty(e.currentTarget.checked)} size="sm" />
        </Group>
        {fields.isPending ? <LoadingState label="Loading the fields" />
          : fields.isError ? <ErrorState title="The field labels could not be loaded" error={fields.error} onRetry={() => fields.refetch()} />
            : (
              <Table withTableBorder verticalSpacing={6} layout="fixed">
                <Table.Tbody>
                  {shown.map((f) => (
                    <Table.Tr key={f.api_name}>
                      <Table.Th scope="row" w="35%" fw={500} c="gray.7" style={{ overflowWrap: 'anywhere' }}>{f.field_label}</Table.Th>
                      <Table.Td style={{ overflowWrap: 'anywhere' }}>
                        <FieldValue field={f} value={data.record[f.api_name]} record={data.record} timeZone={timeZone} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
      </Box>

      <Timeline module={module} recordId={recordId} timeZone={timeZone} modules={modules.data} />
    </Stack>
  );
}

/** The recycle bin banner: who deleted the record and when, and Restore; gone once the record is back. */
function BinBanner({ module, recordId, data, singular }: { module: string; recordId: string; data: ConsoleRecord; singular: string }) {
  const session = useSession();
  const client = useQueryClient();
  const [jobId, setJobId] = useState<string | null>(null);
  const [restored, setRestored] = useState(false);
  const refresh = () => Promise.all([
    client.invalidateQueries({ queryKey: ['console-record', module, recordId] }),
    client.invalidateQueries({ queryKey: ['timeline', module, recordId] }),
    client.invalidateQueries({ queryKey: ['recycle-bin'] }),
  ]);
  const restore = useMutation({
    mutationFn: () => restoreFromBin(recordId),
    onSuccess: async (r) => {
      if (r.scheduled) {
        setJobId(r.jobId);
        return;
      }
      setRestored(true);
      await refresh();
    },
  });
  const job = useQuery({
    queryKey: ['recycle-bin-job', jobId],
    queryFn: () => getBinJob(jobId!),
    enabled: jobId !== null,
    refetchInterval: (q) => (q.state.data && ['COMPLETED', 'FAILED'].includes(q.state.data.status) ? false : 2000),
  });
  const jobStatus = job.data?.status;
  // A note, attachment or activity whose parent is in the bin too cannot come back alone
  // (CANNOT_RESTORE_WITHOUT_PARENT): said before Restore is pressed, as the Recycle Bin page does.
  const asBinItem = useBinItemsByIds(data.in_recycle_bin && session.pages.recycle_bin ? [recordId] : []);
  const parentId = asBinItem.data?.[0]?.parent_record?.id;
  const parentInBin = useBinItemsByIds(parentId ? [parentId] : []).data?.[0] ?? null;
  useEffect(() => {
    if (jobStatus === 'COMPLETED') {
      setJobId(null);
      setRestored(true);
      void refresh();
    }
    // refresh is rebuilt each render; the status change is what matters.
  }, [jobStatus]);

  if (!data.in_recycle_bin) {
    return restored ? (
      <Alert color="green" role="status" title="Restored" withCloseButton closeButtonLabel="Dismiss" onClose={() => setRestored(false)}>
        The {singular.toLowerCase()} is back where it was, with what its deletion removed.
      </Alert>
    ) : null;
  }
  const deletedBy = data.bin?.deleted_by?.name ?? 'someone';
  return (
    <Alert color="orange" title="In the recycle bin" role="region" aria-label="Recycle bin">
      <Stack gap="xs">
        <Text size="sm">
          This {singular.toLowerCase()} was deleted by {deletedBy}
          {data.bin?.deleted_time ? <> on {formatTime(data.bin.deleted_time, session.org.time_zone)}</> : null}
          {' '}and is in the recycle bin. Its fields are as they were when it was deleted.
        </Text>
        {parentInBin && (
          <Text size="sm">
            It cannot be restored while its parent record,{' '}
            {recordHref(parentInBin.module.api_name, parentInBin.id)
              ? <Anchor component={Link} to={recordHref(parentInBin.module.api_name, parentInBin.id)!}>{itemName(parentInBin)}</Anchor>
              : itemName(parentInBin)}, is in the recycle bin too: restore the parent first.
          </Text>
        )}
        {session.pages.recycle_bin ? (
          <Group>
            <Button onClick={() => restore.mutate()} loading={restore.isPending || jobId !== null} disabled={parentInBin !== null}>Restore</Button>
          </Group>
        ) : (
          <Text size="sm">Someone with access to the recycle bin can restore it.</Text>
        )}
        {jobId !== null && (
          <Text size="sm" role="status">
            The restore is scheduled (many related records come back with it)
            {job.data?.total ? `: ${job.data.processed} of ${job.data.total} done` : ''}.
          </Text>
        )}
        {jobStatus === 'FAILED' && <Text size="sm" c="red.9" role="alert">The scheduled restore failed{job.data?.error ? `: ${job.data.error}` : ''}.</Text>}
        {restore.isError && (
          <Text size="sm" c="red.9" role="alert">
            The {singular.toLowerCase()} was not restored. {restore.error instanceof ApiError ? restore.error.message : String(restore.error)}
          </Text>
        )}
      </Stack>
    </Alert>
  );
}
