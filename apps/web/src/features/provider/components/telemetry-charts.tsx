import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NodeDetailResponse } from '../api/nodes.api.js';

const COLORS = ['#c2410c', '#2563eb', '#15803d', '#7c3aed', '#b45309', '#0e7490', '#be185d', '#4d7c0f'];

export interface ChartPoint {
  at: number;
  [series: string]: number | null;
}

/** Samples → one point per time with a value per GPU (`gpu0`, `gpu1`, …) for the chosen field. */
export function seriesOf(samples: NodeDetailResponse['telemetry'], field: 'utilizationPct' | 'temperatureC'): { points: ChartPoint[]; keys: string[] } {
  const keys = new Set<string>();
  const points = samples.map((sample) => {
    const point: ChartPoint = { at: new Date(sample.at).getTime() };
    sample.gpus.forEach((gpu, position) => {
      const key = `gpu${gpu.index ?? position}`;
      keys.add(key);
      const value = gpu[field];
      point[key] = typeof value === 'number' ? value : null;
    });
    return point;
  });
  return { points, keys: [...keys].sort() };
}

const timeLabel = (ms: number) => new Date(ms).toISOString().slice(11, 16);

function TelemetryChart({ title, unit, samples, field, domain }: { title: string; unit: string; samples: NodeDetailResponse['telemetry']; field: 'utilizationPct' | 'temperatureC'; domain: [number, number | 'auto'] }) {
  const { points, keys } = seriesOf(samples, field);
  const latest = points.at(-1);
  const summary = latest ? keys.map((k) => `GPU ${k.slice(3)} ${latest[k] ?? '—'}${unit}`).join(', ') : 'no samples';
  return (
    <figure className="card chart-card">
      <figcaption>
        <strong>{title}</strong> <span className="muted">now: {summary}</span>
      </figcaption>
      <div className="chart" role="img" aria-label={`${title} over time; latest ${summary}`}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 12, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="#e5e7eb" strokeDasharray="3 3" />
            <XAxis dataKey="at" type="number" domain={['dataMin', 'dataMax']} scale="time" tickFormatter={timeLabel} fontSize={12} />
            <YAxis domain={domain} fontSize={12} unit={unit} />
            <Tooltip labelFormatter={(v) => `${timeLabel(Number(v))} UTC`} formatter={(v) => `${String(v)}${unit}`} />
            {keys.length > 1 ? <Legend /> : null}
            {keys.map((key, i) => (
              <Line key={key} type="monotone" dataKey={key} name={`GPU ${key.slice(3)}`} stroke={COLORS[i % COLORS.length]} dot={points.length < 4} isAnimationActive={false} connectNulls />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export function TelemetryCharts({ samples }: { samples: NodeDetailResponse['telemetry'] }) {
  if (samples.length === 0) return <p className="muted">No telemetry in this window yet: it arrives with the node's heartbeats.</p>;
  return (
    <div className="charts">
      <TelemetryChart title="GPU utilisation" unit="%" samples={samples} field="utilizationPct" domain={[0, 100]} />
      <TelemetryChart title="GPU temperature" unit="°C" samples={samples} field="temperatureC" domain={[0, 'auto']} />
    </div>
  );
}
