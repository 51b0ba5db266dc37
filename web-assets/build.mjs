// Builds the admin console into dist/:
//
//   dist/index.html                 references the hashed files below
//   dist/favicon.svg
//   dist/assets/app-<HASH>.js       Preact + htm + the app, minified ES module
//   dist/assets/app-<HASH>.css      all styles
//   dist/THIRD-PARTY-NOTICES.txt    licenses of the npm packages in the bundle
//   dist/manual/admin-manual.{zh,en}.html, manual.css   管理员手册 (stable names)
//
// Names under assets/ change whenever their content does, so the server may cache
// them forever (immutable); index.html and favicon.svg must be revalidated.
//
// The build also enforces what the served Content-Security-Policy needs: no inline
// <script>/<style>/style="" in index.html, no eval / new Function in the bundle, and
// the same message keys in every language.
//
// Usage: node build.mjs   (npm run build)

import { build } from 'esbuild';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zc, gzipSync } from 'node:zlib';

const root = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
// Built aside, then swapped in, so that a concurrent `cargo build` (build.rs embeds
// dist/) never sees a half-written tree.
const staging = path.join(root, '.dist-staging');
const retired = path.join(root, '.dist-retired');

function fail(msg) {
  console.error(`build: ${msg}`);
  process.exit(1);
}

// 1. Every language has every key.
const { messages } = await import('./src/messages.js');
const langs = Object.keys(messages);
const reference = new Set(Object.keys(messages.zh));
for (const lang of langs) {
  const keys = new Set(Object.keys(messages[lang]));
  const missing = [...reference].filter((k) => !keys.has(k));
  const extra = [...keys].filter((k) => !reference.has(k));
  if (missing.length || extra.length) {
    fail(`messages.${lang}: missing [${missing.join(', ')}] extra [${extra.join(', ')}]`);
  }
  for (const [k, v] of Object.entries(messages[lang])) {
    if (typeof v !== 'string' || v === '') fail(`messages.${lang}['${k}'] is empty`);
  }
}

// 2. Bundle.
await rm(staging, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15', 'edge100'],
  outdir: '.dist-staging',
  entryNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  chunkNames: 'assets/[name]-[hash]',
  charset: 'utf8',
  legalComments: 'none',
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
if (result.errors.length) fail('esbuild failed');

let jsFile = null;
let cssFile = null;
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint === 'src/main.js' && out.endsWith('.js')) {
    jsFile = out;
    cssFile = meta.cssBundle || null;
  }
}
if (!jsFile || !cssFile) fail('could not find the JS and CSS outputs in the metafile');
const toUrl = (out) => '/' + path.relative('.dist-staging', out).split(path.sep).join('/');

// 3. No eval in the bundle (CSP script-src 'self' without 'unsafe-eval').
const js = await readFile(path.join(root, jsFile), 'utf8');
if (/\beval\s*\(|\bnew\s+Function\s*\(/.test(js)) fail(`${jsFile} uses eval or new Function`);

// 4. index.html with the hashed names; no inline script or style.
let index = await readFile(path.join(src, 'index.html'), 'utf8');
index = index.replace('%APP_JS%', toUrl(jsFile)).replace('%APP_CSS%', toUrl(cssFile));
if (/%APP_[A-Z]+%/.test(index)) fail('index.html has an unreplaced placeholder');
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(index)) fail('index.html has an inline <script>');
if (/<style\b/i.test(index) || /\sstyle\s*=/i.test(index)) fail('index.html has inline styles');
if (/\son[a-z]+\s*=/i.test(index)) fail('index.html has an inline event handler');
await writeFile(path.join(staging, 'index.html'), index);

// 5. Favicon.
await copyFile(path.join(src, 'favicon.svg'), path.join(staging, 'favicon.svg'));

// 5b. The administrator manual (manual §11): static HTML documents at stable, unhashed
// paths (served with no-cache + ETag), self-contained for download and printing: no
// scripts, no inline styles, only the linked manual.css copied beside them.
const MANUAL_FILES = ['admin-manual.zh.html', 'admin-manual.en.html', 'manual.css'];
await mkdir(path.join(staging, 'manual'), { recursive: true });
for (const f of MANUAL_FILES) {
  const text = await readFile(path.join(src, 'manual', f), 'utf8');
  if (f.endsWith('.html')) {
    if (/<script\b/i.test(text)) fail(`manual/${f} has a <script>`);
    if (/<style\b/i.test(text) || /\sstyle\s*=/i.test(text)) fail(`manual/${f} has inline styles`);
    if (/\son[a-z]+\s*=/i.test(text)) fail(`manual/${f} has an inline event handler`);
    for (const m of text.matchAll(/<link\b[^>]*href="([^"]+)"/gi)) {
      if (m[1] !== 'manual.css') fail(`manual/${f} links ${m[1]} (only manual.css is shipped)`);
    }
  }
  await writeFile(path.join(staging, 'manual', f), text);
}

// 6. Licenses of the npm packages that ended up in the bundle.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}
let notices = 'Third-party software included in the CooCenter admin console\n';
for (const name of [...packages].sort()) {
  const dir = path.join(root, 'node_modules', name);
  const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  let text = '';
  for (const f of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license']) {
    try {
      text = await readFile(path.join(dir, f), 'utf8');
      break;
    } catch {
      // try the next name
    }
  }
  if (!text) fail(`no license file found for ${name}`);
  notices += `\n${'='.repeat(72)}\n${pkg.name} ${pkg.version} (${pkg.license})\n${'='.repeat(72)}\n\n${text.trim()}\n`;
}
await writeFile(path.join(staging, 'THIRD-PARTY-NOTICES.txt'), notices);

// 7. Swap the new tree in.
await rm(retired, { recursive: true, force: true });
await rename(dist, retired).catch((err) => {
  if (err.code !== 'ENOENT') throw err;
});
await rename(staging, dist);
await rm(retired, { recursive: true, force: true });

// 8. Report sizes.
const files = [
  'index.html',
  'favicon.svg',
  toUrl(jsFile).slice(1),
  toUrl(cssFile).slice(1),
  'THIRD-PARTY-NOTICES.txt',
  ...MANUAL_FILES.map((f) => `manual/${f}`),
];
console.log('dist/');
let total = [0, 0, 0];
for (const f of files) {
  const buf = await readFile(path.join(dist, f));
  const gz = gzipSync(buf, { level: 9 }).length;
  const br = brotliCompressSync(buf, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length;
  total = [total[0] + buf.length, total[1] + gz, total[2] + br];
  console.log(`  ${f.padEnd(34)} ${String(buf.length).padStart(7)} B   gzip ${String(gz).padStart(6)} B   br ${String(br).padStart(6)} B`);
}
console.log(`  ${'total'.padEnd(34)} ${String(total[0]).padStart(7)} B   gzip ${String(total[1]).padStart(6)} B   br ${String(total[2]).padStart(6)} B`);
