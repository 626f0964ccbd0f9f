/**
 * The dashboard in real headless Chromium (Debian's chromium via playwright-core) against a real
 * server, Temporal and worker: logs in, sees a workload appear and its cost rise, stops it, sees a
 * budget alert; a viewer gets no stop button. Screenshots go to docs/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardDir } from '../../../src/server/http/dashboard.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { startServerFixture, type ServerFixture } from '../../helpers/serverFixture.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const JOB = { command: "trap 'exit 0' TERM; sleep 300 & wait", gpu: { classes: ['L4'] } };

let env: TestEnv;
let fx: ServerFixture;
let browser: Browser;
const launched: string[] = [];

before(async () => {
  if (!dashboardDir()) execFileSync('npm', ['run', 'build:dashboard'], { cwd: ROOT, stdio: 'inherit' });
  assert.ok(existsSync(CHROMIUM), `headless Chromium at ${CHROMIUM} (apt-get install chromium)`);
  env = await startTestEnv();
  await env.startWorker();
  fx = await startServerFixture(env, 'pglite:memory', { livePollMs: 500 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
});
after(async () => {
  for (const id of launched) await env.client.handle(id).stop('test cleanup').catch(() => undefined);
  await browser?.close();
  await fx?.close();
  await env?.teardown();
});

async function loggedIn(user: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1300, height: 1000 } })).newPage();
  await page.goto(fx.server.url);
  await page.getByTestId('token').fill(fx.tokens[user]!);
  await page.getByTestId('login').click();
  await page.getByTestId('who').filter({ hasText: user }).waitFor();
  return page;
}

const dollars = (t: string | null) => Number((t ?? '').replace(/[^0-9.]/g, ''));

test('tenant admin: a workload appears, its cost rises, Stop stops it; a budget alert shows', async () => {
  const page = await loggedIn('tara');
  const r = await fx.as.ana!('POST', '/v1/workloads', { name: 'dash', project: 'ml', ...JOB });
  assert.equal(r.status, 201);
  const id = r.body.workloadId as string;
  launched.push(id);
  const row = page.locator(`tr[data-workload="${id}"]`);
  await row.waitFor({ timeout: 60_000 });
  await row.locator('td.state', { hasText: 'running' }).waitFor({ timeout: 90_000 });
  const first = dollars(await row.getByTestId('cost').textContent());
  await waitFor('the cost to rise in the page', async () => dollars(await row.getByTestId('cost').textContent()) > first, 30_000);
  assert.match((await page.getByTestId('rate').textContent()) ?? '', /\$0\.80\/h/);
  await page.screenshot({ path: join(ROOT, 'docs', 'dashboard-spend.png'), fullPage: true });

  await row.locator('button.stop').click();
  await waitFor('the workload to stop', async () => {
    const s = await fx.as.ana!('GET', `/v1/workloads/${id}`);
    return ['stopping', 'terminating', 'terminated'].includes(s.body.state);
  });
  await row.waitFor({ state: 'detached', timeout: 60_000 });

  // A tiny daily budget on vision and a short job there: its committed cost passes the 10% alert.
  const b = await fx.as.tara!('PUT', '/v1/budgets/project/vision', { cap: '0.01', period: 'day', alerts: [10] });
  assert.equal(b.status, 200, JSON.stringify(b.body));
  const short = await fx.as.tara!('POST', '/v1/workloads', { name: 'alert', project: 'vision', command: 'sleep 60', gpu: { classes: ['L4'] }, budget: { estimate: '20s' } });
  assert.equal(short.status, 201, JSON.stringify(short.body));
  launched.push(short.body.workloadId);
  await page.getByTestId('alert').filter({ hasText: 'project:vision' }).first().waitFor({ timeout: 150_000 });
  await page.screenshot({ path: join(ROOT, 'docs', 'dashboard-budget-alert.png'), fullPage: true });
});

test('workload page: offer and why, attempts, logs and the Temporal link; viewers get no stop button', async () => {
  const r = await fx.as.ana!('POST', '/v1/workloads', { name: 'viewed', project: 'ml', ...JOB });
  const id = r.body.workloadId as string;
  launched.push(id);
  const page = await loggedIn('val');
  const row = page.locator(`tr[data-workload="${id}"]`);
  await row.locator('td.state', { hasText: 'running' }).waitFor({ timeout: 90_000 });
  assert.equal(await row.locator('button.stop').count(), 0, 'no stop button for a viewer');
  await row.locator('a').click();
  await page.getByTestId('why').waitFor();
  assert.equal(await page.getByTestId('stop').count(), 0);
  assert.match((await page.getByTestId('temporal-link').getAttribute('href')) ?? '', new RegExp(`/workflows/${id}$`));
  await page.locator('#logs').filter({ hasNotText: 'loading' }).waitFor();
  await page.screenshot({ path: join(ROOT, 'docs', 'dashboard-workload.png'), fullPage: true });
  await page.goto(`${fx.server.url}/#/offers`);
  await page.getByTestId('search-offers').click();
  await page.locator('#offer-rows tr').first().waitFor();
  assert.ok((await page.locator('#offer-rows tr').count()) >= 1);
  await page.screenshot({ path: join(ROOT, 'docs', 'dashboard-offers.png'), fullPage: true });
});
