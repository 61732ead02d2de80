import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Assignment, AttemptEvent } from '@anneal/providers';
import { expectEventually, natsTestUrl } from '@anneal/test/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerRunner } from '../runner/container/container.runner.js';
import { readTar } from '../runner/io/tar-archive.js';
import { ProcessRunner } from '../runner/process/process.runner.js';
import type { Runner } from '../runner/runner.js';
import { decodeCheckpoint } from '../runner/synthetic/char-mlp.model.js';
import { SyntheticRunner } from '../runner/synthetic/synthetic.runner.js';
import { buildAssignment } from '../testing/agent-fixtures.js';
import { setup, type ApiObserver } from '../testing/agent-harness.js';
import { AttemptStorageServer } from '../testing/attempt-storage-server.js';
import { PresignedBucket, TRAINING_TEXT } from '../testing/s3-presigner.js';

const FAKE_TRAINER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'testing', 'fake-trainer');
const datasetBytes = new TextEncoder().encode(TRAINING_TEXT);
let bucket: PresignedBucket;
let storageApi: AttemptStorageServer;
const scratch = mkdtempSync(join(tmpdir(), 'anneal-agent-runners-'));

beforeAll(async () => {
  bucket = await PresignedBucket.start();
  await bucket.put('datasets/demo.txt', datasetBytes);
  storageApi = await AttemptStorageServer.start(bucket);
});

afterAll(async () => {
  await storageApi?.close();
  await bucket?.close();
  rmSync(scratch, { recursive: true, force: true });
});

type Event<T extends AttemptEvent['type']> = Extract<AttemptEvent, { type: T }>;
const ofType = <T extends AttemptEvent['type']>(events: AttemptEvent[], type: T) => events.filter((event): event is Event<T> => event.type === type);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

async function assignmentFor(
  nodeId: string,
  attemptId: string,
  options: { steps: number; checkpointSlots?: number; budgetStopAt?: string; validation?: Assignment['attempt']['recipe']['validation']; hyperparameters?: Record<string, number> },
): Promise<Assignment> {
  const base = buildAssignment(nodeId, attemptId, { steps: options.steps, budgetStopAt: options.budgetStopAt ?? null });
  return {
    ...base,
    ...(await bucket.attemptUrls(attemptId, 'datasets/demo.txt', datasetBytes.length, options.checkpointSlots ?? 3)),
    attempt: {
      ...base.attempt,
      recipe: { ...base.attempt.recipe, validation: options.validation ?? null, hyperparameters: { seed: 5, ...options.hyperparameters } },
    },
  };
}

async function runToFinish(
  runner: Runner,
  build: (nodeId: string) => Promise<Assignment>,
  timeoutMs = 90_000,
  options: { apiUrl?: string } = {},
): Promise<{ events: AttemptEvent[]; assignment: Assignment; observer: ApiObserver; nodeId: string }> {
  const { observer, nodeId } = await setup(natsTestUrl(), runner, options);
  const assignment = await build(nodeId);
  await observer.assignFull(assignment);
  const attemptId = assignment.attempt.attemptId;
  await expectEventually(() => expect(observer.eventsOf(attemptId).map((event) => event.type)).toContain('finished'), timeoutMs);
  return { events: observer.eventsOf(attemptId), assignment, observer, nodeId };
}

/** Starts an attempt, waits for `step` events up to `atStep`, then lets `stop` end it early. */
async function runAndStop(runner: Runner, build: (nodeId: string) => Promise<Assignment>, atStep: number, stop: (observer: ApiObserver, nodeId: string, attemptId: string) => void) {
  const { observer, nodeId } = await setup(natsTestUrl(), runner);
  const assignment = await build(nodeId);
  const attemptId = assignment.attempt.attemptId;
  await observer.assignFull(assignment);
  await expectEventually(() => expect(ofType(observer.eventsOf(attemptId), 'step').length).toBeGreaterThanOrEqual(atStep), 45_000);
  stop(observer, nodeId, attemptId);
  await expectEventually(() => expect(observer.eventsOf(attemptId).map((event) => event.type)).toContain('finished'), 45_000);
  return { events: observer.eventsOf(attemptId), assignment };
}

const SAMPLE_KEYS = [
  'schemaVersion', 'sampleId', 'baseModelId', 'method', 'precision', 'quantization', 'sequenceLength', 'imageMegapixels', 'batchSize',
  'gradientAccumulation', 'gpuId', 'gpuCount', 'stepTimeMsMean', 'stepTimeMsVariance', 'stepsObserved', 'validationTimePerPromptMsMean',
  'validationPromptsObserved', 'simulated',
].sort();

describe('attempts with real runners, real NATS JetStream and real presigned S3 URLs', () => {
  it('synthetic: trains to completion with a falling loss, uploads checkpoints and artifacts, sends an anonymized benchmark sample', async () => {
    const { events, assignment, nodeId } = await runToFinish(new SyntheticRunner(), (nodeId) =>
      assignmentFor(nodeId, 'att-syn-ok', { steps: 150, checkpointSlots: 3, validation: { prompts: ['The quick', 'All that'], intervalSteps: 50 } }),
    );
    const types = events.map((event) => event.type);
    expect(types.slice(0, 2)).toEqual(['accepted', 'started']);
    expect(types.slice(-2)).toEqual(['benchmark_sample', 'finished']);
    expect(events.map((event) => event.eventSeq)).toEqual(events.map((_, i) => i));
    expect(events[1]).toMatchObject({ runnerName: 'synthetic-char-mlp', totalSteps: 150 });

    const steps = ofType(events, 'step');
    expect(steps).toHaveLength(150);
    const losses = steps.map((event) => event.loss!);
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)) * 0.75);
    expect(steps.every((event) => event.stepTimeMs > 0 && event.gpuUtilizationPct === null)).toBe(true);
    expect(ofType(events, 'validation').map((event) => event.step)).toEqual([50, 100, 150]);

    const checkpoints = ofType(events, 'checkpoint');
    expect(checkpoints.map((event) => event.reason)).toEqual(['interval', 'interval', 'completed']);
    for (const checkpoint of checkpoints) {
      const bytes = await bucket.fetchBytes(checkpoint.key);
      expect(bytes?.length).toBe(checkpoint.sizeBytes);
      expect(decodeCheckpoint(bytes!).step).toBe(checkpoint.step);
    }

    const finished = ofType(events, 'finished')[0]!;
    expect(finished).toMatchObject({ exitReason: 'completed', cancelReason: null, finalMetrics: { steps: 150, loss: losses.at(-1) } });
    expect(finished.artifactKeys).toEqual(expect.arrayContaining([assignment.uploads!.artifact!.key, assignment.uploads!.logs!.key, ...checkpoints.map((event) => event.key)]));
    const files = readTar((await bucket.fetchBytes(assignment.uploads!.artifact!.key))!);
    expect([...files.keys()].sort()).toEqual(['metrics.json', 'model.bin']);
    expect(JSON.parse(new TextDecoder().decode(files.get('metrics.json')!))).toMatchObject({ steps: 150 });
    expect(new TextDecoder().decode((await bucket.fetchBytes(assignment.uploads!.logs!.key))!)).toMatch(/completed 150 steps/);

    const sample = ofType(events, 'benchmark_sample')[0]!.sample;
    expect(Object.keys(sample).sort()).toEqual(SAMPLE_KEYS);
    expect(sample).toMatchObject({ simulated: true, gpuId: 'rtx-4090', gpuCount: 2, stepsObserved: 149, validationPromptsObserved: 6, baseModelId: 'meta-llama/Llama-3.1-8B' });
    expect(sample.stepTimeMsMean).toBeGreaterThan(0);
    expect(sample.validationTimePerPromptMsMean).toBeGreaterThan(0);
    const text = JSON.stringify(sample);
    for (const id of [nodeId, 'att-syn-ok', assignment.attempt.jobId, 'datasets/demo.txt', '127.0.0.1']) expect(text).not.toContain(id);
  }, 120_000);

  it('synthetic: a cancel mid-run uploads a final checkpoint and finishes canceled', async () => {
    const { events } = await runAndStop(
      new SyntheticRunner(),
      (nodeId) => assignmentFor(nodeId, 'att-syn-cancel', { steps: 100_000, checkpointSlots: 2, hyperparameters: { syntheticTokensPerStep: 32 } }),
      20,
      (observer, nodeId, attemptId) => observer.control(nodeId, { type: 'cancel', attemptId, reason: 'user_canceled' }),
    );
    const finished = ofType(events, 'finished')[0]!;
    expect(finished).toMatchObject({ exitReason: 'canceled', cancelReason: 'user_canceled' });
    const final = ofType(events, 'checkpoint').at(-1)!;
    expect(final.reason).toBe('canceled');
    expect(finished.finalMetrics.steps).toBe(final.step);
    expect(decodeCheckpoint((await bucket.fetchBytes(final.key))!).step).toBe(final.step);
    expect(finished.artifactKeys).toContain(final.key);
  }, 120_000);

  it('synthetic: reaching the budget stop time ends the attempt budget_exhausted with a final checkpoint', async () => {
    const { events } = await runToFinish(new SyntheticRunner(), (nodeId) =>
      assignmentFor(nodeId, 'att-syn-budget', { steps: 100_000, checkpointSlots: 1, budgetStopAt: new Date(Date.now() + 2_500).toISOString(), hyperparameters: { syntheticTokensPerStep: 32 } }),
    );
    const finished = ofType(events, 'finished')[0]!;
    expect(finished.exitReason).toBe('budget_exhausted');
    expect(finished.finalMetrics.steps).toBeGreaterThan(0);
    expect(finished.finalMetrics.steps).toBeLessThan(100_000);
    expect(ofType(events, 'checkpoint')).toEqual([expect.objectContaining({ reason: 'budget_exhausted', step: finished.finalMetrics.steps })]);
  }, 120_000);

  describe('container runner with a fake docker CLI', () => {
    const dockerLog = join(scratch, 'docker-calls.jsonl');
    const runner = (extraEnv: Record<string, string> = {}) =>
      new ContainerRunner({
        runtime: 'docker',
        defaultImage: 'ghcr.io/anneal/trainer-test:1',
        stopGraceMs: 10_000,
        env: { ...process.env, PATH: `${FAKE_TRAINER_DIR}:${process.env.PATH ?? ''}`, FAKE_DOCKER_LOG: dockerLog, FAKE_TRAINER_CHECKPOINT_EVERY: '5', ...extraEnv },
      });

    it('runs the trainer image with the dataset mounted read-only and reports its steps, checkpoints and outputs', async () => {
      const { events, assignment } = await runToFinish(runner(), (nodeId) =>
        assignmentFor(nodeId, 'att-docker-ok', { steps: 12, checkpointSlots: 3, validation: { prompts: ['a', 'b'], intervalSteps: 4 } }),
      );
      const finished = ofType(events, 'finished')[0]!;
      expect(finished).toMatchObject({ exitReason: 'completed', finalMetrics: { steps: 12 } });
      expect(events[1]).toMatchObject({ runnerKind: 'synthetic', runnerName: 'container (docker)' });
      const steps = ofType(events, 'step');
      expect(steps.map((event) => event.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(steps[11]!.loss).toBeLessThan(steps[0]!.loss!);
      expect(ofType(events, 'validation').map((event) => [event.step, event.timePerPromptMs])).toEqual([
        [4, 15],
        [8, 15],
        [12, 15],
      ]);
      // interval checkpoints at 5 and 10 (the last slot kept), then the final one at 12
      const checkpoints = ofType(events, 'checkpoint');
      expect(checkpoints.map((event) => [event.step, event.reason])).toEqual([
        [5, 'interval'],
        [10, 'interval'],
        [12, 'completed'],
      ]);
      const checkpointTar = readTar((await bucket.fetchBytes(checkpoints.at(-1)!.key))!);
      expect(new TextDecoder().decode(checkpointTar.get('weights.bin')!)).toBe('fake weights at step 12\n');
      const output = readTar((await bucket.fetchBytes(assignment.uploads!.artifact!.key))!);
      expect(new TextDecoder().decode(output.get('model.bin')!)).toBe('fake model trained for 12 steps\n');
      const logs = ofType(events, 'log').flatMap((event) => event.lines ?? [event.line]);
      expect(logs).toEqual(expect.arrayContaining(['fake trainer: a warning on stderr', 'plain progress text at step 5']));

      const run = readFileSync(dockerLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]).find((call) => call[0] === 'run')!;
      expect(run.slice(0, 3)).toEqual(['run', '--rm', '--init']);
      expect(run.filter((arg) => arg.endsWith(':/anneal/dataset:ro'))).toHaveLength(1);
      expect(run).toEqual(expect.arrayContaining(['--env', 'ANNEAL_TOTAL_STEPS=12', 'ANNEAL_BASE_MODEL=meta-llama/Llama-3.1-8B']));
      expect(run.at(-1)).toBe('ghcr.io/anneal/trainer-test:1');
      expect(run.join(' ')).not.toContain(assignment.attemptToken);
      expect(run.join(' ')).not.toContain('X-Amz-Signature');
      expect(ofType(events, 'benchmark_sample')[0]!.sample).toMatchObject({ simulated: true, stepsObserved: 11 });
    }, 120_000);

    it('on cancel the container gets SIGTERM, its final checkpoint is uploaded, the attempt finishes canceled', async () => {
      const { events } = await runAndStop(
        runner({ FAKE_TRAINER_STEP_MS: '30', FAKE_TRAINER_CHECKPOINT_EVERY: '0' }),
        (nodeId) => assignmentFor(nodeId, 'att-docker-cancel', { steps: 100_000, checkpointSlots: 2 }),
        6,
        (observer, nodeId, attemptId) => observer.control(nodeId, { type: 'cancel', attemptId, reason: 'admin' }),
      );
      expect(ofType(events, 'finished')[0]).toMatchObject({ exitReason: 'canceled', cancelReason: 'admin' });
      const final = ofType(events, 'checkpoint').at(-1)!;
      const logs = ofType(events, 'log').flatMap((event) => event.lines ?? [event.line]);
      expect(final, logs.slice(-15).join('\n')).toMatchObject({ reason: 'canceled' });
      expect(new TextDecoder().decode(readTar((await bucket.fetchBytes(final.key))!).get('weights.bin')!)).toBe(`fake weights at step ${final.step}\n`);
    }, 120_000);
  });

  describe('process runner', () => {
    const command = `"${process.execPath}" "${join(FAKE_TRAINER_DIR, 'fake-trainer.mjs')}"`;

    it('runs the configured command with the recipe in its environment and reports its JSON lines', async () => {
      const { events, assignment } = await runToFinish(new ProcessRunner({ command, env: { ...process.env, FAKE_TRAINER_CHECKPOINT_EVERY: '0' } }), (nodeId) =>
        assignmentFor(nodeId, 'att-proc-ok', { steps: 8, checkpointSlots: 1 }),
      );
      expect(ofType(events, 'finished')[0]).toMatchObject({ exitReason: 'completed', finalMetrics: { steps: 8 } });
      expect(events[1]).toMatchObject({ runnerName: 'process' });
      expect(ofType(events, 'checkpoint')).toEqual([expect.objectContaining({ step: 8, reason: 'completed' })]);
      const logs = ofType(events, 'log').flatMap((event) => event.lines ?? [event.line]);
      expect(logs.some((line) => line.includes(`dataset ${datasetBytes.length} bytes`))).toBe(true);
      expect(readTar((await bucket.fetchBytes(assignment.uploads!.artifact!.key))!).has('metrics.json')).toBe(true);
    }, 120_000);

    it('reports a trainer that crashes as an error with its last stderr line', async () => {
      const { events } = await runToFinish(new ProcessRunner({ command, env: { ...process.env, FAKE_TRAINER_FAIL_AT_STEP: '3' } }), (nodeId) =>
        assignmentFor(nodeId, 'att-proc-crash', { steps: 8, checkpointSlots: 1 }),
      );
      const finished = ofType(events, 'finished')[0]!;
      expect(finished).toMatchObject({ exitReason: 'error', finalMetrics: { steps: 2 } });
      expect(finished.message).toMatch(/exited with code 3: CUDA error: out of memory/);
      expect(ofType(events, 'benchmark_sample')).toEqual([]);
    }, 120_000);
  });

  describe('assignments that carry no presigned URL: the agent asks the API for each with the attempt token', () => {
    const ids = { orgId: 'org-e2e', jobId: 'job-e2e' };
    /** An assignment without URLs, and the attempt registered with the stand-in API (token, dataset, maybe a checkpoint to resume). */
    function urlFree(nodeId: string, attemptId: string, options: { steps: number; resume?: { key: string; step: number; sizeBytes: number } }): Assignment {
      const base = buildAssignment(nodeId, attemptId, { steps: options.steps, urls: false });
      const attemptToken = `att_${attemptId.replace(/[^A-Za-z0-9]/g, '')}${'x'.repeat(24)}`;
      storageApi.register({ attemptId, attemptToken, ...ids, datasetKey: 'datasets/demo.txt', ...(options.resume ? { resume: options.resume } : {}) });
      return {
        ...base,
        attempt: { ...base.attempt, jobId: ids.jobId, recipe: { ...base.attempt.recipe, hyperparameters: { seed: 5 } } },
        dataset: { sizeBytes: datasetBytes.length, sha256: null },
        attemptToken,
        ...(options.resume ? { resumeCheckpoint: { step: options.resume.step, sizeBytes: options.resume.sizeBytes } } : {}),
      };
    }
    const requestsOf = (attemptId: string) => storageApi.requests.filter((request) => request.path.startsWith(`/v1/attempts/${attemptId}/`));

    it('synthetic: trains, checkpoints and uploads through URLs fetched right before each transfer, then resumes from them in a second attempt', async () => {
      const first = await runToFinish(new SyntheticRunner(), async (nodeId) => urlFree(nodeId, 'att-free-1', { steps: 60 }), 90_000, { apiUrl: storageApi.url });
      const finished = ofType(first.events, 'finished')[0]!;
      expect(finished).toMatchObject({ exitReason: 'completed', finalMetrics: { steps: 60 } });
      const checkpoints = ofType(first.events, 'checkpoint');
      expect(checkpoints.map((event) => event.key)).toEqual(checkpoints.map((_, i) => `jobs/org-e2e/job-e2e/att-free-1/checkpoints/checkpoint-00${i + 1}.bin`));
      expect(checkpoints.at(-1)).toMatchObject({ step: 60, reason: 'completed' });
      for (const checkpoint of checkpoints) expect(decodeCheckpoint((await bucket.fetchBytes(checkpoint.key))!).step).toBe(checkpoint.step);
      expect(finished.artifactKeys).toEqual(expect.arrayContaining(['jobs/org-e2e/job-e2e/artifacts/output.tar', 'jobs/org-e2e/job-e2e/att-free-1/logs.txt']));
      expect([...readTar((await bucket.fetchBytes('jobs/org-e2e/job-e2e/artifacts/output.tar'))!).keys()].sort()).toEqual(['metrics.json', 'model.bin']);
      expect(new TextDecoder().decode((await bucket.fetchBytes('jobs/org-e2e/job-e2e/att-free-1/logs.txt'))!)).toMatch(/completed 60 steps/);
      // One request per transfer, in the order of the transfers, each with the attempt token.
      const requests = requestsOf('att-free-1');
      expect(requests.map((request) => request.path.split('/').slice(4).join('/'))).toEqual([
        'downloads/dataset',
        ...checkpoints.map((_, i) => `uploads/checkpoint-00${i + 1}`),
        'uploads/artifact',
        'uploads/logs',
      ]);
      expect(requests.every((request) => request.authorization === `Bearer ${first.assignment.attemptToken}`)).toBe(true);
      const published = JSON.stringify(first.events);
      for (const secret of ['X-Amz-Signature', first.assignment.attemptToken]) expect(published).not.toContain(secret);

      // The attempt is over: its token no longer gets anything; a second attempt resumes from the last checkpoint.
      storageApi.end('att-free-1');
      const last = checkpoints.at(-1)!;
      const second = await runToFinish(
        new SyntheticRunner(),
        async (nodeId) => urlFree(nodeId, 'att-free-2', { steps: 90, resume: { key: last.key, step: last.step, sizeBytes: last.sizeBytes } }),
        90_000,
        { apiUrl: storageApi.url },
      );
      expect(ofType(second.events, 'finished')[0]).toMatchObject({ exitReason: 'completed', finalMetrics: { steps: 30 } });
      expect(ofType(second.events, 'step')[0]!.step).toBe(61);
      expect(ofType(second.events, 'log').flatMap((event) => event.lines ?? [event.line])).toEqual(expect.arrayContaining(['resumed from the checkpoint of step 60']));
      expect(requestsOf('att-free-2').map((request) => request.path.split('/').slice(4).join('/')).slice(0, 2)).toEqual(['downloads/dataset', 'downloads/resume-checkpoint']);
    }, 120_000);

    it('an agent that knows no API rejects such an assignment as invalid instead of failing it later', async () => {
      const { observer, nodeId } = await setup(natsTestUrl(), new SyntheticRunner());
      await observer.assignFull(urlFree(nodeId, 'att-free-noapi', { steps: 5 }));
      await expectEventually(() => expect(observer.eventsOf('att-free-noapi').map((event) => event.type)).toEqual(['rejected']), 20_000);
      expect(observer.eventsOf('att-free-noapi')[0]).toMatchObject({ reason: 'invalid_assignment', message: expect.stringMatching(/knows no API URL/) });
      expect(requestsOf('att-free-noapi')).toEqual([]);
    }, 60_000);
  });
});
