// Server health from /metrics, sampled every 2 s: connections, subscriptions, running
// statements, and request and commit rates as small live charts.
import { useEffect, useState } from 'preact/hooks';
import { KalamError } from '@kalamdb/client';
import type { Session } from '../session';
import { ErrorBox, Loading, PageHeader } from '../ui';

const EVERY_MS = 2000;
const KEEP = 60;

interface Sample { at: number; values: Record<string, number> }

/** Sums each family's samples (all label sets), from the Prometheus text format. */
export function parseMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    out[m[1]!] = (out[m[1]!] ?? 0) + value;
    if (m[2]) out[`${m[1]}${m[2]}`] = value;
  }
  return out;
}

const SERIES: { title: string; unit: string; value: (now: Sample, before?: Sample) => number | null }[] = [
  { title: 'Requests', unit: '/s', value: (n, b) => rate(n, b, 'kalamdb_http_requests_total') },
  { title: 'Commits', unit: '/s', value: (n, b) => rate(n, b, 'kalamdb_commit_groups_total') },
  { title: 'Rows written', unit: '/s', value: (n, b) => rate(n, b, 'kalamdb_rows_written_total') },
  { title: 'HTTP connections', unit: '', value: (n) => n.values['kalamdb_open_connections{kind="http"}'] ?? 0 },
  { title: 'WebSocket connections', unit: '', value: (n) => n.values['kalamdb_open_connections{kind="websocket"}'] ?? 0 },
  { title: 'Subscriptions', unit: '', value: (n) => n.values['kalamdb_live_subscriptions'] ?? 0 },
  { title: 'Running statements', unit: '', value: (n) => n.values['kalamdb_running_statements'] ?? 0 },
  { title: 'Postgres connections', unit: '', value: (n) => n.values['kalamdb_open_connections{kind="postgres"}'] ?? 0 },
];

function rate(now: Sample, before: Sample | undefined, name: string): number | null {
  if (!before) return null;
  const dt = (now.at - before.at) / 1000;
  return dt > 0 ? Math.max(0, ((now.values[name] ?? 0) - (before.values[name] ?? 0)) / dt) : null;
}

export function HealthPage(props: { session: Session }) {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const response = await props.session.get('/metrics');
        const text = await response.text();
        if (!response.ok) {
          let code = 'HTTP_' + response.status, message = text;
          try { const e = JSON.parse(text).error; code = e.code; message = e.message; } catch { /* not JSON */ }
          throw new KalamError(code, message);
        }
        if (live) { setError(null); setSamples((s) => [...s, { at: Date.now(), values: parseMetrics(text) }].slice(-KEEP)); }
      } catch (e) {
        if (live) setError(e);
      }
    };
    void poll();
    const timer = setInterval(poll, EVERY_MS);
    return () => { live = false; clearInterval(timer); };
  }, []);

  return (
    <div class="page health">
      <PageHeader title="Health" sub={`From the server's /metrics, every ${EVERY_MS / 1000} s; the last ${KEEP} samples.`} />
      {error !== null && <ErrorBox error={error} />}
      {samples.length === 0 && error === null && <Loading what="metrics" />}
      {samples.length > 0 && (
        <div class="charts">
          {SERIES.map((s) => {
            const points = samples.map((n, i) => s.value(n, samples[i - 1]));
            const latest = points[points.length - 1];
            return (
              <figure class="chart" data-series={s.title}>
                <figcaption><span>{s.title}</span><strong>{latest === null || latest === undefined ? '—' : `${format(latest)}${s.unit}`}</strong></figcaption>
                <Sparkline points={points} />
              </figure>
            );
          })}
        </div>
      )}
    </div>
  );
}

function format(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(1);
}

function Sparkline(props: { points: (number | null)[] }) {
  const W = 240, H = 56;
  const values = props.points.map((p) => p ?? 0);
  const max = Math.max(1, ...values);
  const step = W / (KEEP - 1);
  const offset = (KEEP - values.length) * step;
  const xy = values.map((v, i) => `${(offset + i * step).toFixed(1)},${(H - 2 - (v / max) * (H - 6)).toFixed(1)}`);
  return (
    <svg class="sparkline" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`peak ${format(max)}`}>
      <line x1="0" y1={H - 2} x2={W} y2={H - 2} class="axis" />
      {xy.length > 1 && <polygon class="area" points={`${xy[0]!.split(',')[0]},${H - 2} ${xy.join(' ')} ${xy[xy.length - 1]!.split(',')[0]},${H - 2}`} />}
      {xy.length > 1 && <polyline class="line" points={xy.join(' ')} />}
    </svg>
  );
}
