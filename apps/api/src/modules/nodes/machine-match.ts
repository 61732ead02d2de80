import { getGpu, isGpuId } from '@anneal/benchmarks';
import type { RegisteredGpu } from './entities/node.entity.js';

/** What a cloud attempt rented: the offer's catalog GPU and how many. */
export interface RentedGpus {
  gpuModelId: string;
  gpuCount: number;
}

/**
 * Whether the machine that joined for a cloud attempt has what the attempt rented: exactly
 * `gpuCount` GPUs, each the rented catalog model (names canonicalized through the GPU catalog, as
 * at registration). Null when it matches; otherwise what differs, naming both sides (a clause, no
 * final stop: it is also the job's wait reason, "…; matching another offer.").
 */
export function machineMismatch(rented: RentedGpus, gpus: readonly RegisteredGpu[]): string | null {
  if (gpus.length === rented.gpuCount && gpus.every((gpu) => gpu.gpuId === rented.gpuModelId)) return null;
  return `The machine has ${describeGpus(gpus)}, but its attempt rented ${rented.gpuCount} × ${displayName(rented.gpuModelId)}`;
}

/** "2 × RTX 4090 and 1 × NVIDIA Imaginary X1" (unknown names as the driver reported them). */
function describeGpus(gpus: readonly RegisteredGpu[]): string {
  const counts = new Map<string, number>();
  for (const gpu of gpus) {
    const name = gpu.gpuId ? displayName(gpu.gpuId) : gpu.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => `${count} × ${name}`).join(' and ');
}

/** Thrown inside the join's transaction, so nothing of the refused machine is registered. */
export class MachineMismatch extends Error {
  constructor(
    readonly attemptId: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'MachineMismatch';
  }
}

function displayName(gpuModelId: string): string {
  return isGpuId(gpuModelId) ? getGpu(gpuModelId).name : gpuModelId;
}
