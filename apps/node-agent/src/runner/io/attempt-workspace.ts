import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PresignedPut } from '@anneal/providers';
import type { RunnerContext } from '../runner.js';
import { LogBatcher, type LogStream } from './log-batcher.js';
import { downloadToFile, isTransientUploadFailure, uploadFile } from './presigned-transfer.js';
import { writeTarFile } from './tar-archive.js';

export type CheckpointReason = 'interval' | 'completed' | 'canceled' | 'preempted' | 'max_duration_exceeded' | 'budget_exhausted';

/** Uploads are not tied to the attempt's stop signal (the final checkpoint is uploaded after a stop), only to this limit. */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;
/** Tries per upload when the failure looks transient (network, 5xx, 408, 429). */
const UPLOAD_TRIES = 4;

/**
 * The files of one attempt and their way in and out: the dataset and a resume checkpoint come in
 * through presigned GETs (streamed to disk, size and hash checked), checkpoints, the output
 * archive and the log archive go out through the assignment's presigned PUT slots. Reports
 * `checkpoint` and `log` events through the runner context. Layout under the context's workDir:
 *
 * ```
 * dataset/data        the dataset, as downloaded
 * resume/checkpoint   the checkpoint to resume from (when the assignment has one)
 * checkpoints/        where a trainer writes checkpoints
 * output/             where a trainer writes its final artifacts (archived as one tar)
 * recipe.json         the recipe
 * ```
 */
export class AttemptWorkspace {
  readonly logs: LogBatcher;
  readonly datasetDir: string;
  readonly datasetPath: string;
  readonly resumeDir: string;
  readonly resumePath: string;
  readonly checkpointDir: string;
  readonly outputDir: string;
  readonly recipePath: string;
  /** Every object key uploaded, in order (for the `finished` event). */
  readonly uploadedKeys: string[] = [];
  private nextCheckpointSlot = 0;
  private warnedNoSlots = false;

  constructor(private readonly context: RunnerContext) {
    this.logs = new LogBatcher((event) => context.report(event));
    const dir = context.workDir;
    this.datasetDir = join(dir, 'dataset');
    this.datasetPath = join(this.datasetDir, 'data');
    this.resumeDir = join(dir, 'resume');
    this.resumePath = join(this.resumeDir, 'checkpoint');
    this.checkpointDir = join(dir, 'checkpoints');
    this.outputDir = join(dir, 'output');
    this.recipePath = join(dir, 'recipe.json');
  }

  async prepare(): Promise<void> {
    for (const dir of [this.datasetDir, this.resumeDir, this.checkpointDir, this.outputDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(this.recipePath, `${JSON.stringify(this.context.assignment.attempt.recipe, null, 2)}\n`, { mode: 0o600 });
  }

  log(stream: LogStream, line: string): void {
    this.logs.add(stream, line);
  }

  async downloadDataset(): Promise<number> {
    const { dataset } = this.context.assignment;
    const result = await downloadToFile(dataset.getUrl, this.datasetPath, { expectedSizeBytes: dataset.sizeBytes, sha256: dataset.sha256, signal: this.context.signal, what: 'dataset' });
    this.log('agent', `dataset downloaded: ${result.sizeBytes} bytes, sha256 ${result.sha256.slice(0, 12)}…`);
    return result.sizeBytes;
  }

  /** Downloads the assignment's resume checkpoint, if it has one; returns its step or null. */
  async downloadResumeCheckpoint(): Promise<number | null> {
    const resume = this.context.assignment.resumeCheckpoint;
    if (!resume) return null;
    const result = await downloadToFile(resume.getUrl, this.resumePath, { expectedSizeBytes: resume.sizeBytes, signal: this.context.signal, what: 'resume checkpoint' });
    this.log('agent', `resume checkpoint downloaded: step ${resume.step}, ${result.sizeBytes} bytes`);
    return resume.step;
  }

  /**
   * Whether an interval checkpoint may be taken: the last checkpoint slot is always kept for the
   * final checkpoint (at the end, or when the attempt is stopped).
   */
  canCheckpointOnInterval(): boolean {
    return this.context.assignment.uploads.checkpoints.length - this.nextCheckpointSlot > 1;
  }

  /**
   * Uploads a checkpoint (a file, or a directory sent as a tar) to the next presigned slot and
   * reports the `checkpoint` event. Returns the key, or null when no slot is left (logged once).
   */
  async uploadCheckpoint(path: string, step: number, reason: CheckpointReason): Promise<string | null> {
    if (reason === 'interval' && !this.canCheckpointOnInterval()) return null;
    const slot = this.context.assignment.uploads.checkpoints[this.nextCheckpointSlot];
    if (!slot) {
      if (!this.warnedNoSlots) this.log('agent', 'no checkpoint upload slot left; further checkpoints stay on this node only');
      this.warnedNoSlots = true;
      return null;
    }
    this.nextCheckpointSlot += 1;
    const sizeBytes = await this.put(slot, path, 'checkpoint');
    this.context.report({ type: 'checkpoint', step, key: slot.key, sizeBytes, reason });
    this.log('agent', `checkpoint uploaded: step ${step} (${reason}), ${sizeBytes} bytes`);
    return slot.key;
  }

  /** Archives `output/` as one tar and uploads it to the artifact slot; returns the key and the files archived. */
  async uploadOutputs(): Promise<{ key: string; files: string[] } | null> {
    const archive = join(this.context.workDir, 'output.tar');
    const files = await writeTarFile(archive, this.outputDir, { mtimeS: Math.floor(this.context.nowMs() / 1000) });
    if (files.length === 0) {
      this.log('agent', 'the trainer wrote no output files; no artifact uploaded');
      return null;
    }
    const slot = this.context.assignment.uploads.artifact;
    const sizeBytes = await this.put(slot, archive, 'artifact', 'application/x-tar');
    this.log('agent', `artifact uploaded: ${files.join(', ')} (${sizeBytes} bytes, tar)`);
    return { key: slot.key, files };
  }

  /** Flushes pending log events and uploads the log archive when the assignment has a slot for it. */
  async finishLogs(): Promise<string | null> {
    this.logs.flush();
    const slot = this.context.assignment.uploads.logs;
    if (!slot) return null;
    const path = join(this.context.workDir, 'logs.txt');
    await writeFile(path, this.logs.archiveText(), { mode: 0o600 });
    await this.put(slot, path, 'log archive', 'text/plain; charset=utf-8');
    return slot.key;
  }

  private async put(slot: PresignedPut, path: string, what: string, contentType?: string): Promise<number> {
    let source = path;
    if ((await stat(path)).isDirectory()) {
      source = `${path.replace(/\/+$/, '')}.tar`;
      await writeTarFile(source, path);
    }
    const sizeBytes = await uploadFile(slot.putUrl, source, { signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS), what, ...(contentType ? { contentType } : {}), ...(slot.headers ? { headers: slot.headers } : {}) });
    this.uploadedKeys.push(slot.key);
    return sizeBytes;
  }
}
