import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import { RECIPE_PRESETS } from '../lib/presets.js';
import { NewJobPage, toRequest } from './new-job-page.js';

afterEach(cleanup);

const dataset = { id: '0193a0c8-7a2e-7c4e-9d41-3f2b8c1d5e6f', name: 'support-chats', format: 'jsonl', status: 'ready', sampleCount: 1200, moderation: { outcome: 'passed', reasons: [] } };

describe('NewJobPage', () => {
  it('offers the presets and submits the recipe with an Idempotency-Key', async () => {
    const { requests } = renderWithApi(<NewJobPage />, (url, init) => {
      if (url.startsWith('/v1/datasets')) return json(200, { items: [dataset], nextCursor: null });
      if (url === '/v1/gpu-types') return json(200, [{ id: 'rtx-4090', name: 'RTX 4090', vendor: 'nvidia', vramGb: 24 }]);
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
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    expect((await screen.findByRole('alert')).textContent).toContain('does not cover the $1.20 hold');
    expect(screen.getByRole('link', { name: 'Add credit' })).toBeTruthy();
    const submitted = requests.find((r) => r.url === '/v1/jobs');
    expect(submitted?.body).toMatchObject({
      datasetId: dataset.id,
      recipe: { baseModelId: 'stabilityai/stable-diffusion-xl-base-1.0', method: 'lora', resolution: { width: 1024, height: 1024 }, batchSize: 1, gradAccum: 4, steps: 1500 },
      resources: { gpuCount: 1 },
    });
    expect((submitted?.body as { recipe: object }).recipe).not.toHaveProperty('seqLen');
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
