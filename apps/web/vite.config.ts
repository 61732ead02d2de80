import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development Vite serves the consoles and proxies the API; in `npm start` and production the
// API serves the built files from dist/ at `/`.
export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: { '/v1': 'http://localhost:3000', '/healthz': 'http://localhost:3000' },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
