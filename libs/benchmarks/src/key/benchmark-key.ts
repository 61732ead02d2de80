/**
 * The benchmark key: what a step time is a measurement of.
 *
 *   recipe            base model family + parameter count, method (lora | qlora | full)
 *   hardware profile  canonical GPU id × count
 *   shape bucket      sequence length bucket, or image megapixels (nearest 0.5 MP) × frames
 *   batch size        the GLOBAL micro-batch: samples per forward/backward pass summed over all
 *                     data-parallel GPUs (so a job's step count does not depend on the offer)
 *   gradient accumulation, precision, quantization
 *
 * One optimizer step processes batchSize × gradAccum samples; its "work" (tokens per step for
 * text, megapixel-frames per step for images) is what neighbouring buckets are scaled by.
 */

export const METHODS = ['lora', 'qlora', 'full'] as const;
export type Method = (typeof METHODS)[number];

/** Training compute precision. 'fp32' includes TF32 tensor math where the GPU has it. */
export const PRECISIONS = ['fp32', 'fp16', 'bf16', 'fp8', 'fp4'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Quantization of the frozen base weights. 'fp8-wo' is fp8 weight-only. */
export const QUANTIZATIONS = ['none', 'nf4', 'int4', 'int8', 'fp8', 'fp8-wo'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

/** A concrete training shape. */
export type Shape = { kind: 'seq'; seqLen: number } | { kind: 'image'; width: number; height: number; frames: number };

/** The bucket a shape falls in. */
export type ShapeBucket = { kind: 'seq'; seqLen: number } | { kind: 'image'; megapixels: number; frames: number };

export interface BenchmarkKey {
  family: string;
  paramsB: number;
  method: Method;
  gpuId: string;
  gpuCount: number;
  shape: ShapeBucket;
  batchSize: number;
  gradAccum: number;
  precision: Precision;
  quantization: Quantization;
}

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && (METHODS as readonly string[]).includes(value);
}
export function isPrecision(value: unknown): value is Precision {
  return typeof value === 'string' && (PRECISIONS as readonly string[]).includes(value);
}
export function isQuantization(value: unknown): value is Quantization {
  return typeof value === 'string' && (QUANTIZATIONS as readonly string[]).includes(value);
}

/**
 * Sequence-length bucket: the nearest (on a log scale) of 2^k and 1.5 × 2^k, at least 32.
 * 384 → 384, 1000 → 1024, 3000 → 3072, 5000 → 4096.
 */
export function seqLenBucket(seqLen: number): number {
  const clamped = Math.max(32, seqLen);
  const l = Math.log2(clamped);
  const k = Math.floor(l);
  let best = 2 ** k;
  for (const candidate of [1.5 * 2 ** (k - 1), 2 ** k, 1.5 * 2 ** k, 2 ** (k + 1)]) {
    const distance = Math.abs(Math.log2(candidate) - l);
    const bestDistance = Math.abs(Math.log2(best) - l);
    if (distance < bestDistance - 1e-12 || (Math.abs(distance - bestDistance) <= 1e-12 && candidate > best)) best = candidate;
  }
  return Math.max(32, best);
}

/** Image resolution rounded to the nearest 0.5 megapixel, at least 0.5. */
export function megapixelBucket(width: number, height: number): number {
  const mp = (width * height) / 1_000_000;
  return Math.max(0.5, Math.round(mp * 2) / 2);
}

export function shapeBucket(shape: Shape): ShapeBucket {
  if (shape.kind === 'seq') return { kind: 'seq', seqLen: seqLenBucket(shape.seqLen) };
  return { kind: 'image', megapixels: megapixelBucket(shape.width, shape.height), frames: Math.max(1, Math.round(shape.frames)) };
}

/** Parameter count as written in keys: three significant digits. */
export function canonicalParamsB(paramsB: number): number {
  return Number(paramsB.toPrecision(3));
}

export function shapeBucketString(shape: ShapeBucket): string {
  if (shape.kind === 'seq') return `seq${shape.seqLen}`;
  return `img${shape.megapixels.toFixed(1)}mp${shape.frames > 1 ? `x${shape.frames}f` : ''}`;
}

function recipePart(key: Pick<BenchmarkKey, 'family' | 'paramsB' | 'method'>): string {
  return `${key.family}/${canonicalParamsB(key.paramsB)}b/${key.method}`;
}

/**
 * The key as one string, e.g. 'llama-3/8.03b/lora|rtx-4090x1|seq2048|b2|ga1|bf16|none'.
 * Equal keys give equal strings; {@link parseKeyString} reads it back.
 */
export function keyToString(key: BenchmarkKey): string {
  return [
    recipePart(key),
    `${key.gpuId}x${key.gpuCount}`,
    shapeBucketString(key.shape),
    `b${key.batchSize}`,
    `ga${key.gradAccum}`,
    key.precision,
    key.quantization,
  ].join('|');
}

/** Parses a key string written by {@link keyToString}; undefined for anything else. */
export function parseKeyString(text: string): BenchmarkKey | undefined {
  const parts = text.split('|');
  if (parts.length !== 7) return undefined;
  const [recipe, hardware, shape, batch, accum, precision, quantization] = parts as [string, string, string, string, string, string, string];
  const recipeMatch = /^(.+)\/(\d+(?:\.\d+)?(?:e[-+]?\d+)?)b\/([a-z]+)$/.exec(recipe);
  const hardwareMatch = /^(.+)x(\d+)$/.exec(hardware);
  const batchMatch = /^b(\d+)$/.exec(batch);
  const accumMatch = /^ga(\d+)$/.exec(accum);
  if (!recipeMatch || !hardwareMatch || !batchMatch || !accumMatch) return undefined;
  const method = recipeMatch[3];
  if (!isMethod(method) || !isPrecision(precision) || !isQuantization(quantization)) return undefined;
  let bucket: ShapeBucket;
  const seq = /^seq(\d+(?:\.\d+)?)$/.exec(shape);
  const img = /^img(\d+(?:\.\d+)?)mp(?:x(\d+)f)?$/.exec(shape);
  if (seq) bucket = { kind: 'seq', seqLen: Number(seq[1]) };
  else if (img) bucket = { kind: 'image', megapixels: Number(img[1]), frames: img[2] ? Number(img[2]) : 1 };
  else return undefined;
  return {
    family: recipeMatch[1]!,
    paramsB: Number(recipeMatch[2]),
    method,
    gpuId: hardwareMatch[1]!,
    gpuCount: Number(hardwareMatch[2]),
    shape: bucket,
    batchSize: Number(batchMatch[1]),
    gradAccum: Number(accumMatch[1]),
    precision,
    quantization,
  };
}

/** Builds a key with canonical numbers (params to three digits). */
export function makeKey(key: BenchmarkKey): BenchmarkKey {
  return { ...key, paramsB: canonicalParamsB(key.paramsB) };
}

/** Work units in one sample of this shape: tokens (text) or megapixel-frames (image). */
export function workPerSample(shape: ShapeBucket): number {
  return shape.kind === 'seq' ? shape.seqLen : shape.megapixels * shape.frames;
}

/** Work per optimizer step: batch × grad-accum × (seq len | megapixels × frames). */
export function workPerStep(key: Pick<BenchmarkKey, 'shape' | 'batchSize' | 'gradAccum'>): number {
  return key.batchSize * key.gradAccum * workPerSample(key.shape);
}

/** Precision classes whose speeds transfer between GPUs alike. */
export function precisionClass(precision: Precision): 'fp32' | 'half' | 'low' {
  if (precision === 'fp32') return 'fp32';
  if (precision === 'fp16' || precision === 'bf16') return 'half';
  return 'low';
}

/** Everything but the hardware and the batch composition: keys in one such group differ only by GPU, count, batch, accumulation and shape size. */
export function recipeGroupString(key: BenchmarkKey): string {
  return [recipePart(key), key.shape.kind, key.precision, key.quantization].join('|');
}

/** Same recipe group on the same GPU model (any count): the candidates for scaling. */
export function sameGpuGroupString(key: BenchmarkKey): string {
  return `${recipeGroupString(key)}|${key.gpuId}`;
}

/**
 * The workload a GPU pair is compared on: everything but the GPU and the split of the step into
 * micro-batch and accumulation. Times are compared per unit of work.
 */
export function speedGroupString(key: BenchmarkKey): string {
  return [recipePart(key), `x${key.gpuCount}`, shapeBucketString(key.shape), key.precision, key.quantization].join('|');
}

/** The context a relative speed is learned in: shape kind and precision class. */
export function speedContextString(key: Pick<BenchmarkKey, 'shape' | 'precision'>): string {
  return `${key.shape.kind}|${precisionClass(key.precision)}`;
}
