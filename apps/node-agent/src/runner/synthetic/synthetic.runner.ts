import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { AttemptRecipe } from '@anneal/providers';
import { AttemptWorkspace } from '../io/attempt-workspace.js';
import { exitReasonFor, type Runner, type RunnerContext, type RunOutcome, type StopRequest } from '../runner.js';
import { RunningStats } from '../step-stats.js';
import { buildVocabulary, CharMlp, decodeCheckpoint, DEFAULT_CHAR_MLP_CONFIG, encodeCheckpoint, encodeText, type CharMlpConfig } from './char-mlp.model.js';

/** At most this much of the dataset is read as training text (bounded memory on any dataset). */
export const MAX_TRAINING_TEXT_BYTES = 8 * 1024 * 1024;
/** Characters generated per validation prompt. */
export const VALIDATION_SAMPLE_CHARS = 48;
/** Step count when the recipe gives epochs: capped so a demo stays a demo. */
export const MAX_SYNTHETIC_STEPS = 100_000;

export interface SyntheticRunnerOptions {
  /** Overrides of the model shape (tests). Recipe hyperparameters still win for seed, learning rate and tokens per step. */
  model?: Partial<CharMlpConfig>;
  /** Log a progress line every N steps. */
  logEverySteps?: number;
}

/**
 * The built-in `synthetic` trainer, for demos and tests: it really trains, on the CPU, a small
 * character-level MLP language model on the downloaded dataset's text (see {@link CharMlp}), so the
 * loss values, step times and tokens/s it reports are measured, not made up. It follows the full
 * attempt protocol: streams step metrics, batched logs and validation timings; uploads interval
 * checkpoints and a final one (also when stopped, with the stop's reason); uploads `model.bin` and
 * `metrics.json` as the artifact; resumes from the assignment's checkpoint.
 *
 * Recipe hyperparameters it reads: `seed` (default 42), `syntheticLearningRate` (default 0.01;
 * the recipe's `learningRate` is meant for the real model and is ignored), `syntheticTokensPerStep`
 * (default batchSize × gradientAccumulation × 16, within 16–1024), `checkpointIntervalSteps`
 * (default a fifth of the run).
 */
export class SyntheticRunner implements Runner {
  readonly name = 'synthetic-char-mlp';
  readonly measuresTraining = true;

  constructor(private readonly options: SyntheticRunnerOptions = {}) {}

  async run(context: RunnerContext): Promise<RunOutcome> {
    const ws = new AttemptWorkspace(context);
    const stepTimes = new RunningStats();
    let lastLoss: number | null = null;
    let steps = 0;
    const outcome = (exitReason: RunOutcome['exitReason'], message: string | null): RunOutcome => ({
      exitReason,
      message,
      steps,
      loss: lastLoss,
      stepTimeMsMean: stepTimes.meanOrNull(),
      artifactKeys: [...ws.uploadedKeys],
    });
    try {
      await ws.prepare();
      await ws.downloadDataset();
      const text = await readTrainingText(ws.datasetPath);
      const recipe = context.assignment.attempt.recipe;
      const config = modelConfig(recipe, this.options.model);
      let model: CharMlp;
      const resumeStep = await ws.downloadResumeCheckpoint();
      if (resumeStep !== null) {
        model = CharMlp.fromState(decodeCheckpoint(await readFile(ws.resumePath)));
        ws.log('agent', `resumed from the checkpoint of step ${model.step}`);
      } else {
        model = CharMlp.create(buildVocabulary(text), config);
      }
      const tokens = encodeText(text, model.vocabulary);
      if (tokens.length < model.config.contextLength + 2) {
        ws.log('agent', 'the dataset has too little text to train on');
        await ws.finishLogs().catch(() => null);
        return outcome('error', `the dataset has too little text to train on (${tokens.length} characters)`);
      }
      const totalSteps = totalStepsFor(recipe, tokens.length, model.config.tokensPerStep);
      const checkpointEvery = positiveInt(recipe.hyperparameters.checkpointIntervalSteps) ?? Math.max(1, Math.ceil(totalSteps / 5));
      const logEvery = this.options.logEverySteps ?? Math.max(1, Math.ceil(totalSteps / 20));
      ws.log(
        'agent',
        `synthetic trainer: character-level MLP (${model.parameterCount} parameters, vocabulary ${model.vocabulary.length}, context ${model.config.contextLength}) ` +
          `on ${tokens.length} characters, ${model.config.tokensPerStep} tokens per step, ${totalSteps} steps, on the CPU`,
      );

      const saveCheckpoint = async (reason: Parameters<AttemptWorkspace['uploadCheckpoint']>[2]) => {
        const path = join(ws.checkpointDir, `step-${model.step}.ckpt`);
        await writeFile(path, encodeCheckpoint(model.state()));
        await ws.uploadCheckpoint(path, model.step, reason);
      };

      let stop: StopRequest | null = null;
      while (model.step < totalSteps) {
        if (context.signal.aborted) {
          stop = context.signal.reason as StopRequest;
          break;
        }
        const started = performance.now();
        const loss = model.trainStep(tokens);
        const stepTimeMs = performance.now() - started;
        steps += 1;
        lastLoss = loss;
        stepTimes.add(stepTimeMs);
        context.report({
          type: 'step',
          step: model.step,
          totalSteps,
          loss,
          stepTimeMs,
          tokensPerS: stepTimeMs > 0 ? (model.config.tokensPerStep * 1000) / stepTimeMs : null,
          gpuUtilizationPct: context.gpuUtilizationPct(),
        });
        if (model.step % logEvery === 0 || model.step === totalSteps) ws.log('stdout', `step ${model.step}/${totalSteps} loss ${loss.toFixed(4)} (${stepTimeMs.toFixed(2)} ms)`);
        const validation = recipe.validation;
        if (validation && validation.prompts.length > 0 && model.step % validation.intervalSteps === 0) this.validate(model, validation.prompts, context, ws);
        if (model.step % checkpointEvery === 0 && model.step < totalSteps && ws.canCheckpointOnInterval()) await saveCheckpoint('interval');
        // Let heartbeats, control messages and event publishing run between steps.
        await yieldToEventLoop();
      }

      if (stop) {
        const reason = exitReasonFor(stop);
        ws.log('agent', `stopped at step ${model.step} (${reason}); saving a final checkpoint`);
        await saveCheckpoint(reason);
        await ws.finishLogs();
        return outcome(reason, `stopped at step ${model.step} of ${totalSteps} (${stopText(stop)}); final checkpoint saved`);
      }

      await saveCheckpoint('completed');
      const evalLoss = model.evaluate(tokens);
      await writeFile(join(ws.outputDir, 'model.bin'), encodeCheckpoint(model.state()));
      await writeFile(
        join(ws.outputDir, 'metrics.json'),
        `${JSON.stringify(
          {
            model: 'synthetic character-level MLP',
            steps: model.step,
            stepsThisAttempt: steps,
            resumedFromStep: resumeStep,
            finalTrainLoss: lastLoss,
            evalLoss,
            stepTimeMsMean: stepTimes.meanOrNull(),
            stepTimeMsVariance: stepTimes.variance,
            parameterCount: model.parameterCount,
            vocabularySize: model.vocabulary.length,
            tokensPerStep: model.config.tokensPerStep,
          },
          null,
          2,
        )}\n`,
      );
      await ws.uploadOutputs();
      ws.log('agent', `completed ${totalSteps} steps, eval loss ${evalLoss.toFixed(4)}`);
      await ws.finishLogs();
      return outcome('completed', `trained ${steps} steps; final loss ${lastLoss?.toFixed(4) ?? 'n/a'}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (context.signal.aborted) {
        // stopped while downloading, or the final checkpoint could not be uploaded: still a stop
        ws.log('agent', `stopped; ${message}`);
        ws.logs.flush();
        return outcome(exitReasonFor(context.signal.reason as StopRequest), `stopped after ${steps} steps: ${message}`);
      }
      ws.log('agent', `synthetic trainer failed: ${message}`);
      ws.logs.flush();
      return outcome('error', message);
    }
  }

  private validate(model: CharMlp, prompts: string[], context: RunnerContext, ws: AttemptWorkspace): void {
    const started = performance.now();
    prompts.forEach((prompt, index) => {
      const sample = model.generate(prompt, VALIDATION_SAMPLE_CHARS, model.config.seed + model.step * 1000 + index);
      ws.log('stdout', `validation step ${model.step} prompt ${index + 1}: ${JSON.stringify(prompt.slice(0, 200))} → ${JSON.stringify(sample)}`);
    });
    const totalTimeMs = performance.now() - started;
    context.report({ type: 'validation', step: model.step, promptCount: prompts.length, timePerPromptMs: totalTimeMs / prompts.length, totalTimeMs });
  }
}

function stopText(stop: StopRequest): string {
  switch (stop.kind) {
    case 'cancel':
      return `canceled: ${stop.reason}`;
    case 'drain':
      return 'the node is draining';
    case 'max_duration':
      return 'the maximum duration was reached';
    case 'budget':
      return 'the budget ran out';
  }
}

function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

function positiveNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/** The model configuration for a recipe (hyperparameters documented on {@link SyntheticRunner}). */
export function modelConfig(recipe: AttemptRecipe, overrides: Partial<CharMlpConfig> = {}): CharMlpConfig {
  const h = recipe.hyperparameters;
  const defaultTokens = Math.min(1024, Math.max(16, recipe.batchSize * recipe.gradientAccumulation * 16));
  return {
    ...DEFAULT_CHAR_MLP_CONFIG,
    ...overrides,
    seed: positiveInt(h.seed) ?? overrides.seed ?? DEFAULT_CHAR_MLP_CONFIG.seed,
    learningRate: positiveNumber(h.syntheticLearningRate) ?? overrides.learningRate ?? DEFAULT_CHAR_MLP_CONFIG.learningRate,
    tokensPerStep: Math.min(4096, positiveInt(h.syntheticTokensPerStep) ?? overrides.tokensPerStep ?? defaultTokens),
  };
}

/** The recipe's steps, or epochs over the text at `tokensPerStep` positions per step (capped). */
export function totalStepsFor(recipe: AttemptRecipe, textLength: number, tokensPerStep: number): number {
  if (recipe.steps !== null) return recipe.steps;
  const epochs = recipe.epochs ?? 1;
  return Math.min(MAX_SYNTHETIC_STEPS, Math.max(1, Math.ceil((epochs * textLength) / tokensPerStep)));
}

/** The first {@link MAX_TRAINING_TEXT_BYTES} of the dataset as text. */
async function readTrainingText(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_TRAINING_TEXT_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } finally {
    await file.close();
  }
}
