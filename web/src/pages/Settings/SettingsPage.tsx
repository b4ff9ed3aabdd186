import { Title } from '@mantine/core';

/** Settings: being built. */
export default function SettingsPage() {
  return <Title order={1}>Settings</Title>;
}
