import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Assignment, GpuTelemetry } from '@anneal/providers';
import type { AttemptStorageApi } from '../runner/io/attempt-storage.client.js';
import type { RunnerContext, RunnerEvent } from '../runner/runner.js';

export const RTX_4090: GpuTelemetry = {
  index: 0,
  name: 'NVIDIA GeForce RTX 4090',
  gpuId: 'rtx-4090',
  vramTotalMb: 24564,
  vramUsedMb: 1,
  utilizationPct: 0,
  temperatureC: 34,
  powerW: null,
};

/** A RunnerContext for unit tests: events collected in an array, a fresh temporary work dir, no API unless given. */
export function runnerContext(
  assignment: Assignment,
  options: { controller?: AbortController; gpus?: GpuTelemetry[]; simulated?: boolean; storage?: AttemptStorageApi } = {},
): { ctx: RunnerContext; events: RunnerEvent[] } {
  const events: RunnerEvent[] = [];
  const controller = options.controller ?? new AbortController();
  const gpus = options.gpus ?? [RTX_4090];
  return {
    events,
    ctx: {
      assignment,
      gpuIndices: gpus.map((gpu) => gpu.index),
      signal: controller.signal,
      report: (event) => events.push(event),
      nowMs: Date.now,
      gpus,
      simulated: options.simulated ?? true,
      gpuUtilizationPct: () => null,
      workDir: mkdtempSync(join(tmpdir(), 'anneal-agent-attempt-')),
      storage: options.storage ?? null,
    },
  };
}
