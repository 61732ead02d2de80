// A stand-in trainer that follows the agent's trainer contract (README, "Trainer contract"):
// reads the recipe and dataset from ANNEAL_* env, prints JSON lines, writes checkpoints and
// outputs, and on SIGTERM writes a final checkpoint, prints it and exits. Used by the process and
// container runner tests (the fake `docker` runs it as the "container").
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const recipe = JSON.parse(readFileSync(env.ANNEAL_RECIPE_PATH, 'utf8'));
const datasetBytes = statSync(env.ANNEAL_DATASET_PATH).size;
const total = Number(env.ANNEAL_TOTAL_STEPS ?? recipe.steps ?? 10);
const stepMs = Number(env.FAKE_TRAINER_STEP_MS ?? 10);
const checkpointEvery = Number(env.FAKE_TRAINER_CHECKPOINT_EVERY ?? 0);
const validationEvery = Number(env.ANNEAL_VALIDATION_INTERVAL_STEPS ?? 0);
const failAt = Number(env.FAKE_TRAINER_FAIL_AT_STEP ?? 0);
let step = Number(env.ANNEAL_RESUME_STEP ?? 0);

const print = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);
const checkpoint = (name) => {
  const dir = join(env.ANNEAL_CHECKPOINT_DIR, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), `fake weights at step ${step}\n`);
  print({ type: 'checkpoint', step, path: name });
};

console.log(`fake trainer: ${recipe.baseModelId} ${recipe.method}, dataset ${datasetBytes} bytes, steps ${step + 1}..${total}`);
console.error('fake trainer: a warning on stderr');
if (env.ANNEAL_RESUME_CHECKPOINT_PATH) console.log(`resuming from ${readFileSync(env.ANNEAL_RESUME_CHECKPOINT_PATH, 'utf8').length} checkpoint bytes`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return; // the process group and the fake docker may both deliver it
  stopping = true;
  try {
    checkpoint(`step-${step}-final`);
  } catch (error) {
    console.error(`fake trainer: final checkpoint failed: ${error}`);
  }
  console.error('fake trainer: stopped on SIGTERM');
  process.exit(143);
});

const timer = setInterval(() => {
  if (stopping) return;
  step += 1;
  if (failAt && step === failAt) {
    console.error('CUDA error: out of memory (fake)');
    process.exit(3);
  }
  // every other step leaves the timing to the agent
  print(step % 2 === 0 ? { step, loss: 3 / Math.sqrt(step), stepTimeMs: stepMs, tokensPerS: 1000, totalSteps: total } : { step, loss: 3 / Math.sqrt(step) });
  if (step % 5 === 0) console.log(`plain progress text at step ${step}`);
  if (validationEvery && step % validationEvery === 0) print({ type: 'validation', step, promptCount: 2, totalTimeMs: 30 });
  if (checkpointEvery && step % checkpointEvery === 0 && step < total) checkpoint(`step-${step}`);
  if (step >= total) {
    clearInterval(timer);
    checkpoint(`step-${step}`);
    writeFileSync(join(env.ANNEAL_OUTPUT_DIR, 'model.bin'), `fake model trained for ${step} steps\n`);
    writeFileSync(join(env.ANNEAL_OUTPUT_DIR, 'metrics.json'), `${JSON.stringify({ steps: step, loss: 3 / Math.sqrt(step) })}\n`);
    process.exit(0);
  }
}, stepMs);
