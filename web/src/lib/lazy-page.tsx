import { lazy, type ComponentType } from 'react';

/**
 * A page loaded as its own chunk, like React.lazy, that can be fetched ahead (`preload`). Once its
 * module is there the page renders directly: React.lazy would suspend once more even then, and a
 * suspended route shows its fallback for at least React's 300 ms reveal throttle (bench:console
 * measured the first rows of the audit log 300 ms late for it).
 */
export function lazyPage<P extends object>(load: () => Promise<{ default: ComponentType<P> }>) {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<{ default: ComponentType<P> }> | null = null;
  const preload = () => (pending ??= load().then((m) => { loaded = m.default; return m; }));
  const Lazy = lazy(preload);
  function Page(props: P) {
    const Loaded = loaded;
    return Loaded ? <Loaded {...props} /> : <Lazy {...props} />;
  }
  return Object.assign(Page, { preload });
}
