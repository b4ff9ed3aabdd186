import { Title } from '@mantine/core';

/** Users: being built. */
export default function UsersPage() {
  return <Title order={1}>Users</Title>;
}
