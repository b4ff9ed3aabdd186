import { Title } from '@mantine/core';

/** Recycle Bin: being built. */
export default function RecycleBinPage() {
  return <Title order={1}>Recycle Bin</Title>;
}
