import { StrictMode } from 'react';
import { lazyPage } from './lib/lazy-page.tsx';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router';
import { MantineProvider, createTheme, defaultVariantColorsResolver, Stack, Title, Text, Anchor } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import '@mantine/core/styles.css';
import './styles.css';
import { SessionGate, useSession } from './session.tsx';
import { Layout } from './components/Layout.tsx';
import { Allowed } from './components/NoPermission.tsx';
import { ApiError } from './api/client.ts';
import { prefetchAuditLog } from './pages/AuditLog/prefetch.ts';
import { getSession } from './api/session.ts';
import { takeAuditLog, takeSession } from './boot.ts';

// Each page is its own chunk, loaded when first visited, or at once when the address names it.
const AuditLogPage = lazyPage(() => import('./pages/AuditLog/AuditLogPage.tsx'));
const RecordPage = lazyPage(() => import('./pages/Record/RecordPage.tsx'));
const RecycleBinPage = lazyPage(() => import('./pages/RecycleBin/RecycleBinPage.tsx'));
const ExportsPage = lazyPage(() => import('./pages/Exports/ExportsPage.tsx'));
const UsersPage = lazyPage(() => import('./pages/Users/UsersPage.tsx'));
const SettingsPage = lazyPage(() => import('./pages/Settings/SettingsPage.tsx'));
const StreamsPage = lazyPage(() => import('./pages/Streams/StreamsPage.tsx'));
const FindingsPage = lazyPage(() => import('./pages/Findings/FindingsPage.tsx'));
const AlertsPage = lazyPage(() => import('./pages/Alerts/AlertsPage.tsx'));
const ReportsPage = lazyPage(() => import('./pages/Reports/ReportsPage.tsx'));
const PAGE_OF_PATH: [RegExp, { preload(): unknown }][] = [[/^\/audit-log\/?$/, AuditLogPage], [/^\/crm\/tab\//, RecordPage],
  [/^\/recycle-bin\/?$/, RecycleBinPage], [/^\/exports\/?$/, ExportsPage], [/^\/users\/?$/, UsersPage], [/^\/settings\/?$/, SettingsPage],
  [/^\/reports\/?$/, ReportsPage], [/^\/findings\/?$/, FindingsPage], [/^\/alerts\/?$/, AlertsPage],
  [/^\/streams\/?$/, StreamsPage]];
PAGE_OF_PATH.find(([re]) => re.test(window.location.pathname))?.[1].preload();

// WCAG AA asks 4.5:1 for text. Mantine's defaults fall short: filled buttons in shade 6 or 7 under
// white text, light and outline variants' text on their tints, links in shade 6, "dimmed" #868e96.
// Shade 9 fills, darker text on tints, darker links and dimmed text pass (axe checks every page).
const DARK_ON_TINT: Record<string, string> = { orange: 'var(--mantine-color-dark-7)', yellow: 'var(--mantine-color-dark-7)' };
const theme = createTheme({
  primaryColor: 'indigo', primaryShade: 9, defaultRadius: 'sm',
  components: {
    // Mantine keeps every select's option list mounted (hidden) from the start: the audit log's
    // three filters rendered 70-odd options and positioned three hidden dropdowns before its
    // first rows could show (bench:console). A list is rendered when it opens instead. (A plain
    // object: Combobox.extend would pull the combobox into the first chunk.)
    Combobox: { defaultProps: { keepMounted: false } },
  },
  variantColorResolver: (input) => {
    const base = defaultVariantColorsResolver(input);
    // A shade ("red.8") names its colour before the dot: "red.8-9" is no variable, and the text fell back to white.
    const raw = input.color ?? input.theme.primaryColor;
    const color = /^[a-z]+\.\d$/.test(raw) ? raw.slice(0, raw.indexOf('.')) : raw;
    if (input.variant === 'light') {
      return { ...base, color: DARK_ON_TINT[color] ?? `var(--mantine-color-${color}-9)`,
        background: color === 'orange' ? 'var(--mantine-color-orange-0)' : base.background };
    }
    if (input.variant === 'outline' || input.variant === 'subtle') return { ...base, color: `var(--mantine-color-${color}-9)`, border: `1px solid var(--mantine-color-${color}-9)` };
    return base;
  },
});
const cssVariablesResolver = () => ({ variables: {}, light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
  '--mantine-color-anchor': 'var(--mantine-color-indigo-9)' }, dark: {} });
const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A permission or not-found answer will not change by asking again.
      retry: (count, err) => count < 2 && !(err instanceof ApiError && err.status >= 400 && err.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});

function Guarded({ page, name, children }: { page: 'audit_log' | 'reports' | 'recycle_bin' | 'exports' | 'users' | 'settings' | 'findings' | 'alerts'
  | 'streams'; name: string; children: React.ReactNode }) {
  const session = useSession();
  return <Allowed allowed={session.pages[page]} page={name}>{children}</Allowed>;
}

function Home() {
  const session = useSession();
  const first = (['audit_log', 'recycle_bin', 'exports'] as const).find((p) => session.pages[p]);
  return <Navigate to={first ? `/${first.replace('_', '-')}` : '/recycle-bin'} replace />;
}

function NotFound() {
  return (
    <Stack>
      <Title order={1}>Page not found</Title>
      <Text>There is no page at this address. <Anchor href="/audit-log">Go to the audit log</Anchor>.</Text>
    </Stack>
  );
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Home /> },
      { path: '/audit-log', element: <Guarded page="audit_log" name="Audit Log"><AuditLogPage /></Guarded> },
      { path: '/crm/tab/:module/:recordId', element: <RecordPage /> },
      { path: '/reports', element: <Guarded page="reports" name="Reports"><ReportsPage /></Guarded> },
      { path: '/recycle-bin', element: <Guarded page="recycle_bin" name="Recycle Bin"><RecycleBinPage /></Guarded> },
      { path: '/exports', element: <Guarded page="exports" name="Exports"><ExportsPage /></Guarded> },
      { path: '/users', element: <Guarded page="users" name="Users"><UsersPage /></Guarded> },
      { path: '/findings', element: <Guarded page="findings" name="Findings"><FindingsPage /></Guarded> },
      { path: '/settings', element: <Guarded page="settings" name="Settings"><SettingsPage /></Guarded> },
      { path: '/alerts', element: <Guarded page="alerts" name="Alerts"><AlertsPage /></Guarded> },
      { path: '/streams', element: <Guarded page="streams" name="Streams"><StreamsPage /></Guarded> },
      { path: '*', element: <NotFound /> },
    ],
  },
]);

// Who is signed in (and the audit log's first page), asked by boot.ts before this module ran.
const sentSession = takeSession();
void queryClient.prefetchQuery({ queryKey: ['session'], queryFn: () => sentSession ?? getSession(), retry: false, staleTime: 60_000 });
prefetchAuditLog(queryClient, takeAuditLog());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light" cssVariablesResolver={cssVariablesResolver}>
      <QueryClientProvider client={queryClient}>
        <SessionGate>
          <RouterProvider router={router} />
        </SessionGate>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
