/** The dashboard's view of the gpuflow server API: the token lives in sessionStorage only. */
const KEY = 'gpuflow-token';

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}
export function setToken(t: string | null): void {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token() ?? ''}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, data.error ?? res.statusText);
  return data as T;
}

export interface LiveWorkload {
  workloadId: string;
  name: string;
  project: string;
  tenant: string;
  state: string;
  provider?: string;
  region?: string;
  gpu?: string;
  costNow: string;
  ratePerHour: string;
}
export interface Money {
  amount: number;
  scale: number;
  currency: string;
}
export interface Budget {
  key: string;
  committed: Money;
  reserved: Money;
  left?: Money;
  usedPercent?: number;
  config?: { cap: Money; period: string };
  alerts: { threshold: number; at: string; message?: string }[];
}
export interface LiveSnapshot {
  at: string;
  ratePerHour: string;
  costSoFar: string;
  byProject: { name: string; ratePerHour: string; costSoFar: string }[];
  byTenant: { name: string; ratePerHour: string; costSoFar: string }[];
  byProvider: { name: string; ratePerHour: string; costSoFar: string }[];
  workloads: LiveWorkload[];
  budgets: Budget[];
  alerts: { budget: string; threshold: number; at: string }[];
  roles: Record<string, string> | 'server-admin';
}

/** Display only: Money as a decimal string (amount / 10^scale), no float arithmetic on amounts. */
export function moneyText(m: Money | undefined): string {
  if (!m) return '—';
  const neg = m.amount < 0;
  const digits = String(Math.abs(m.amount)).padStart(m.scale + 1, '0');
  const whole = digits.slice(0, digits.length - m.scale);
  const frac = digits.slice(digits.length - m.scale).padEnd(2, '0').slice(0, Math.max(2, Math.min(m.scale, 4)));
  return `${neg ? '-' : ''}$${whole}.${frac}`;
}
