import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors/app-error.js';
import { CreateEstimateDto } from './create-estimate.dto.js';
import { EstimateRequestPipe } from './estimate-request.pipe.js';

const BODY = { recipe: { baseModelId: 'meta-llama/Llama-3.1-8B', method: 'lora', batchSize: 4, steps: 1000, imageResolution: { width: 512, height: 512 } }, resources: { gpuCount: 2 } };

async function refusal(pipe: EstimateRequestPipe, body: unknown): Promise<AppError> {
  const error = await pipe.transform(body).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('EstimateRequestPipe', () => {
  it('gives the validated DTO, the same frozen one for the same body', async () => {
    const pipe = new EstimateRequestPipe();
    const first = await pipe.transform(structuredClone(BODY));
    expect(first).toBeInstanceOf(CreateEstimateDto);
    expect(first.recipe.imageResolution).toEqual({ width: 512, height: 512 });
    const again = await pipe.transform(structuredClone(BODY));
    expect(again).toBe(first);
    expect(Object.isFrozen(again.recipe.imageResolution)).toBe(true);
    expect(() => {
      (again.recipe as { steps?: number }).steps = 5;
    }).toThrow(TypeError);
    const other = await pipe.transform({ ...structuredClone(BODY), limit: 5 });
    expect(other).not.toBe(first);
    expect(other.limit).toBe(5);
  });

  it('refuses what the global pipe refuses, every time (refusals are not remembered)', async () => {
    const pipe = new EstimateRequestPipe();
    for (let i = 0; i < 2; i += 1) {
      const unknownField = await refusal(pipe, { ...structuredClone(BODY), userId: 'x' });
      expect([unknownField.status, unknownField.code]).toEqual([400, 'validation_failed']);
      expect(JSON.stringify(unknownField.details)).toContain('userId');
    }
    expect((await refusal(pipe, { recipe: { ...BODY.recipe, batchSize: 'four' } })).code).toBe('validation_failed');
    expect((await refusal(pipe, [BODY])).code).toBe('validation_failed');
  });

  it('does not take a non-finite number for the null that JSON.stringify would print for it', async () => {
    const pipe = new EstimateRequestPipe();
    const withNull = await pipe.transform({ recipe: { ...BODY.recipe, steps: null } });
    expect(withNull.recipe.steps).toBeNull();
    const infinite = await refusal(pipe, { recipe: { ...BODY.recipe, steps: Number.POSITIVE_INFINITY } });
    expect(infinite.code).toBe('validation_failed');
  });
});
