import type { GpuTelemetry } from '@anneal/providers';
import type { CommandRunner } from './command-runner.js';
import type { GpuLookupFn } from './gpu-lookup.js';
import { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv } from './nvidia-smi.parser.js';

export type GpuDetection =
  | { kind: 'found'; gpus: GpuTelemetry[]; warnings: string[] }
  | { kind: 'none'; reason: string; warnings: string[] };

export interface GpuDetectorOptions {
  run: CommandRunner;
  lookup: GpuLookupFn;
  /** Path or name of nvidia-smi. */
  nvidiaSmi?: string;
  timeoutMs?: number;
}

/** Reads the host's NVIDIA GPUs and their telemetry right now. */
export async function detectGpus({ run, lookup, nvidiaSmi = 'nvidia-smi', timeoutMs = 10_000 }: GpuDetectorOptions): Promise<GpuDetection> {
  const result = await run(nvidiaSmi, NVIDIA_SMI_ARGS, { timeoutMs });
  if (result.failure === 'not_found') return { kind: 'none', reason: 'nvidia-smi is not installed (no NVIDIA driver on this host)', warnings: [] };
  if (result.failure === 'timeout') return { kind: 'none', reason: `nvidia-smi did not answer within ${timeoutMs} ms`, warnings: [] };
  if (result.failure === 'failed') return { kind: 'none', reason: 'nvidia-smi could not be started', warnings: [] };
  const parsed = parseNvidiaSmiCsv(result.stdout, lookup);
  if (parsed.gpus.length === 0) {
    const said = `${result.stdout} ${result.stderr}`.trim().split(/\r?\n/)[0]?.slice(0, 200) ?? '';
    return {
      kind: 'none',
      reason: `nvidia-smi reported no usable GPU (exit code ${result.exitCode ?? 'none'}${said ? `: ${said}` : ''})`,
      warnings: parsed.warnings,
    };
  }
  // A non-zero exit with some rows (a lost GPU among good ones) still yields the good ones.
  const warnings = result.exitCode === 0 ? parsed.warnings : [...parsed.warnings, `nvidia-smi exited with code ${result.exitCode ?? 'none'}`];
  return { kind: 'found', gpus: parsed.gpus, warnings };
}
