// Builds the page at the versions LiveKit's agent starter pins (the default mode, from this
// package's node_modules) or at the newest ones (`--mode latest`, from latest/node_modules).
// React itself always comes from this package, so the page and the hooks share one copy.
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const latest = (name: string) => fileURLToPath(new URL(`./latest/node_modules/${name}`, import.meta.url));

export default defineConfig(({ mode }) => ({
  base: './',
  esbuild: { jsx: 'automatic' },
  resolve: {
    dedupe: ['react', 'react-dom'],
    alias:
      mode === 'latest'
        ? [
            { find: /^@livekit\/components-react$/, replacement: latest('@livekit/components-react') },
            { find: /^livekit-client$/, replacement: latest('livekit-client') },
          ]
        : [],
  },
  define: { __HOOKS_BUILD__: JSON.stringify(mode === 'latest' ? 'latest' : 'pinned') },
  build: { target: 'es2022', sourcemap: true, emptyOutDir: true, chunkSizeWarningLimit: 2000 },
}));
