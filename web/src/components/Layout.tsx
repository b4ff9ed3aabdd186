import { Suspense } from 'react';
import { AppShell, Badge, Burger, Group, NavLink, Text, Button, Box } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, Outlet, useLocation } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { listNotifications } from '../api/alerts.ts';
import { useSession } from '../session.tsx';
import { signOut } from '../api/session.ts';
import { LoadingState } from './States.tsx';
import { zoneLabel } from '../lib/time.ts';
import type { Session } from '../api/session.ts';

/** The pages, in menu order, and whether this session may use each (the server's answer). */
export function pagesFor(session: Session) {
  return [
    { to: '/audit-log', label: 'Audit Log', allowed: session.pages.audit_log },
    { to: '/reports', label: 'Reports', allowed: session.pages.reports },
    { to: '/recycle-bin', label: 'Recycle Bin', allowed: session.pages.recycle_bin },
    { to: '/exports', label: 'Exports', allowed: session.pages.exports },
    { to: '/findings', label: 'Findings', allowed: session.pages.findings },
    { to: '/alerts', label: 'Alerts', allowed: session.pages.alerts },
    { to: '/streams', label: 'Streams', allowed: session.pages.streams },
    { to: '/users', label: 'Users', allowed: session.pages.users },
    { to: '/settings', label: 'Settings', allowed: session.pages.settings },
  ];
}

/** The frame of every page: a header, the navigation landmark and the page. */
export function Layout() {
  const session = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const client = useQueryClient();
  const pages = pagesFor(session).filter((p) => p.allowed);
  // The unread alert notifications, beside the Alerts entry (the Alerts page lists them).
  const notes = useQuery({ queryKey: ['alerts', 'notifications'], queryFn: listNotifications, enabled: session.pages.alerts,
    refetchInterval: 30_000 });
  const unread = notes.data?.unread ?? 0;
  return (
    <>
    <a className="skip-link" href="#main">Skip to content</a>
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close menu' : 'Open menu'} />
            <Text fw={700} component={Link} to="/audit-log" c="inherit" td="none">auditrail</Text>
            <Text size="sm" c="dimmed" visibleFrom="sm">{session.org.name}</Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" visibleFrom="sm" title={session.user.email}>{session.user.name}</Text>
            <Button size="xs" variant="default" onClick={async () => {
              try { await signOut(); } finally { client.clear(); window.location.assign('/'); }
            }}>Sign out</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {pages.map((p) => (
          <NavLink key={p.to} component={Link} to={p.to} label={p.label} onClick={close}
            rightSection={p.to === '/alerts' && unread > 0 ? <Badge size="sm" color="red" aria-label={`${unread} unread notifications`}>{unread}</Badge> : undefined}
            active={location.pathname.startsWith(p.to)} aria-current={location.pathname.startsWith(p.to) ? 'page' : undefined} />
        ))}
        <Box mt="auto" p="xs">
          <Text size="xs" c="dimmed">Times in {zoneLabel(session.org.time_zone)}</Text>
        </Box>
      </AppShell.Navbar>
      <AppShell.Main id="main">
        <Suspense fallback={<LoadingState />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
    </>
  );
}
