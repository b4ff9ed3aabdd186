import { Alert, Stack, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** The page a user sees at a URL they may not use: the page's name, and why not, in words. */
export function NoPermission({ page }: { page: string }) {
  return (
    <Stack>
      <Title order={1}>{page}</Title>
      <Alert color="yellow" title="No permission" role="alert">
        You do not have permission to view this page. Ask an administrator if you need access.
      </Alert>
    </Stack>
  );
}

/** Renders the page when allowed, the no-permission page otherwise. */
export function Allowed({ allowed, page, children }: { allowed: boolean; page: string; children: ReactNode }) {
  return allowed ? <>{children}</> : <NoPermission page={page} />;
}
