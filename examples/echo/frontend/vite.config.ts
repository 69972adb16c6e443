import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs in dist/index.html, so the build works wherever the Go server mounts it.
  base: './',
  server: { port: 5173, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true },
});
