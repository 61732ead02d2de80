import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@anneal/providers';
import { readTar } from '../io/tar-archive.js';
import { buildAssignment } from '../../testing/agent-fixtures.js';
import { runnerContext } from '../../testing/runner-context.js';
import { PresignedBucket, TRAINING_TEXT } from '../../testing/s3-presigner.js';
import type { RunnerEvent } from '../runner.js';
import { decodeCheckpoint } from './char-mlp.model.js';
import { SyntheticRunner } from './synthetic.runner.js';

let bucket: PresignedBucket;
const datasetBytes = new TextEncoder().encode(TRAINING_TEXT);

beforeAll(async () => {
  bucket = await PresignedBucket.start();
  await bucket.put('datasets/d1.txt', datasetBytes);
});

afterAll(async () => {
  await bucket?.close();
});

async function assignmentFor(attemptId: string, options: { steps: number; checkpointSlots?: number; hyperparameters?: Assignment['attempt']['recipe']['hyperparameters']; validation?: Assignment['attempt']['recipe']['validation'] }): Promise<Assignment> {
  const base = buildAssignment('n1', attemptId, { steps: options.steps });
  const urls = await bucket.attemptUrls(attemptId, 'datasets/d1.txt', datasetBytes.length, options.checkpointSlots ?? 3);
  return {
    ...base,
    ...urls,
    attempt: {
      ...base.attempt,
      recipe: { ...base.attempt.recipe, validation: options.validation ?? null, hyperparameters: { seed: 3, ...options.hyperparameters } },
    },
  };
}

const stepsOf = (events: RunnerEvent[]) => events.filter((event): event is Extract<RunnerEvent, { type: 'step' }> => event.type === 'step');
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('synthetic trainer against real presigned S3 URLs', () => {
  it('downloads the dataset, trains with a falling loss, validates, uploads checkpoints, model and metrics', async () => {
    const assignment = await assignmentFor('syn-complete', { steps: 300, checkpointSlots: 3, validation: { prompts: ['The quick', 'A stitch'], intervalSteps: 100 } });
    const { ctx, events } = runnerContext(assignment);
    const outcome = await new SyntheticRunner().run(ctx);

    expect(outcome).toMatchObject({ exitReason: 'completed', steps: 300 });
    const steps = stepsOf(events);
    expect(steps.map((event) => event.step)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const losses = steps.map((event) => event.loss!);
    expect(mean(losses.slice(-30))).toBeLessThan(mean(losses.slice(0, 30)) * 0.75);
    for (const step of steps) {
      expect(step.stepTimeMs).toBeGreaterThan(0);
      expect(step.tokensPerS).toBeGreaterThan(0);
      expect(step.totalSteps).toBe(300);
    }

    const validations = events.filter((event) => event.type === 'validation');
    expect(validations.map((event) => event.step)).toEqual([100, 200, 300]);
    for (const validation of validations) expect(validation).toMatchObject({ promptCount: 2, timePerPromptMs: expect.any(Number) });

    // slots: 3 → two interval checkpoints (the last slot is kept for the final one), then the final
    const checkpoints = events.filter((event) => event.type === 'checkpoint');
    expect(checkpoints.map((event) => [event.step, event.reason])).toEqual([
      [60, 'interval'],
      [120, 'interval'],
      [300, 'completed'],
    ]);
    const finalCheckpoint = await bucket.fetchBytes(checkpoints[2]!.key);
    expect(finalCheckpoint?.length).toBe(checkpoints[2]!.sizeBytes);
    expect(decodeCheckpoint(finalCheckpoint!).step).toBe(300);

    const archive = await bucket.fetchBytes(assignment.uploads!.artifact!.key);
    const files = readTar(archive!);
    expect([...files.keys()].sort()).toEqual(['metrics.json', 'model.bin']);
    expect(decodeCheckpoint(files.get('model.bin')!).step).toBe(300);
    const metrics = JSON.parse(new TextDecoder().decode(files.get('metrics.json')!)) as { steps: number; finalTrainLoss: number; evalLoss: number };
    expect(metrics.steps).toBe(300);
    expect(metrics.finalTrainLoss).toBeCloseTo(losses.at(-1)!, 10);

    const logs = new TextDecoder().decode((await bucket.fetchBytes(assignment.uploads!.logs!.key))!);
    expect(logs).toMatch(/dataset downloaded/);
    expect(logs).toMatch(/validation step 100 prompt 1: "The quick" → /);
    expect(outcome.artifactKeys).toEqual([...checkpoints.map((event) => event.key), assignment.uploads!.artifact!.key, assignment.uploads!.logs!.key]);
    // logs travel batched
    expect(events.some((event) => event.type === 'log' && (event.lines?.length ?? 0) > 1)).toBe(true);
  });

  it('resumes from a checkpoint exactly where the original run would have been', async () => {
    const full = await assignmentFor('syn-full', { steps: 40, checkpointSlots: 0 });
    const fullRun = runnerContext(full);
    await new SyntheticRunner().run(fullRun.ctx);

    const first = await assignmentFor('syn-part1', { steps: 40, checkpointSlots: 1 });
    const controller = new AbortController();
    const part1 = runnerContext(first, { controller });
    const originalReport = part1.ctx.report;
    part1.ctx.report = (event) => {
      originalReport(event);
      if (event.type === 'step' && event.step === 25) controller.abort({ kind: 'cancel', reason: 'user_canceled' });
    };
    const stopped = await new SyntheticRunner().run(part1.ctx);
    expect(stopped.exitReason).toBe('canceled');
    const final = part1.events.find((event) => event.type === 'checkpoint');
    expect(final).toMatchObject({ step: 25, reason: 'canceled' });

    const second = await assignmentFor('syn-part2', { steps: 40, checkpointSlots: 0 });
    second.resumeCheckpoint = { getUrl: await bucket.getUrl(final!.key), step: 25, sizeBytes: final!.sizeBytes };
    const part2 = runnerContext(second);
    const resumed = await new SyntheticRunner().run(part2.ctx);
    expect(resumed).toMatchObject({ exitReason: 'completed', steps: 15 });
    const resumedSteps = stepsOf(part2.events);
    expect(resumedSteps[0]!.step).toBe(26);
    expect(resumedSteps.map((event) => event.loss)).toEqual(stepsOf(fullRun.events).slice(25).map((event) => event.loss));
  });

  it.each([
    [{ kind: 'max_duration' }, 'max_duration_exceeded'],
    [{ kind: 'drain' }, 'preempted'],
    [{ kind: 'budget' }, 'budget_exhausted'],
  ] as const)('on a %o stop it saves a final checkpoint with reason %s', async (stop, reason) => {
    const assignment = await assignmentFor(`syn-stop-${stop.kind}`, { steps: 10_000, checkpointSlots: 1, hyperparameters: { syntheticTokensPerStep: 16 } });
    const controller = new AbortController();
    const { ctx, events } = runnerContext(assignment, { controller });
    const report = ctx.report;
    ctx.report = (event) => {
      report(event);
      if (event.type === 'step' && event.step === 5) controller.abort(stop);
    };
    const outcome = await new SyntheticRunner().run(ctx);
    expect(outcome).toMatchObject({ exitReason: reason, steps: 5 });
    expect(events.filter((event) => event.type === 'checkpoint')).toEqual([expect.objectContaining({ step: 5, reason })]);
    expect(outcome.artifactKeys).not.toContain(assignment.uploads!.artifact!.key);
  });

  it('reports a dataset whose size differs from the announced one as an error, without training', async () => {
    const assignment = await assignmentFor('syn-badsize', { steps: 10 });
    assignment.dataset = { ...assignment.dataset, sizeBytes: datasetBytes.length + 5 };
    const { ctx, events } = runnerContext(assignment);
    const outcome = await new SyntheticRunner().run(ctx);
    expect(outcome.exitReason).toBe('error');
    expect(outcome.message).toMatch(/dataset has \d+ bytes, the API announced/);
    expect(outcome.message).not.toMatch(/X-Amz|http/);
    expect(stepsOf(events)).toHaveLength(0);
  });
});
