import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs in dist/index.html, so the build works wherever the Go server mounts it.
  base: './',
  // `npm run dev` serves the page on :5173 and hands Socket.IO to the Go server (go run . on :3000).
  server: {
    port: 5173,
    strictPort: true,
    proxy: { '/socket.io': { target: 'http://localhost:3000', ws: true } },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
