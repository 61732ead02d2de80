import { useMutation, useQuery } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { AVAILABLE } from '../../../app/available.js';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field, SelectField } from '../../../components/field.js';
import { Notice, PageHeader } from '../../../components/status.js';
import { ApiError } from '../../../lib/api-error.js';
import { formatPrice, parseDollars } from '../../../lib/money.js';
import { Link, navigate } from '../../../lib/router.js';
import { useApi, useSession } from '../../auth/hooks/use-session.js';
import { listDatasets } from '../../datasets/api/datasets.api.js';
import { listGpuTypes, toApiRecipe, type EstimateRequest, type EstimateRow, type RecipeInput } from '../../estimates/api/estimates.api.js';
import { EstimatePanel } from '../../estimates/components/estimate-panel.js';
import { submitJob, type SubmitJobInput } from '../api/jobs.api.js';
import { RECIPE_PRESETS } from '../lib/presets.js';

const PROVIDERS = ['community', 'gcp', 'runpod'] as const;
type Provider = (typeof PROVIDERS)[number];

interface FormState {
  presetId: string;
  name: string;
  datasetId: string;
  baseModelId: string;
  method: RecipeInput['method'];
  precision: NonNullable<RecipeInput['precision']>;
  quantization: NonNullable<RecipeInput['quantization']>;
  modality: 'text' | 'image';
  seqLen: string;
  width: string;
  height: string;
  batchSize: string;
  gradAccum: string;
  steps: string;
  gpuModel: string;
  gpuCount: string;
  providers: Provider[];
  maxPriceUsd: string;
  budgetCapUsd: string;
}

function fromPreset(presetId: string, keep?: Partial<FormState>): FormState {
  const preset = RECIPE_PRESETS.find((p) => p.id === presetId) ?? (RECIPE_PRESETS[0] as (typeof RECIPE_PRESETS)[number]);
  const r = preset.recipe;
  return {
    presetId: preset.id,
    name: keep?.name ?? '',
    datasetId: keep?.datasetId ?? '',
    baseModelId: r.baseModelId,
    method: r.method,
    precision: r.precision ?? 'bf16',
    quantization: r.quantization ?? 'none',
    modality: preset.modality,
    seqLen: String(r.seqLen ?? 2048),
    width: String(r.resolution?.width ?? 1024),
    height: String(r.resolution?.height ?? 1024),
    batchSize: String(r.batchSize),
    gradAccum: String(r.gradAccum ?? 1),
    steps: String(r.steps ?? 500),
    gpuModel: keep?.gpuModel ?? '',
    gpuCount: String(preset.gpuCount),
    providers: keep?.providers ?? [...PROVIDERS],
    maxPriceUsd: keep?.maxPriceUsd ?? '',
    budgetCapUsd: keep?.budgetCapUsd ?? '',
  };
}

const int = (text: string): number | undefined => (/^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined);
const usd = (text: string): string | undefined => {
  const micros = parseDollars(text);
  if (micros === undefined) return undefined;
  return text.trim().replace(/^\$/, '').replace(/,/g, '');
};

/** The recipe and resources the form describes, or the first problem with it. */
export function toRequest(form: FormState): { request: EstimateRequest } | { problem: string } {
  const batchSize = int(form.batchSize);
  const gradAccum = int(form.gradAccum);
  const steps = int(form.steps);
  const gpuCount = int(form.gpuCount);
  if (form.baseModelId.trim() === '') return { problem: 'Enter the base model.' };
  if (!batchSize || batchSize < 1) return { problem: 'Batch size must be a whole number of at least 1.' };
  if (!gradAccum || gradAccum < 1) return { problem: 'Gradient accumulation must be a whole number of at least 1.' };
  if (!steps || steps < 1) return { problem: 'Steps must be a whole number of at least 1.' };
  if (!gpuCount || gpuCount < 1 || gpuCount > 64) return { problem: 'GPU count must be from 1 to 64.' };
  const recipe: RecipeInput = { baseModelId: form.baseModelId.trim(), method: form.method, precision: form.precision, quantization: form.method === 'qlora' && form.quantization === 'none' ? 'nf4' : form.quantization, batchSize, gradAccum, steps };
  if (form.modality === 'text') {
    const seqLen = int(form.seqLen);
    if (!seqLen || seqLen < 16) return { problem: 'Context length must be a whole number of at least 16 tokens.' };
    recipe.seqLen = seqLen;
  } else {
    const width = int(form.width);
    const height = int(form.height);
    if (!width || !height || width < 64 || height < 64) return { problem: 'Resolution must be at least 64×64 pixels.' };
    recipe.resolution = { width, height };
  }
  if (form.providers.length === 0) return { problem: 'Allow at least one kind of provider.' };
  if (form.maxPriceUsd.trim() !== '' && usd(form.maxPriceUsd) === undefined) return { problem: 'The price limit must be a dollar amount like 0.80.' };
  if (form.budgetCapUsd.trim() !== '' && usd(form.budgetCapUsd) === undefined) return { problem: 'The budget cap must be a dollar amount like 5.00.' };
  const request: EstimateRequest = { recipe, resources: { gpuCount, ...(form.gpuModel ? { gpuModel: form.gpuModel } : {}) } };
  if (form.providers.length < PROVIDERS.length) request.providerAllowlist = form.providers;
  const maxPrice = usd(form.maxPriceUsd);
  if (maxPrice) request.maxPricePerGpuHourUsd = maxPrice;
  if (form.datasetId) request.datasetId = form.datasetId;
  return { request };
}

function newKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `job-${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export function NewJobPage() {
  const api = useApi();
  const { orgId } = useSession();
  const [form, setForm] = useState<FormState>(() => fromPreset(RECIPE_PRESETS[0]?.id ?? ''));
  const [choice, setChoice] = useState<{ row: EstimateRow; quoteId: string } | null>(null);
  const [idempotencyKey] = useState(newKey);
  const datasets = useQuery({ queryKey: ['datasets', orgId], queryFn: ({ signal }) => listDatasets(api, signal) });
  const gpuTypes = useQuery({ queryKey: ['gpu-types'], queryFn: ({ signal }) => listGpuTypes(api, signal), staleTime: Infinity });
  const usable = (datasets.data?.items ?? []).filter((d) => d.status === 'ready' && d.moderation?.outcome !== 'rejected');
  const parsed = useMemo(() => toRequest(form), [form]);
  const request = 'request' in parsed ? parsed.request : null;
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setChoice(null);
  };

  const submit = useMutation({
    mutationFn: () => {
      if (!request) throw new Error('invalid form');
      const body: SubmitJobInput = {
        recipe: toApiRecipe(request.recipe),
        datasetId: form.datasetId,
        resources: choice ? { ...request.resources, gpuModel: choice.row.gpuModelId, gpuCount: choice.row.gpuCount } : request.resources,
        ...(form.name.trim() ? { name: form.name.trim() } : {}),
        ...(request.providerAllowlist ? { providerAllowlist: request.providerAllowlist as Provider[] } : {}),
        ...(request.maxPricePerGpuHourUsd ? { maxPricePerGpuHourUsd: request.maxPricePerGpuHourUsd } : {}),
        ...(usd(form.budgetCapUsd) ? { budgetCapUsd: usd(form.budgetCapUsd) as string } : {}),
        ...(choice ? { quoteId: choice.quoteId } : {}),
      };
      return submitJob(api, body, idempotencyKey);
    },
    onSuccess: (job) => navigate(`/jobs/${job.id}`),
  });

  const toggleProvider = (p: Provider) => set('providers', form.providers.includes(p) ? form.providers.filter((x) => x !== p) : [...form.providers, p]);

  return (
    <>
      <PageHeader title="New fine-tuning job" />
      <div className="new-job">
        <form
          className="card"
          aria-label="Job recipe"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            submit.mutate();
          }}
        >
          <SelectField label="Recipe preset" value={form.presetId} onChange={(e) => setForm((f) => fromPreset(e.target.value, f))}>
            {RECIPE_PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </SelectField>
          <Field label="Job name (optional)" value={form.name} onChange={(e) => set('name', e.target.value)} maxLength={200} />
          <SelectField
            label="Dataset"
            value={form.datasetId}
            onChange={(e) => set('datasetId', e.target.value)}
            required
            hint={
              datasets.data && usable.length === 0 ? (
                <>
                  No usable dataset yet: <Link to="/datasets">upload one</Link>.
                </>
              ) : undefined
            }
          >
            <option value="">Choose a dataset…</option>
            {usable.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.format}
                {d.sampleCount !== null ? `, ${d.sampleCount.toLocaleString('en-US')} samples` : ''})
              </option>
            ))}
          </SelectField>
          <Field label="Base model (Hugging Face id)" value={form.baseModelId} onChange={(e) => set('baseModelId', e.target.value)} required />
          <div className="grid-2">
            <SelectField label="Method" value={form.method} onChange={(e) => set('method', e.target.value as FormState['method'])}>
              <option value="lora">LoRA</option>
              <option value="qlora">QLoRA</option>
              <option value="full">Full fine-tune</option>
            </SelectField>
            <SelectField label="Precision" value={form.precision} onChange={(e) => set('precision', e.target.value as FormState['precision'])}>
              <option value="bf16">bf16</option>
              <option value="fp16">fp16</option>
              <option value="fp32">fp32</option>
            </SelectField>
            <SelectField label="Quantization" value={form.quantization} onChange={(e) => set('quantization', e.target.value as FormState['quantization'])}>
              <option value="none">none</option>
              <option value="nf4">nf4</option>
              <option value="int8">int8</option>
              <option value="int4">int4</option>
            </SelectField>
            {form.modality === 'text' ? (
              <Field label="Context length (tokens)" inputMode="numeric" value={form.seqLen} onChange={(e) => set('seqLen', e.target.value)} />
            ) : (
              <>
                <Field label="Width (px)" inputMode="numeric" value={form.width} onChange={(e) => set('width', e.target.value)} />
                <Field label="Height (px)" inputMode="numeric" value={form.height} onChange={(e) => set('height', e.target.value)} />
              </>
            )}
            <Field label="Batch size" inputMode="numeric" value={form.batchSize} onChange={(e) => set('batchSize', e.target.value)} />
            <Field label="Gradient accumulation" inputMode="numeric" value={form.gradAccum} onChange={(e) => set('gradAccum', e.target.value)} />
            <Field label="Steps" inputMode="numeric" value={form.steps} onChange={(e) => set('steps', e.target.value)} />
            <Field label="GPUs" inputMode="numeric" value={form.gpuCount} onChange={(e) => set('gpuCount', e.target.value)} />
          </div>
          <SelectField label="GPU model" value={form.gpuModel} onChange={(e) => set('gpuModel', e.target.value)}>
            <option value="">Any that fits</option>
            {(gpuTypes.data ?? []).map((g) => (
              <option key={g.id} value={g.id}>
                {g.name} ({g.vramGb} GB)
              </option>
            ))}
          </SelectField>
          <fieldset className="scopes">
            <legend>Providers</legend>
            {PROVIDERS.map((p) => (
              <label key={p} className="check">
                <input type="checkbox" checked={form.providers.includes(p)} onChange={() => toggleProvider(p)} /> {p}
              </label>
            ))}
          </fieldset>
          <div className="grid-2">
            <Field label="Max price per GPU-hour (USD)" inputMode="decimal" placeholder="no limit" value={form.maxPriceUsd} onChange={(e) => set('maxPriceUsd', e.target.value)} />
            <Field label="Budget cap (USD)" inputMode="decimal" placeholder="no cap" value={form.budgetCapUsd} onChange={(e) => set('budgetCapUsd', e.target.value)} hint="The job stops before it costs more." />
          </div>
          {'problem' in parsed ? <p className="field-error">{parsed.problem}</p> : null}
          {choice ? (
            <p className="muted">
              Runs on {choice.row.gpuCount}× {choice.row.gpuName} ({choice.row.providerKind}) at {formatPrice(choice.row.priceMicrosPerGpuHour)} per GPU-hour, or the next best offer if it is taken.
            </p>
          ) : null}
          <ErrorMessage error={submit.error} />
          {submit.error instanceof ApiError && submit.error.code === 'insufficient_credits' ? (
            <Notice>
              <Link to="/billing">Add credit</Link> and submit again.
            </Notice>
          ) : null}
          <button type="submit" disabled={!request || !form.datasetId || submit.isPending}>
            {submit.isPending ? 'Submitting…' : 'Submit job'}
          </button>
        </form>
        {AVAILABLE.estimates ? (
          <EstimatePanel request={request} selectedOfferId={choice?.row.offerId ?? null} onSelect={(row, quoteId) => setChoice({ row, quoteId })} />
        ) : (
          <section className="card">
            <h2>Estimate</h2>
            <p className="muted">The job's estimate is recorded at submission and shown on the job's page.</p>
          </section>
        )}
      </div>
    </>
  );
}
