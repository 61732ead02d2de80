import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@anneal/providers';
import { buildAssignment } from '../../testing/agent-fixtures.js';
import { runnerContext } from '../../testing/runner-context.js';
import { PresignedBucket, TRAINING_TEXT } from '../../testing/s3-presigner.js';
import { readTar } from '../io/tar-archive.js';
import { ProcessRunner } from './process.runner.js';

const FAKE_TRAINER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'testing', 'fake-trainer', 'fake-trainer.mjs');
const command = `"${process.execPath}" "${FAKE_TRAINER}"`;
const datasetBytes = new TextEncoder().encode(TRAINING_TEXT);
let bucket: PresignedBucket;

beforeAll(async () => {
  bucket = await PresignedBucket.start();
  await bucket.put('datasets/d.txt', datasetBytes);
});
afterAll(async () => {
  await bucket?.close();
});

async function assignmentFor(attemptId: string, steps: number, checkpointSlots: number): Promise<Assignment> {
  const base = buildAssignment('n1', attemptId, { steps });
  return { ...base, ...(await bucket.attemptUrls(attemptId, 'datasets/d.txt', datasetBytes.length, checkpointSlots)) };
}

describe('ProcessRunner (real child process, real presigned S3 URLs)', () => {
  it('passes the recipe and paths in env, turns JSON lines into events, uploads the final checkpoint and outputs', async () => {
    const assignment = await assignmentFor('proc-ok', 8, 1);
    const { ctx, events } = runnerContext(assignment);
    const outcome = await new ProcessRunner({ command, env: { ...process.env, FAKE_TRAINER_CHECKPOINT_EVERY: '0' } }).run(ctx);
    expect(outcome).toMatchObject({ exitReason: 'completed', steps: 8 });
    const steps = events.filter((event) => event.type === 'step');
    expect(steps.map((event) => event.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // even steps carry their own timing; odd ones are timed by the agent
    expect(steps[1]).toMatchObject({ stepTimeMs: 10, tokensPerS: 1000, totalSteps: 8 });
    expect(steps[2]).toMatchObject({ tokensPerS: null, totalSteps: 8 });
    expect(events.filter((event) => event.type === 'checkpoint')).toEqual([expect.objectContaining({ step: 8, reason: 'completed' })]);
    const logs = events.flatMap((event) => (event.type === 'log' ? (event.lines ?? [event.line]) : []));
    expect(logs).toEqual(expect.arrayContaining([expect.stringContaining(`dataset ${datasetBytes.length} bytes`), 'fake trainer: a warning on stderr']));
    const output = readTar((await bucket.fetchBytes(assignment.uploads!.artifact!.key))!);
    expect(new TextDecoder().decode(output.get('model.bin')!)).toBe('fake model trained for 8 steps\n');
  }, 60_000);

  it('reports a crash as an error with the last stderr line', async () => {
    const { ctx } = runnerContext(await assignmentFor('proc-crash', 8, 1));
    const outcome = await new ProcessRunner({ command, env: { ...process.env, FAKE_TRAINER_FAIL_AT_STEP: '3' } }).run(ctx);
    expect(outcome).toMatchObject({ exitReason: 'error', steps: 2 });
    expect(outcome.message).toMatch(/exited with code 3: CUDA error: out of memory/);
  }, 60_000);

  it('stops on abort: SIGTERM, the trainer checkpoints, the checkpoint is uploaded as the final one', async () => {
    const controller = new AbortController();
    const { ctx, events } = runnerContext(await assignmentFor('proc-stop', 100_000, 2), { controller });
    const report = ctx.report;
    ctx.report = (event) => {
      report(event);
      if (event.type === 'step' && event.step === 4) controller.abort({ kind: 'budget' });
    };
    const outcome = await new ProcessRunner({ command, env: { ...process.env, FAKE_TRAINER_STEP_MS: '20' } }).run(ctx);
    expect(outcome.exitReason).toBe('budget_exhausted');
    const final = events.filter((event) => event.type === 'checkpoint').at(-1);
    expect(final).toMatchObject({ reason: 'budget_exhausted' });
    expect(new TextDecoder().decode(readTar((await bucket.fetchBytes(final!.key))!).get('weights.bin')!)).toMatch(/^fake weights at step \d+\n$/);
  }, 60_000);

  it('ends an attempt whose trainer ignores SIGTERM after the grace period', async () => {
    const controller = new AbortController();
    const { ctx } = runnerContext(await assignmentFor('proc-stubborn', 100_000, 1), { controller });
    const report = ctx.report;
    ctx.report = (event) => {
      report(event);
      if (event.type === 'step' && event.step === 2) controller.abort({ kind: 'cancel', reason: 'user_canceled' });
    };
    const stubborn = `trap '' TERM; "${process.execPath}" -e 'process.on("SIGTERM",()=>{}); let s=0; setInterval(()=>console.log(JSON.stringify({step:++s,loss:1})),20)'`;
    const outcome = await new ProcessRunner({ command: stubborn, stopGraceMs: 300 }).run(ctx);
    expect(outcome.exitReason).toBe('canceled');
  }, 60_000);
});
