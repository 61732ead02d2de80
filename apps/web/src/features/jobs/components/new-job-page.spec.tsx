import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import { RECIPE_PRESETS } from '../lib/presets.js';
import { NewJobPage, toRequest } from './new-job-page.js';

afterEach(cleanup);

const dataset = { id: '0193a0c8-7a2e-7c4e-9d41-3f2b8c1d5e6f', name: 'support-chats', format: 'jsonl', status: 'ready', sampleCount: 1200, moderation: { outcome: 'passed', reasons: [] } };

function quote(body: { recipe: { steps: number } }) {
  return {
    id: 'quote-1',
    summary: '',
    rows: [
      { offerId: 'community:n1', providerKind: 'community', gpu: { id: 'rtx-4090', name: 'RTX 4090' }, gpuCount: 1, region: 'eu', priceMicrosPerGpuHour: '450000', runtimeSeconds: { p10: 1800, p50: 2280, p90: 3000 }, costMicros: { p10: '500000', p50: '680000', p90: '900000' }, basis: 'exact', basisText: `from 3 runs like this (${body.recipe.steps} steps)`, sentence: '', fastest: false },
      { offerId: 'gcp:a100', providerKind: 'gcp', gpu: { id: 'a100-80gb-sxm', name: 'A100 80GB' }, gpuCount: 1, region: 'us', priceMicrosPerGpuHour: '3673000', runtimeSeconds: { p10: 600, p50: 900, p90: 1200 }, costMicros: { p10: '800000', p50: '1200000', p90: '1500000' }, basis: 'prior', basisText: 'FLOP-count prior', sentence: '', fastest: true },
    ],
    excluded: [{ gpu: { id: 'rtx-3060', name: 'RTX 3060' }, gpuCount: 1, code: 'insufficient_memory', message: 'needs ~14 GB, RTX 3060 has 12 GB', needGb: 14, haveGb: 12, offerCount: 1, offerIds: [] }],
    notes: [],
  };
}

describe('NewJobPage', () => {
  it('offers the presets and submits the recipe with an Idempotency-Key', async () => {
    const { requests } = renderWithApi(<NewJobPage />, (url, init) => {
      if (url.startsWith('/v1/datasets')) return json(200, { items: [dataset], nextCursor: null });
      if (url === '/v1/gpu-types') return json(200, [{ id: 'rtx-4090', name: 'RTX 4090', vendor: 'nvidia', vramGb: 24 }]);
      if (url === '/v1/estimates') return json(200, quote(JSON.parse(String(init.body))));
      if (url === '/v1/jobs' && init.method === 'POST') return json(402, { code: 'insufficient_credits', message: 'Your available balance of $0.00 does not cover the $1.20 hold.', requestId: 'r' });
      return undefined;
    });
    const preset = screen.getByLabelText('Recipe preset') as HTMLSelectElement;
    expect([...preset.options].map((o) => o.text)).toEqual(expect.arrayContaining(['Llama 3.1 8B, QLoRA, 2k context', 'Mistral 7B LoRA', 'SDXL LoRA 1024px']));
    fireEvent.change(preset, { target: { value: 'sdxl-lora-1024' } });
    expect((screen.getByLabelText('Width (px)') as HTMLInputElement).value).toBe('1024');
    expect(screen.queryByLabelText('Context length (tokens)')).toBeNull();

    await screen.findByRole('option', { name: /support-chats/ });
    fireEvent.change(screen.getByLabelText('Dataset'), { target: { value: dataset.id } });
    // Typing several characters quickly asks for one estimate, after the pause.
    for (const steps of ['1', '15', '150', '1500']) fireEvent.change(screen.getByLabelText('Steps'), { target: { value: steps } });
    expect((await screen.findByTestId('estimate-headline', {}, { timeout: 3000 })).textContent).toContain('~38 min, ~$0.68');
    const estimateCalls = () => requests.filter((r) => r.url === '/v1/estimates');
    await vi.waitFor(() => expect(estimateCalls().at(-1)?.body).toMatchObject({ recipe: { imageResolution: { width: 1024, height: 1024 }, steps: 1500 } }), { timeout: 3000 });
    // The first form state, then the settled one: none for the keystrokes in between.
    expect(estimateCalls().length).toBeLessThanOrEqual(2);
    expect(estimateCalls().some((c) => (c.body as { recipe: { steps: number } }).recipe.steps === 150)).toBe(false);
    fireEvent.click(screen.getByRole('radio', { name: 'Choose 1× RTX 4090 from Community' }));
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    expect(screen.getByText(/needs ~14 GB, RTX 3060 has 12 GB/)).toBeTruthy(); // the memory-fit warning
    expect(await screen.findByText('Your available balance of $0.00 does not cover the $1.20 hold.')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Add credit' })).toBeTruthy();
    const submitted = requests.find((r) => r.url === '/v1/jobs');
    expect(submitted?.body).toMatchObject({
      datasetId: dataset.id,
      recipe: { baseModelId: 'stabilityai/stable-diffusion-xl-base-1.0', method: 'lora', imageResolution: { width: 1024, height: 1024 }, batchSize: 1, gradientAccumulation: 4, steps: 1500 },
      resources: { gpuCount: 1, gpuModel: 'rtx-4090' },
      quoteId: 'quote-1',
    });
    expect((submitted?.body as { recipe: object }).recipe).not.toHaveProperty('sequenceLength');
  });
});

describe('toRequest', () => {
  it('turns each preset into a valid request', () => {
    for (const preset of RECIPE_PRESETS) {
      const form = { presetId: preset.id, name: '', datasetId: '', baseModelId: preset.recipe.baseModelId, method: preset.recipe.method, precision: preset.recipe.precision ?? 'bf16', quantization: preset.recipe.quantization ?? 'none', modality: preset.modality, seqLen: String(preset.recipe.seqLen ?? 2048), width: '1024', height: '1024', batchSize: String(preset.recipe.batchSize), gradAccum: String(preset.recipe.gradAccum ?? 1), steps: String(preset.recipe.steps), gpuModel: '', gpuCount: String(preset.gpuCount), providers: ['community', 'gcp', 'runpod'] as ('community' | 'gcp' | 'runpod')[], maxPriceUsd: '', budgetCapUsd: '' };
      const result = toRequest(form);
      expect(result, preset.label).toHaveProperty('request');
      const bad = toRequest({ ...form, batchSize: '0', maxPriceUsd: '0.8' });
      expect(bad).toEqual({ problem: 'Batch size must be a whole number of at least 1.' });
      const limited = toRequest({ ...form, providers: ['community'], maxPriceUsd: '$0.80' });
      expect(limited).toMatchObject({ request: { providerAllowlist: ['community'], maxPricePerGpuHourUsd: '0.80' } });
    }
  });
});
