import { defineConfig } from "vite";

// React without @vitejs/plugin-react: esbuild compiles JSX itself (no fast refresh in
// `npm run dev`, which is the only thing the plugin would add here).
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsDir: "assets",
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npm run dev` against a `keel serve` on the default port.
    proxy: { "/api": "http://127.0.0.1:7420", "/health": "http://127.0.0.1:7420" },
  },
});
