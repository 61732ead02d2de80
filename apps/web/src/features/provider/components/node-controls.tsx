import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { formatMicros, parseDollars } from '../../../lib/money.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { drainNode, updateNode, type ProviderNode } from '../api/nodes.api.js';

export function StatusBadge({ status }: { status: string }) {
  const tone = status === 'online' ? 'badge-ok' : status === 'suspect' ? 'badge-warn' : 'badge-off';
  return <span className={`badge ${tone}`}>{status}</span>;
}

/** "0.45" ↔ "450000": the price field speaks dollars, the API micro-dollars. */
export function dollarsFromMicros(micros: string): string {
  return formatMicros(micros, { decimals: 6 }).replace(/^\$/, '').replace(/,/g, '').replace(/0{1,4}$/, '');
}

/** Price per GPU-hour, listing and draining of one node. */
export function NodeControls({ node }: { node: ProviderNode }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [price, setPrice] = useState(() => dollarsFromMicros(node.priceMicrosPerGpuHour));
  const [saved, setSaved] = useState(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['nodes'] });
  const update = useMutation({
    mutationFn: (body: Parameters<typeof updateNode>[2]) => updateNode(api, node.id, body),
    onSuccess: () => {
      setSaved(true);
      refresh();
    },
  });
  const drain = useMutation({ mutationFn: () => drainNode(api, node.id, 'drained from the console'), onSuccess: refresh });
  const micros = parseDollars(price);
  const priceError = price.trim() !== '' && (micros === undefined || micros <= 0n) ? 'Enter a price in dollars, like 0.45.' : undefined;

  return (
    <div className="node-controls">
      <form
        className="inline-form"
        aria-label={`Price of ${node.hostname}`}
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          if (micros !== undefined && micros > 0n) update.mutate({ priceMicrosPerGpuHour: micros.toString() });
        }}
      >
        <Field
          label="Price per GPU-hour (USD)"
          inputMode="decimal"
          value={price}
          onChange={(e) => {
            setPrice(e.target.value);
            setSaved(false);
          }}
          error={priceError}
          hint={saved && !update.isPending ? 'Saved: new jobs see this price.' : undefined}
        />
        <button type="submit" disabled={update.isPending || priceError !== undefined || micros === undefined || micros.toString() === node.priceMicrosPerGpuHour}>
          Set price
        </button>
      </form>
      <div className="row">
        <button type="button" className="secondary" onClick={() => update.mutate({ listed: !node.listed })} disabled={update.isPending}>
          {node.listed ? 'Unlist' : 'List for rent'}
        </button>
        {node.draining ? (
          <button type="button" className="secondary" onClick={() => update.mutate({ draining: false })} disabled={update.isPending}>
            Return to service
          </button>
        ) : (
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm(`Drain ${node.hostname}? It finishes its current job and takes no new ones.`)) drain.mutate();
            }}
            disabled={drain.isPending}
          >
            Drain
          </button>
        )}
      </div>
      <ErrorMessage error={update.error ?? drain.error} />
    </div>
  );
}
