import type { ReactNode } from 'react';
import { Alert, Button, Center, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { ApiError } from '../api/client.ts';

/** A designed loading state: a spinner with a name screen readers announce. */
export function LoadingState({ label = 'Loading' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm"><Loader size="sm" aria-hidden /><Text c="dimmed">{label}…</Text></Group>
    </Center>
  );
}

/** An error in words (ApiError's message), with a retry when one makes sense. */
export function ErrorState({ error, onRetry, title = 'Something went wrong' }: { error: unknown; onRetry?: () => void; title?: string }) {
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <Alert color="red" title={title} role="alert" my="md">
      <Stack gap="xs">
        <Text size="sm">{message}</Text>
        {onRetry && <Group><Button size="xs" variant="light" color="red" onClick={onRetry}>Try again</Button></Group>}
      </Stack>
    </Alert>
  );
}

/** What a page shows when there is nothing to show, and why. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Center py="xl">
      <Stack align="center" gap={4} maw={480}>
        <Title order={2} size="h4">{title}</Title>
        {children && <Text c="dimmed" ta="center" size="sm">{children}</Text>}
      </Stack>
    </Center>
  );
}
