import { resolve } from 'node:path';

import { defineConfig } from 'vite';

const api = process.env.SESSION_SYNC_API ?? 'http://127.0.0.1:8787';

export default defineConfig({
  resolve: {
    // The page uses the client from its sources, so a change there shows at once.
    alias: {
      '@session-sync/client/testing': resolve(__dirname, '../ts/src/testing/index.ts'),
      '@session-sync/client': resolve(__dirname, '../ts/src/index.ts'),
    },
    dedupe: ['livekit-client'],
  },
  server: {
    host: '127.0.0.1',
    // The token endpoint (server.py) holds the API secret; the dev server only forwards to it.
    proxy: { '/api': api },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      input: {
        index: resolve(__dirname, 'index.html'),
        monitor: resolve(__dirname, 'monitor.html'),
      },
    },
  },
});
