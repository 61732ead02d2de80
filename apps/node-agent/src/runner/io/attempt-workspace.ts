import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_SLOTS_PER_ATTEMPT, type PresignedPut, type UploadSlot } from '@anneal/providers';
import { Backoff, sleep } from '../../agent/backoff.js';
import type { RunnerContext } from '../runner.js';
import { LogBatcher, type LogStream } from './log-batcher.js';
import { downloadToFile, isRefusedUrl, isTransientTransferFailure, TransferError, uploadFile, type DownloadOptions } from './presigned-transfer.js';
import { writeTarFile } from './tar-archive.js';

export type CheckpointReason = 'interval' | 'completed' | 'canceled' | 'preempted' | 'max_duration_exceeded' | 'budget_exhausted';

/** Uploads are not tied to the attempt's stop signal (the final checkpoint is uploaded after a stop), only to this limit per try. */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

/** How a transfer is retried: tries in all, and the backoff between transient failures. */
export interface TransferRetryPolicy {
  tries: number;
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_TRANSFER_RETRIES: TransferRetryPolicy = { tries: 5, initialMs: 1_000, maxMs: 30_000 };

/**
 * The files of one attempt and their way in and out: the dataset and a resume checkpoint come in
 * through presigned GETs (streamed to disk, size and hash checked), checkpoints, the output
 * archive and the log archive go out through presigned PUTs. A URL the assignment carries is used
 * as it is; one it does not carry is asked of the API (attempt token) right before the transfer,
 * and so is a fresh one when the store refuses a URL (expired: 401/403). Transient failures
 * (network, 5xx, 408, 429) are retried with backoff, each retry with a fresh URL from the API.
 * URLs are secrets: no log line or error message contains one. Reports `checkpoint` and `log`
 * events through the runner context. Layout under the context's workDir:
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

  constructor(
    private readonly context: RunnerContext,
    private readonly retries: TransferRetryPolicy = DEFAULT_TRANSFER_RETRIES,
  ) {
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
    const options: DownloadOptions = { expectedSizeBytes: dataset.sizeBytes, sha256: dataset.sha256, signal: this.context.signal, what: 'dataset' };
    const result = await this.withUrl(
      'dataset',
      dataset.getUrl,
      this.api && (async () => (await this.api!.datasetDownload(this.context.signal)).getUrl),
      (url) => downloadToFile(url, this.datasetPath, options),
      this.context.signal,
    );
    this.log('agent', `dataset downloaded: ${result.sizeBytes} bytes, sha256 ${result.sha256.slice(0, 12)}…`);
    return result.sizeBytes;
  }

  /** Downloads the assignment's resume checkpoint, if it has one; returns its step or null. */
  async downloadResumeCheckpoint(): Promise<number | null> {
    const resume = this.context.assignment.resumeCheckpoint;
    if (!resume) return null;
    const fresh = async () => {
      const answer = await this.api!.resumeCheckpointDownload(this.context.signal);
      // Never train on from a step other than the one the assignment announced.
      if (answer.step !== resume.step) throw new TransferError('resume_step_mismatch', `the API's resume checkpoint is from step ${answer.step}, the assignment's from step ${resume.step}`);
      return answer.getUrl;
    };
    const options: DownloadOptions = { expectedSizeBytes: resume.sizeBytes, signal: this.context.signal, what: 'resume checkpoint' };
    const result = await this.withUrl('resume checkpoint', resume.getUrl, this.api && fresh, (url) => downloadToFile(url, this.resumePath, options), this.context.signal);
    this.log('agent', `resume checkpoint downloaded: step ${resume.step}, ${result.sizeBytes} bytes`);
    return resume.step;
  }

  /** Checkpoint slots of this attempt: the assignment's pre-minted ones, else the API's. */
  private get checkpointSlots(): number {
    return this.context.assignment.uploads?.checkpoints?.length ?? CHECKPOINT_SLOTS_PER_ATTEMPT;
  }

  /**
   * Whether an interval checkpoint may be taken: the last checkpoint slot is always kept for the
   * final checkpoint (at the end, or when the attempt is stopped).
   */
  canCheckpointOnInterval(): boolean {
    return this.checkpointSlots - this.nextCheckpointSlot > 1;
  }

  /**
   * Uploads a checkpoint (a file, or a directory sent as a tar) to the next slot and reports the
   * `checkpoint` event. Returns the key, or null when no slot is left (logged once).
   */
  async uploadCheckpoint(path: string, step: number, reason: CheckpointReason): Promise<string | null> {
    if (reason === 'interval' && !this.canCheckpointOnInterval()) return null;
    if (this.nextCheckpointSlot >= this.checkpointSlots) {
      if (!this.warnedNoSlots) this.log('agent', 'no checkpoint upload slot left; further checkpoints stay on this node only');
      this.warnedNoSlots = true;
      return null;
    }
    const index = this.nextCheckpointSlot;
    this.nextCheckpointSlot += 1;
    const given = this.context.assignment.uploads?.checkpoints?.[index];
    const { key, sizeBytes } = await this.put({ kind: 'checkpoint', number: index + 1 }, given, path, 'checkpoint');
    this.context.report({ type: 'checkpoint', step, key, sizeBytes, reason });
    this.log('agent', `checkpoint uploaded: step ${step} (${reason}), ${sizeBytes} bytes`);
    return key;
  }

  /** Archives `output/` as one tar and uploads it to the artifact slot; returns the key and the files archived. */
  async uploadOutputs(): Promise<{ key: string; files: string[] } | null> {
    const archive = join(this.context.workDir, 'output.tar');
    const files = await writeTarFile(archive, this.outputDir, { mtimeS: Math.floor(this.context.nowMs() / 1000) });
    if (files.length === 0) {
      this.log('agent', 'the trainer wrote no output files; no artifact uploaded');
      return null;
    }
    const { key, sizeBytes } = await this.put({ kind: 'artifact' }, this.context.assignment.uploads?.artifact, archive, 'artifact', 'application/x-tar');
    this.log('agent', `artifact uploaded: ${files.join(', ')} (${sizeBytes} bytes, tar)`);
    return { key, files };
  }

  /**
   * Flushes pending log events and uploads the log archive: to the assignment's slot, or to the
   * API's when the assignment has none; an assignment whose `uploads.logs` is null wants none.
   */
  async finishLogs(): Promise<string | null> {
    this.logs.flush();
    const given = this.context.assignment.uploads?.logs;
    if (given === null) return null;
    const path = join(this.context.workDir, 'logs.txt');
    await writeFile(path, this.logs.archiveText(), { mode: 0o600 });
    return (await this.put({ kind: 'logs' }, given, path, 'log archive', 'text/plain; charset=utf-8')).key;
  }

  private get api() {
    return this.context.storage;
  }

  private async put(slot: UploadSlot, given: PresignedPut | undefined, path: string, what: string, contentType?: string): Promise<{ key: string; sizeBytes: number }> {
    let source = path;
    if ((await stat(path)).isDirectory()) {
      source = `${path.replace(/\/+$/, '')}.tar`;
      await writeTarFile(source, path);
    }
    const result = await this.withUrl<PresignedPut, { key: string; sizeBytes: number }>(
      what,
      given,
      this.api && (() => this.api!.upload(slot, AbortSignal.timeout(UPLOAD_TIMEOUT_MS))),
      async (target) => {
        const sizeBytes = await uploadFile(target.putUrl, source, { signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS), what, ...(contentType ? { contentType } : {}), ...(target.headers ? { headers: target.headers } : {}) });
        return { key: target.key, sizeBytes };
      },
    );
    this.uploadedKeys.push(result.key);
    return result;
  }

  /**
   * Runs `transfer` with a URL: the assignment's (`given`) while it works, else a fresh one from the
   * API right before each try. A URL the store refuses (401/403: expired, or its signature does not
   * hold) is renewed from the API at once; a transient failure is retried after a backoff.
   */
  private async withUrl<U, R>(what: string, given: U | undefined, fresh: (() => Promise<U>) | null, transfer: (target: U) => Promise<R>, signal?: AbortSignal): Promise<R> {
    const backoff = new Backoff(this.retries.initialMs, this.retries.maxMs);
    let useGiven = given !== undefined;
    for (let attempt = 1; ; attempt += 1) {
      if (!useGiven && !fresh) throw new TransferError(what === 'dataset' || what === 'resume checkpoint' ? 'download_failed' : 'upload_failed', `the assignment has no URL for the ${what} and this agent knows no API to ask for one`);
      const fromApi = !useGiven;
      const target = useGiven ? given! : await fresh!();
      try {
        return await transfer(target);
      } catch (error) {
        if (attempt >= this.retries.tries || signal?.aborted) throw error;
        if (isRefusedUrl(error) && fresh && !fromApi) {
          this.log('agent', `the store refused the assignment's URL for the ${what} (${(error as Error).message}); asking the API for a fresh one`);
          useGiven = false;
          continue;
        }
        // A fresh URL refused too may be clock skew at the store: worth another try, after a pause.
        if (!isTransientTransferFailure(error) && !(isRefusedUrl(error) && fromApi)) throw error;
        const delayMs = backoff.next();
        this.log('agent', `${(error as Error).message}; trying again in ${(delayMs / 1000).toFixed(1)} s (try ${attempt + 1} of ${this.retries.tries})`);
        await sleep(delayMs, signal);
        if (signal?.aborted) throw error;
      }
    }
  }
}
