// Builds each front end into dist/<app>/: index.html, app.js, app.css.
// The output is deterministic (no hashes, timestamps or source maps), so
// CI can rebuild and compare it with the committed files.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

const apps = ["player", "portal"];

for (const app of apps) {
  const out = `dist/${app}`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: { app: `${app}/main.tsx` },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022"],
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    charset: "utf8",
    outdir: out,
    logLevel: "warning",
  });
  copyFileSync(`${app}/index.html`, `${out}/index.html`);
}
