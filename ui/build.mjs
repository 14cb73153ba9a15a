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

// The host script of canvas apps, served by the agent next to the player
// and added to each canvas app's index.html: a classic script (the app's
// own scripts may be classic too), its CSS inlined.
await esbuild.build({
  entryPoints: ["canvas/host.tsx"],
  outfile: "dist/player/canvas-host.js",
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "text" },
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});
