/**
 * Every CLI command loads src/cli/main.ts's static import graph. The worker, the cloud SDKs, ssh2
 * and the server's stack load only in the commands that use them (dynamic import), so `ps`,
 * `status` and `logs` start in about a second instead of three.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { it } from 'node:test';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Packages a plain client command must not load at start. */
const HEAVY = ['@temporalio/worker', '@aws-sdk/client-ec2', '@google-cloud/compute', 'google-auth-library', 'ssh2', 'fastify', '@electric-sql/pglite', 'pg', '@inquirer/prompts', 'tar-stream', 'prom-client'];

/** Static, value (not type-only) imports and re-exports of a source file. */
function staticImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly && ts.isStringLiteral(st.moduleSpecifier)) {
      const named = st.importClause?.namedBindings;
      const allTypes = !st.importClause?.name && named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      if (!allTypes) out.push(st.moduleSpecifier.text);
    }
    if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) out.push(st.moduleSpecifier.text);
  }
  return out;
}

/** The packages reachable from `entry` by static imports, each with the chain of files that leads there. */
function reachablePackages(entry: string): Map<string, string[]> {
  const via = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  const packages = new Map<string, string[]>();
  const chain = (f: string) => {
    const c: string[] = [];
    for (let x: string | undefined = f; x; x = via.get(x)) c.unshift(x.slice(ROOT.length + 1));
    return c;
  };
  while (queue.length) {
    const file = queue.shift()!;
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) {
        const source = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(source) && !via.has(source)) {
          via.set(source, file);
          queue.push(source);
        }
      } else if (!spec.startsWith('node:')) {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(pkg)) packages.set(pkg, chain(file));
      }
    }
  }
  return packages;
}

it('the CLI loads no worker, cloud SDK, ssh2 or server package before a command needs it', () => {
  const packages = reachablePackages(join(ROOT, 'src', 'cli', 'main.ts'));
  assert.ok(packages.has('@temporalio/client') && packages.has('commander'), 'the walk sees the CLI’s own imports');
  const eager = HEAVY.filter((p) => packages.has(p)).map((p) => `${p} <- ${packages.get(p)!.join(' > ')}`);
  assert.deepEqual(eager, [], `import these lazily (await import(...) where used):\n${eager.join('\n')}`);
});

it('sees a heavy package imported statically (the walk can fail)', () => {
  const packages = reachablePackages(join(ROOT, 'src', 'worker', 'bootstrap.ts'));
  assert.ok(packages.has('@temporalio/worker'));
});
