import { useEffect, useRef } from 'react';
import { Alert, Group, Progress, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

/** A background job's state, whatever API it comes from. */
export interface JobState {
  /** running includes scheduled: the job has not ended. */
  state: 'scheduled' | 'running' | 'done' | 'failed';
  processed: number;
  total: number | null;
  /** Words about the outcome or the failure. */
  message?: string | null;
}

export interface JobProgressProps {
  /** What the job does, e.g. "Restoring 1,200 items". */
  label: string;
  /** A stable key for the poll (the job's id). */
  jobKey: readonly unknown[];
  fetchJob: () => Promise<JobState>;
  /** Called once when the job ends (done or failed). */
  onEnd?: (job: JobState) => void;
  /** Milliseconds between polls while the job runs. */
  interval?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Polls a background job until it ends and shows its progress; announced politely to screen readers. */
export function JobProgress({ label, jobKey, fetchJob, onEnd, interval = 1000 }: JobProgressProps) {
  const q = useQuery({
    queryKey: ['job', ...jobKey],
    queryFn: fetchJob,
    refetchInterval: (query) => {
      const s = query.state.data?.state;
      return s === 'done' || s === 'failed' ? false : interval;
    },
    retry: 3,
  });
  const ended = useRef(false);
  const job = q.data;
  useEffect(() => {
    if (ended.current) return;
    if (job && (job.state === 'done' || job.state === 'failed')) {
      ended.current = true;
      onEnd?.(job);
    } else if (!job && q.isError) {
      // The job cannot be read at all (gone, or not ours): it ends here for this page.
      ended.current = true;
      onEnd?.({ state: 'failed', processed: 0, total: null, message: `Its progress cannot be read: ${q.error instanceof Error ? q.error.message : String(q.error)}` });
    }
  }, [job, onEnd, q.isError, q.error]);

  if (q.isError && !job) {
    return <Alert color="red" role="alert" title={label}>The job's progress cannot be read: {q.error instanceof Error ? q.error.message : String(q.error)}</Alert>;
  }
  const total = job?.total ?? null;
  const processed = job?.processed ?? 0;
  const percent = total ? Math.min(100, Math.round((processed / total) * 100)) : job?.state === 'done' ? 100 : 0;
  const status = !job ? 'Starting…'
    : job.state === 'scheduled' ? 'Waiting to start…'
      : job.state === 'running' ? (total ? `${fmt(processed)} of ${fmt(total)} done` : `${fmt(processed)} done`)
        : job.state === 'done' ? (job.message ?? 'Finished.') : (job.message ?? 'The job failed.');
  const color = job?.state === 'failed' ? 'red' : job?.state === 'done' ? 'teal' : undefined;
  return (
    <Stack gap={6} role="status" aria-live="polite">
      <Group justify="space-between" gap="xs">
        <Text size="sm" fw={500}>{label}</Text>
        <Text size="sm" c={job?.state === 'failed' ? 'red' : 'dimmed'}>{status}</Text>
      </Group>
      <Progress.Root size="md">
        <Progress.Section value={percent} color={color} animated={!job || job.state === 'running' || job.state === 'scheduled'}
          aria-label={`${label}: ${percent}%`} />
      </Progress.Root>
    </Stack>
  );
}
