import { Title } from '@mantine/core';

/** Exports: being built. */
export default function ExportsPage() {
  return <Title order={1}>Exports</Title>;
}
