import { Title } from '@mantine/core';

/** Record: being built. */
export default function RecordPage() {
  return <Title order={1}>Record</Title>;
}
