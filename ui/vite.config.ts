import { defineConfig } from "vite";

// React without @vitejs/plugin-react: esbuild compiles JSX itself (no fast refresh in
// `npm run dev`, which is the only thing the plugin would add here).
// rollup is pinned (package.json "overrides") to a release whose platform packages are all
// on the registry, so that the lockfile lists them and `npm ci` works on any machine.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsDir: "assets",
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      // React Server Components' "use client" markers mean nothing in a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  server: {
    // `npm run dev` against a `keel serve` on the default port.
    proxy: { "/api": "http://127.0.0.1:7420", "/health": "http://127.0.0.1:7420" },
  },
});
