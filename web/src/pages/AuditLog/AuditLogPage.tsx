import { Title } from '@mantine/core';

/** Audit Log: being built. */
export default function AuditLogPage() {
  return <Title order={1}>Audit Log</Title>;
}
