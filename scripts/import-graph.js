/* global console, process */
// Counts what layers.config.js forbids, for the record (issue 19): imports that point up the
// layer order (a folder importing one listed after it) and import cycles, between folders and
// between files (value and type imports alike; dynamic import() included). Usage:
//   node scripts/import-graph.js [src-dir] [--list]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { LAYER_ORDER } from '../layers.config.js';

const root = resolve(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'src');
const list = process.argv.includes('--list');
const files = [];
(function walk(d) {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) files.push(p);
  }
})(root);

const edges = new Map();
for (const f of files) {
  const out = new Set();
  for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g))
    out.add(resolve(dirname(f), m[1]).replace(/\.js$/, '.ts'));
  edges.set(f, out);
}
const folderOf = (f) => relative(root, f).split('/')[0];
const rank = (folder) => LAYER_ORDER.indexOf(folder);

const upward = [];
const unlisted = new Set();
const folderEdges = new Map();
for (const [f, outs] of edges)
  for (const t of outs) {
    const a = folderOf(f);
    const b = folderOf(t);
    if (a === b || !edges.has(t)) continue;
    if (!folderEdges.has(a)) folderEdges.set(a, new Set());
    folderEdges.get(a).add(b);
    for (const x of [a, b]) if (rank(x) < 0 && x.endsWith('.ts') === false) unlisted.add(x);
    if (rank(a) >= 0 && rank(b) >= 0 && rank(b) > rank(a))
      upward.push(`${relative(root, f)} -> ${relative(root, t)}`);
  }

/** Strongly connected components with more than one node (Tarjan). */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const found = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w) && !idx.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) found.push(c);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const fileCycles = cycles(edges);
const folderCycles = cycles(folderEdges);
console.log(`files: ${files.length} (tests excluded)`);
console.log(`upward imports (against layers.config.js): ${upward.length}`);
if (list) for (const u of upward) console.log(`  ${u}`);
console.log(`folder cycles: ${folderCycles.length}`);
for (const c of folderCycles) console.log(`  ${c.join(' <-> ')}`);
console.log(`file cycles: ${fileCycles.length}`);
for (const c of fileCycles) console.log(`  ${c.map((f) => relative(root, f)).join(' <-> ')}`);
if (unlisted.size > 0)
  console.log(`folders not in layers.config.js (unchecked): ${[...unlisted].join(', ')}`);
