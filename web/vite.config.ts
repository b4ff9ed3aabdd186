import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * src/boot.ts is an entry of its own, and index.html loads it first (async): it sends the first
 * requests while the main chunk is still being compiled. The main chunk imports it, so it runs
 * once. In development (`npx vite web`) main.tsx's import alone loads it.
 */
function bootFirst(): Plugin {
  return {
    name: 'auditrail-boot-first',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const boot = Object.values(ctx.bundle ?? {}).find((c) => c.type === 'chunk' && c.isEntry && c.name === 'boot');
        if (!boot) throw new Error('the build has no boot chunk (web/src/boot.ts)');
        return [{ tag: 'script', attrs: { type: 'module', async: true, crossorigin: true, src: `/${boot.fileName}` }, injectTo: 'head-prepend' }];
      },
    },
  };
}

// The console is built into web/dist and served by the API server at `/` (src/http/console-static.ts).
export default defineConfig(({ command }) => ({
  root,
  plugins: [react(), bootFirst()],
  // A build is production's whatever NODE_ENV the building process has: built from the test
  // runner (NODE_ENV=test), web/dist held React's development build, three times slower to show
  // the audit log (bench:console).
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify('production') } : {},
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      input: { index: `${root}index.html`, boot: `${root}src/boot.ts` },
      // The boot chunk keeps its exports (main.tsx takes the requests it sent).
      preserveEntrySignatures: 'allow-extension',
    },
  },
  server: {
    // `npx vite web` during development: the API is the running `auditrail serve`.
    proxy: { '/crm': 'http://127.0.0.1:4000', '/api': 'http://127.0.0.1:4000' },
  },
}));
