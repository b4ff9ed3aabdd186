import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

// The console is built into web/dist and served by the API server at `/` (src/http/console-static.ts).
export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npx vite web` during development: the API is the running `auditrail serve`.
    proxy: { '/crm': 'http://127.0.0.1:4000', '/api': 'http://127.0.0.1:4000' },
  },
});
