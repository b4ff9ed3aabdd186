import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Center, Loader } from '@mantine/core';
import { getSession, type Session } from './api/session.ts';
import { setCsrfToken, setSignedOutHandler } from './api/client.ts';
import { LoginPage } from './pages/Login/LoginPage.tsx';
import { ErrorState } from './components/States.tsx';

const SessionContext = createContext<Session | null>(null);

/** The signed-in session; only rendered inside SessionGate, so never null there. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionGate');
  return s;
}

/** Shows the sign-in page until there is a session, then the app with the session in context. */
export function SessionGate({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [signedOut, setSignedOut] = useState(false);
  const q = useQuery({ queryKey: ['session'], queryFn: getSession, retry: false, staleTime: 60_000 });
  const session = q.data ?? null;
  useEffect(() => {
    setCsrfToken(session?.csrf_token ?? null);
  }, [session]);
  useEffect(() => {
    setSignedOutHandler(() => {
      setSignedOut(true);
      client.clear();
    });
    return () => setSignedOutHandler(null);
  }, [client]);
  if (q.isPending) return <Center h="100vh"><Loader aria-label="Loading" /></Center>;
  const unauthenticated = signedOut || (q.isError && (q.error as { status?: number }).status === 401) || !session;
  if (q.isError && !unauthenticated) return <ErrorState error={q.error} onRetry={() => q.refetch()} />;
  if (unauthenticated) {
    return (
      <LoginPage
        onSignedIn={(s) => {
          setCsrfToken(s.csrf_token);
          client.setQueryData(['session'], s);
          setSignedOut(false);
        }}
      />
    );
  }
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
