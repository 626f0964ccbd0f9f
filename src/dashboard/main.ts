/**
 * The gpuflow dashboard: live spend over server-sent events, budgets and alerts, running workloads
 * with cost ticking, a workload page, the offers browser. Roles decide what is shown: a viewer gets
 * no stop button (and the server refuses anyway).
 */
import { Chart, registerables } from 'chart.js';
import { api, ApiError, moneyText, setToken, token, type LiveSnapshot } from './api.js';

Chart.register(...registerables);

const app = document.getElementById('app')!;
const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const usd = (s: string) => `$${s}`;
let events: EventSource | undefined;
let charts: { destroy(): void }[] = [];

function reset(): void {
  events?.close();
  events = undefined;
  for (const c of charts) c.destroy();
  charts = [];
}

function loginView(message = ''): void {
  reset();
  app.innerHTML = `<section><h2>Log in</h2><p>Paste an API token (from <code>gpuflow dev</code>, <code>POST /v1/tokens</code> or your admin).</p>
    <form id="login"><input id="token" data-testid="token" type="password" size="70" placeholder="gpf_…" autocomplete="off" />
    <button data-testid="login">Log in</button></form><p class="error" id="login-error">${esc(message)}</p></section>`;
  document.getElementById('login')!.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken((document.getElementById('token') as HTMLInputElement).value.trim());
    void route();
  });
}

async function whoami(): Promise<boolean> {
  try {
    const me = await api<{ user: { name: string; serverAdmin: boolean } }>('GET', '/v1/me');
    document.getElementById('who')!.textContent = `${me.user.name}${me.user.serverAdmin ? ' (admin)' : ''}`;
    document.getElementById('logout')!.hidden = false;
    return true;
  } catch (e) {
    setToken(null);
    loginView(e instanceof ApiError ? e.message : String(e));
    return false;
  }
}

function canStopIn(s: LiveSnapshot, project: string): boolean {
  if (s.roles === 'server-admin') return true;
  const r = s.roles[project];
  return r === 'member' || r === 'admin';
}

/** Today / this week / this month per scope, from the daily cost rows. */
function periodTotals(rows: { scope: string; start: string; cost: { amount: number; scale: number } }[]) {
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((now.getUTCDay() + 6) % 7))).toISOString().slice(0, 10);
  const month = today.slice(0, 7);
  const out = new Map<string, { today: number; week: number; month: number }>();
  for (const r of rows) {
    const v = r.cost.amount / 10 ** r.cost.scale;
    const e = out.get(r.scope) ?? { today: 0, week: 0, month: 0 };
    if (r.start === today) e.today += v;
    if (r.start >= monday) e.week += v;
    if (r.start.startsWith(month)) e.month += v;
    out.set(r.scope, e);
  }
  return out;
}

async function spendView(): Promise<void> {
  reset();
  app.innerHTML = `
    <div class="cards">
      <div class="card"><div>Burning now</div><div class="v" id="rate" data-testid="rate">—</div></div>
      <div class="card"><div>Running workloads, cost so far</div><div class="v" id="running-cost" data-testid="running-cost">—</div></div>
      <div class="card"><div>Billing workloads</div><div class="v" id="running-count">—</div></div>
    </div>
    <div id="alerts" data-testid="alerts"></div>
    <div class="grid">
      <section><h3>$/h burning</h3><canvas id="rate-chart" height="160"></canvas></section>
      <section><h3>Spend per project: today, this week, this month</h3><canvas id="period-chart" height="160"></canvas></section>
    </div>
    <section><h3>Running workloads</h3><table data-testid="workloads"><thead><tr><th>Workload</th><th>Project</th><th>State</th><th>Provider</th><th>Region</th><th>GPU</th><th>$/h</th><th>Cost so far</th><th></th></tr></thead><tbody id="wl-rows"></tbody></table></section>
    <div class="grid">
      <section><h3>Budgets</h3><table data-testid="budgets"><thead><tr><th>Budget</th><th>Cap</th><th>Committed</th><th>Reserved</th><th>Left</th><th>Used</th></tr></thead><tbody id="budget-rows"></tbody></table></section>
      <section><h3>By tenant and provider</h3><table><thead><tr><th>Group</th><th>$/h</th><th>Cost so far</th></tr></thead><tbody id="group-rows"></tbody></table></section>
    </div>`;
  const rateChart = new Chart<'line', number[], string>(document.getElementById('rate-chart') as HTMLCanvasElement, {
    type: 'line',
    data: { labels: [] as string[], datasets: [{ label: '$/h', data: [] as number[], tension: 0.2, fill: true }] },
    options: { animation: false, scales: { y: { beginAtZero: true } } },
  });
  const periodChart = new Chart<'bar', number[], string>(document.getElementById('period-chart') as HTMLCanvasElement, {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'today', data: [] }, { label: 'this week', data: [] }, { label: 'this month', data: [] }] },
    options: { animation: false, scales: { y: { beginAtZero: true } } },
  });
  charts = [rateChart, periodChart];

  const loadPeriods = async () => {
    const report = await api<{ rows: { scope: string; start: string; cost: { amount: number; scale: number } }[] }>('GET', '/v1/costs?by=day&since=31d').catch(() => ({ rows: [] }));
    const totals = periodTotals(report.rows);
    periodChart.data.labels = [...totals.keys()];
    periodChart.data.datasets[0]!.data = [...totals.values()].map((t) => t.today);
    periodChart.data.datasets[1]!.data = [...totals.values()].map((t) => t.week);
    periodChart.data.datasets[2]!.data = [...totals.values()].map((t) => t.month);
    periodChart.update();
  };
  void loadPeriods();
  const periodTimer = setInterval(() => void loadPeriods(), 30_000);

  const render = (s: LiveSnapshot) => {
    document.getElementById('rate')!.textContent = `${usd(s.ratePerHour)}/h`;
    document.getElementById('running-cost')!.textContent = usd(s.costSoFar);
    document.getElementById('running-count')!.textContent = String(s.workloads.filter((w) => w.ratePerHour !== '0').length);
    rateChart.data.labels!.push(new Date(s.at).toLocaleTimeString());
    rateChart.data.datasets[0]!.data.push(Number(s.ratePerHour));
    if (rateChart.data.labels!.length > 300) {
      rateChart.data.labels!.shift();
      rateChart.data.datasets[0]!.data.shift();
    }
    rateChart.update();
    document.getElementById('wl-rows')!.innerHTML = s.workloads
      .map(
        (w) => `<tr data-workload="${esc(w.workloadId)}"><td><a href="#/workload/${encodeURIComponent(w.workloadId)}">${esc(w.workloadId)}</a></td><td>${esc(w.project)}</td><td class="state">${esc(w.state)}</td><td>${esc(w.provider)}</td><td>${esc(w.region)}</td><td>${esc(w.gpu)}</td><td>${esc(w.ratePerHour)}</td><td class="cost" data-testid="cost">${usd(w.costNow)}</td><td>${canStopIn(s, w.project) ? `<button class="stop" data-id="${esc(w.workloadId)}">Stop</button>` : ''}</td></tr>`,
      )
      .join('');
    document.getElementById('budget-rows')!.innerHTML = s.budgets
      .map((b) => `<tr><td>${esc(b.key)}</td><td>${b.config ? `${moneyText(b.config.cap)}/${esc(b.config.period)}` : '—'}</td><td>${moneyText(b.committed)}</td><td>${moneyText(b.reserved)}</td><td>${moneyText(b.left)}</td><td>${b.usedPercent ?? '—'}%</td></tr>`)
      .join('');
    document.getElementById('alerts')!.innerHTML = s.alerts.map((a) => `<div class="alert" data-testid="alert">Budget ${esc(a.budget)} passed ${esc(a.threshold)}% (${esc(new Date(a.at).toLocaleString())})</div>`).join('');
    document.getElementById('group-rows')!.innerHTML = [
      ...s.byTenant.map((g) => ['tenant', g] as const),
      ...s.byProvider.map((g) => ['provider', g] as const),
    ]
      .map(([k, g]) => `<tr><td>${k} ${esc(g.name)}</td><td>${esc(g.ratePerHour)}</td><td>${usd(g.costSoFar)}</td></tr>`)
      .join('');
  };
  document.getElementById('wl-rows')!.addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest('button.stop') as HTMLButtonElement | null;
    if (!b) return;
    b.disabled = true;
    b.textContent = 'Stopping…';
    api('POST', `/v1/workloads/${encodeURIComponent(b.dataset.id!)}/stop`, { reason: 'stopped from the dashboard' }).catch((err: Error) => {
      b.textContent = err.message;
    });
  });
  events = new EventSource(`/v1/events?access_token=${encodeURIComponent(token() ?? '')}`);
  events.addEventListener('spend', (e) => render(JSON.parse((e as MessageEvent<string>).data) as LiveSnapshot));
  events.addEventListener('error', () => undefined);
  const es = events;
  const stopTimer = () => clearInterval(periodTimer);
  es.addEventListener('close', stopTimer);
  window.addEventListener('hashchange', stopTimer, { once: true });
}

interface Status {
  workloadId: string;
  name: string;
  project: string;
  tenant: string;
  state: string;
  outcome?: string;
  owner?: string;
  offer?: { provider: string; type: string; location: string; gpu: string; spot: boolean; pricePerHour: { amount: number; scale: number; currency: string }; why: string };
  attempts: { refId: string; connection: string; instanceTypeId: string; location: string; outcome: string; reason?: string; plannedAt?: string; createdAt?: string; runningAt?: string; jobStartedAt?: string; interruptedAt?: string }[];
  costSoFar: { amount: number; scale: number; currency: string };
  temporalUrl?: string;
  canStop: boolean;
  error?: string;
}

async function workloadView(id: string): Promise<void> {
  reset();
  const st = await api<Status>('GET', `/v1/workloads/${encodeURIComponent(id)}`);
  app.innerHTML = `<section><h2>${esc(st.workloadId)}</h2>
    <p>Project <b>${esc(st.project)}</b> (tenant ${esc(st.tenant)}), owner ${esc(st.owner ?? '—')}, state <b data-testid="wl-state">${esc(st.state)}</b>${st.outcome ? ` (${esc(st.outcome)})` : ''}, cost so far ${moneyText(st.costSoFar)}</p>
    ${st.temporalUrl ? `<p><a href="${esc(st.temporalUrl)}" target="_blank" rel="noopener" data-testid="temporal-link">Open in the Temporal Web UI</a></p>` : ''}
    ${st.canStop && st.state !== 'terminated' ? '<button id="stop" data-testid="stop">Stop</button>' : ''}
    <h3>Offer and why</h3>${st.offer ? `<p>${esc(st.offer.provider)} ${esc(st.offer.type)} in ${esc(st.offer.location)}, ${esc(st.offer.gpu)}${st.offer.spot ? ' (spot)' : ''}, ${moneyText(st.offer.pricePerHour)}/h</p><p data-testid="why">${esc(st.offer.why)}</p>` : '<p>not chosen yet</p>'}
    <h3>Attempts</h3><ol class="timeline">${st.attempts
      .map((a) => `<li>${esc(a.connection)} ${esc(a.instanceTypeId)} @ ${esc(a.location)}: <b>${esc(a.outcome)}</b>${a.reason ? ` — ${esc(a.reason)}` : ''}<br/><small>${[['planned', a.plannedAt], ['created', a.createdAt], ['running', a.runningAt], ['job', a.jobStartedAt], ['lost', a.interruptedAt]].filter(([, t]) => t).map(([k, t]) => `${k} ${new Date(t!).toLocaleTimeString()}`).join(' → ')}</small></li>`)
      .join('')}</ol>
    ${st.error ? `<p class="error">${esc(st.error)}</p>` : ''}
    <h3>Logs</h3><pre id="logs">loading…</pre></section>`;
  document.getElementById('stop')?.addEventListener('click', () => void api('POST', `/v1/workloads/${encodeURIComponent(id)}/stop`, {}).then(() => workloadView(id)));
  api<{ logs: string }>('GET', `/v1/workloads/${encodeURIComponent(id)}/logs?lines=200`)
    .then((l) => (document.getElementById('logs')!.textContent = l.logs || '(no output yet)'))
    .catch((e: Error) => (document.getElementById('logs')!.textContent = e.message));
}

async function offersView(): Promise<void> {
  reset();
  app.innerHTML = `<section><h2>Offers</h2><form class="offers" id="offers-form">
    <label>GPU classes (| separated)<input name="gpu" value="*" /></label>
    <label>GPU count<input name="count" type="number" min="1" /></label>
    <label>Spot<select name="spot"><option>never</option><option>allow</option><option>only</option></select></label>
    <label>Regions (comma)<input name="regions" /></label>
    <label>Countries (comma)<input name="countries" /></label>
    <label>Providers (comma)<input name="providers" /></label>
    <label>Max $/h<input name="maxPrice" /></label>
    <label><span><input name="explain" type="checkbox" checked /> explain</span></label>
    <button data-testid="search-offers">Search</button></form><p class="error" id="offers-error"></p>
    <table data-testid="offers"><thead><tr><th>Provider</th><th>Type</th><th>Region</th><th>Country</th><th>GPU</th><th>Spot</th><th>$/h</th></tr></thead><tbody id="offer-rows"></tbody></table>
    <h3>Why the others were not chosen</h3><ul id="rejected"></ul></section>`;
  const form = document.getElementById('offers-form') as HTMLFormElement;
  const list = (v: FormDataEntryValue | null) => String(v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body: Record<string, unknown> = { gpu: { classes: String(f.get('gpu') || '*').split('|'), ...(f.get('count') ? { count: Number(f.get('count')) } : {}) }, spot: f.get('spot'), explain: f.get('explain') === 'on', limit: 50 };
    const placement: Record<string, unknown> = {};
    if (list(f.get('regions')).length) placement.regions = list(f.get('regions'));
    if (list(f.get('countries')).length) placement.countries = list(f.get('countries'));
    if (list(f.get('providers')).length) placement.providers = { allow: list(f.get('providers')) };
    if (Object.keys(placement).length) body.placement = placement;
    if (f.get('maxPrice')) body.maxPricePerHour = String(f.get('maxPrice'));
    api<{ offers: { provider: string; type: string; location: string; country: string; gpu: { name: string; count: number } | null; spot: boolean; pricePerHour: string }[]; rejected?: { kind: string; count: number; reasons: { reason: string; count: number }[] }[] }>('POST', '/v1/offers', body)
      .then((r) => {
        document.getElementById('offers-error')!.textContent = '';
        document.getElementById('offer-rows')!.innerHTML = r.offers.map((o) => `<tr><td>${esc(o.provider)}</td><td>${esc(o.type)}</td><td>${esc(o.location)}</td><td>${esc(o.country)}</td><td>${o.gpu ? `${o.gpu.count}x ${esc(o.gpu.name)}` : ''}</td><td>${o.spot ? 'spot' : ''}</td><td>${esc(o.pricePerHour)}</td></tr>`).join('');
        document.getElementById('rejected')!.innerHTML = (r.rejected ?? []).map((k) => `<li>${esc(k.kind)}: ${k.count} — ${k.reasons.map((x) => `${esc(x.reason)} (${x.count})`).join('; ')}</li>`).join('');
      })
      .catch((err: Error) => (document.getElementById('offers-error')!.textContent = err.message));
  });
}

async function route(): Promise<void> {
  if (!token()) return loginView();
  if (!(await whoami())) return;
  const h = location.hash.replace(/^#/, '') || '/';
  try {
    if (h.startsWith('/workload/')) await workloadView(decodeURIComponent(h.slice('/workload/'.length)));
    else if (h === '/offers') await offersView();
    else await spendView();
  } catch (e) {
    app.innerHTML = `<section class="error">${esc((e as Error).message)}</section>`;
  }
}

document.getElementById('logout')!.addEventListener('click', () => {
  setToken(null);
  location.hash = '#/';
  loginView();
});
window.addEventListener('hashchange', () => void route());
void route();
