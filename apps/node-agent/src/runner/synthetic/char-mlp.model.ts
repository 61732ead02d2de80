/**
 * The synthetic trainer's model: a small character-level MLP language model (Bengio-style: the
 * embeddings of the previous `contextLength` characters → one tanh hidden layer → softmax over the
 * vocabulary), trained with real back-propagation and Adam on the dataset's text. Plain TypeScript
 * over Float32Arrays; everything random comes from a seeded PRNG whose state is part of the
 * checkpoint, so a run is deterministic given its seed and a resumed run continues the same stream.
 *
 * Work per step is bounded by `tokensPerStep` (positions in the batch), so a step costs the same on
 * any dataset size: about 6 · tokensPerStep · (contextLength·embedDim·hiddenDim + hiddenDim·vocab) flops.
 */

export interface CharMlpConfig {
  contextLength: number;
  embedDim: number;
  hiddenDim: number;
  /** Positions (next-character predictions) per optimizer step. */
  tokensPerStep: number;
  learningRate: number;
  seed: number;
}

export const DEFAULT_CHAR_MLP_CONFIG: CharMlpConfig = {
  contextLength: 4,
  embedDim: 16,
  hiddenDim: 64,
  tokensPerStep: 128,
  learningRate: 0.01,
  seed: 42,
};

/** Most distinct characters kept; the rest map to the "other" token 0. */
export const MAX_VOCAB_SIZE = 96;

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/** mulberry32: a small, fast 32-bit PRNG whose whole state is one uint32. */
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/**
 * The vocabulary of a text: the most frequent characters (ties broken by code point, so it is a pure
 * function of the text), index 0 reserved for padding and characters outside the vocabulary.
 */
export function buildVocabulary(text: string, maxSize = MAX_VOCAB_SIZE): string[] {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  const chars = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!)
    .slice(0, maxSize - 1)
    .map(([char]) => char);
  return ['', ...chars];
}

export function encodeText(text: string, vocabulary: readonly string[]): Uint8Array {
  const index = new Map(vocabulary.map((char, i) => [char, i]));
  const chars = [...text];
  const tokens = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i += 1) tokens[i] = index.get(chars[i]!) ?? 0;
  return tokens;
}

interface Layout {
  vocabSize: number;
  embed: number;
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  total: number;
}

function layoutOf(config: CharMlpConfig, vocabSize: number): Layout {
  const inputDim = config.contextLength * config.embedDim;
  const embed = 0;
  const w1 = embed + vocabSize * config.embedDim;
  const b1 = w1 + inputDim * config.hiddenDim;
  const w2 = b1 + config.hiddenDim;
  const b2 = w2 + config.hiddenDim * vocabSize;
  return { vocabSize, embed, w1, b1, w2, b2, total: b2 + vocabSize };
}

export interface CharMlpState {
  config: CharMlpConfig;
  vocabulary: string[];
  /** Optimizer steps taken so far. */
  step: number;
  rngState: number;
  params: Float32Array;
  adamM: Float32Array;
  adamV: Float32Array;
}

export class CharMlp {
  readonly config: CharMlpConfig;
  readonly vocabulary: string[];
  step: number;
  private readonly rng: Rng;
  private readonly layout: Layout;
  private readonly params: Float32Array;
  private readonly adamM: Float32Array;
  private readonly adamV: Float32Array;
  private readonly grad: Float32Array;
  // scratch buffers, reused every position
  private readonly x: Float32Array;
  private readonly h: Float32Array;
  private readonly probs: Float32Array;
  private readonly dh: Float32Array;
  private readonly dx: Float32Array;
  private readonly context: Int32Array;

  private constructor(state: CharMlpState) {
    this.config = state.config;
    this.vocabulary = state.vocabulary;
    this.step = state.step;
    this.rng = new Rng(state.rngState);
    this.layout = layoutOf(state.config, state.vocabulary.length);
    if (state.params.length !== this.layout.total || state.adamM.length !== this.layout.total || state.adamV.length !== this.layout.total) {
      throw new Error(`checkpoint does not match the model shape (${state.params.length} parameters, expected ${this.layout.total})`);
    }
    this.params = state.params;
    this.adamM = state.adamM;
    this.adamV = state.adamV;
    this.grad = new Float32Array(this.layout.total);
    this.x = new Float32Array(state.config.contextLength * state.config.embedDim);
    this.h = new Float32Array(state.config.hiddenDim);
    this.probs = new Float32Array(this.layout.vocabSize);
    this.dh = new Float32Array(state.config.hiddenDim);
    this.dx = new Float32Array(this.x.length);
    this.context = new Int32Array(state.config.contextLength);
  }

  /** A freshly initialised model (scaled normal weights from the seed). */
  static create(vocabulary: string[], config: CharMlpConfig = DEFAULT_CHAR_MLP_CONFIG): CharMlp {
    const layout = layoutOf(config, vocabulary.length);
    const rng = new Rng(config.seed);
    const params = new Float32Array(layout.total);
    const fill = (from: number, to: number, scale: number) => {
      for (let i = from; i < to; i += 1) params[i] = rng.normal() * scale;
    };
    fill(layout.embed, layout.w1, 1);
    fill(layout.w1, layout.b1, 1 / Math.sqrt(config.contextLength * config.embedDim));
    fill(layout.w2, layout.b2, 1 / Math.sqrt(config.hiddenDim));
    return new CharMlp({ config, vocabulary, step: 0, rngState: rng.state, params, adamM: new Float32Array(layout.total), adamV: new Float32Array(layout.total) });
  }

  static fromState(state: CharMlpState): CharMlp {
    return new CharMlp({ ...state, params: state.params.slice(), adamM: state.adamM.slice(), adamV: state.adamV.slice() });
  }

  state(): CharMlpState {
    return {
      config: this.config,
      vocabulary: this.vocabulary,
      step: this.step,
      rngState: this.rng.state,
      params: this.params.slice(),
      adamM: this.adamM.slice(),
      adamV: this.adamV.slice(),
    };
  }

  get parameterCount(): number {
    return this.layout.total;
  }

  /**
   * One optimizer step on `tokensPerStep` positions drawn from `tokens`: forward, cross-entropy,
   * back-propagation, Adam. Returns the batch's mean loss (nats per character) before the update.
   */
  trainStep(tokens: Uint8Array): number {
    if (tokens.length < 2) throw new Error('the dataset has too little text to train on (fewer than 2 characters)');
    const { contextLength, tokensPerStep } = this.config;
    this.grad.fill(0);
    let lossSum = 0;
    for (let b = 0; b < tokensPerStep; b += 1) {
      const position = 1 + this.rng.int(tokens.length - 1);
      this.fillContext(tokens, position);
      lossSum += this.accumulate(tokens[position]!, 1 / tokensPerStep);
    }
    this.applyAdam();
    this.step += 1;
    return lossSum / tokensPerStep;
  }

  /** Mean loss over (up to `maxPositions` evenly spaced) positions of `tokens`, without training. */
  evaluate(tokens: Uint8Array, maxPositions = 512): number {
    const count = Math.min(maxPositions, tokens.length - 1);
    if (count <= 0) return Number.NaN;
    let lossSum = 0;
    for (let i = 0; i < count; i += 1) {
      const position = 1 + Math.floor((i * (tokens.length - 1)) / count);
      this.fillContext(tokens, position);
      this.forward();
      lossSum -= Math.log(Math.max(this.probs[tokens[position]!]!, 1e-12));
    }
    return lossSum / count;
  }

  /** Continues `prompt` by `length` characters, sampling with a PRNG seeded by `seed` (the training stream is untouched). */
  generate(prompt: string, length: number, seed: number): string {
    const promptTokens = encodeText(prompt, this.vocabulary);
    const tokens = new Uint8Array(promptTokens.length + length + 1);
    tokens.set(promptTokens);
    const rng = new Rng(seed);
    let out = '';
    for (let i = 0; i < length; i += 1) {
      const position = promptTokens.length + i;
      this.fillContext(tokens, position);
      this.forward();
      let r = rng.next();
      let choice = this.probs.length - 1;
      for (let v = 0; v < this.probs.length; v += 1) {
        r -= this.probs[v]!;
        if (r <= 0) {
          choice = v;
          break;
        }
      }
      tokens[position] = choice;
      out += this.vocabulary[choice] ?? '';
    }
    return out;
  }

  private fillContext(tokens: Uint8Array, position: number): void {
    const { contextLength } = this.config;
    for (let c = 0; c < contextLength; c += 1) {
      const from = position - contextLength + c;
      this.context[c] = from >= 0 ? tokens[from]! : 0;
    }
  }

  private forward(): void {
    const { contextLength, embedDim, hiddenDim } = this.config;
    const { vocabSize, embed, w1, b1, w2, b2 } = this.layout;
    const p = this.params;
    const inputDim = contextLength * embedDim;
    for (let c = 0; c < contextLength; c += 1) {
      const row = embed + this.context[c]! * embedDim;
      for (let d = 0; d < embedDim; d += 1) this.x[c * embedDim + d] = p[row + d]!;
    }
    for (let j = 0; j < hiddenDim; j += 1) this.h[j] = p[b1 + j]!;
    for (let i = 0; i < inputDim; i += 1) {
      const xi = this.x[i]!;
      if (xi === 0) continue;
      const row = w1 + i * hiddenDim;
      for (let j = 0; j < hiddenDim; j += 1) this.h[j]! += xi * p[row + j]!;
    }
    for (let j = 0; j < hiddenDim; j += 1) this.h[j] = Math.tanh(this.h[j]!);
    for (let v = 0; v < vocabSize; v += 1) this.probs[v] = p[b2 + v]!;
    for (let j = 0; j < hiddenDim; j += 1) {
      const hj = this.h[j]!;
      const row = w2 + j * vocabSize;
      for (let v = 0; v < vocabSize; v += 1) this.probs[v]! += hj * p[row + v]!;
    }
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v += 1) max = Math.max(max, this.probs[v]!);
    let sum = 0;
    for (let v = 0; v < vocabSize; v += 1) {
      const e = Math.exp(this.probs[v]! - max);
      this.probs[v] = e;
      sum += e;
    }
    for (let v = 0; v < vocabSize; v += 1) this.probs[v]! /= sum;
  }

  /** Forward + backward for one position; adds `weight` × the gradient into `grad`; returns the loss. */
  private accumulate(target: number, weight: number): number {
    this.forward();
    const { contextLength, embedDim, hiddenDim } = this.config;
    const { vocabSize, embed, w1, b1, w2, b2 } = this.layout;
    const p = this.params;
    const g = this.grad;
    const inputDim = contextLength * embedDim;
    const loss = -Math.log(Math.max(this.probs[target]!, 1e-12));
    // dLogits = (probs - onehot) · weight; reuse probs as dLogits
    this.probs[target]! -= 1;
    for (let v = 0; v < vocabSize; v += 1) this.probs[v]! *= weight;
    for (let v = 0; v < vocabSize; v += 1) g[b2 + v]! += this.probs[v]!;
    for (let j = 0; j < hiddenDim; j += 1) {
      const hj = this.h[j]!;
      const row = w2 + j * vocabSize;
      let dhj = 0;
      for (let v = 0; v < vocabSize; v += 1) {
        const dl = this.probs[v]!;
        g[row + v]! += hj * dl;
        dhj += p[row + v]! * dl;
      }
      this.dh[j] = dhj * (1 - hj * hj);
    }
    for (let j = 0; j < hiddenDim; j += 1) g[b1 + j]! += this.dh[j]!;
    for (let i = 0; i < inputDim; i += 1) {
      const xi = this.x[i]!;
      const row = w1 + i * hiddenDim;
      let dxi = 0;
      for (let j = 0; j < hiddenDim; j += 1) {
        const dpre = this.dh[j]!;
        g[row + j]! += xi * dpre;
        dxi += p[row + j]! * dpre;
      }
      this.dx[i] = dxi;
    }
    for (let c = 0; c < contextLength; c += 1) {
      const row = embed + this.context[c]! * embedDim;
      for (let d = 0; d < embedDim; d += 1) g[row + d]! += this.dx[c * embedDim + d]!;
    }
    return loss;
  }

  private applyAdam(): void {
    const t = this.step + 1;
    const lr = (this.config.learningRate * Math.sqrt(1 - BETA2 ** t)) / (1 - BETA1 ** t);
    const { params, adamM, adamV, grad } = this;
    for (let i = 0; i < params.length; i += 1) {
      const gi = grad[i]!;
      const m = (adamM[i] = BETA1 * adamM[i]! + (1 - BETA1) * gi);
      const v = (adamV[i] = BETA2 * adamV[i]! + (1 - BETA2) * gi * gi);
      params[i]! -= (lr * m) / (Math.sqrt(v) + EPSILON);
    }
  }
}

// ---- checkpoint format ----------------------------------------------------------------------

const MAGIC = 'ANSCKPT1';
const FORMAT = 'anneal-synthetic-char-mlp';

/**
 * Serialises a model state: 8 bytes magic `ANSCKPT1`, uint32 LE header length, the UTF-8 JSON
 * header (format, step, rng state, config, vocabulary, parameter count), padding to 4 bytes, then
 * params, Adam m and Adam v as float32 LE.
 */
export function encodeCheckpoint(state: CharMlpState): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ format: FORMAT, version: 1, step: state.step, rngState: state.rngState, config: state.config, vocabulary: state.vocabulary, parameterCount: state.params.length }),
  );
  const headerEnd = 12 + header.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const n = state.params.length;
  const bytes = new Uint8Array(dataStart + n * 4 * 3);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, header.length, true);
  bytes.set(header, 12);
  const floats = new Float32Array(bytes.buffer, dataStart, n * 3);
  floats.set(state.params, 0);
  floats.set(state.adamM, n);
  floats.set(state.adamV, 2 * n);
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array): CharMlpState {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new Error('not a synthetic-trainer checkpoint (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new Error('truncated checkpoint header');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as {
    format: string;
    step: number;
    rngState: number;
    config: CharMlpConfig;
    vocabulary: string[];
    parameterCount: number;
  };
  if (header.format !== FORMAT) throw new Error(`unknown checkpoint format '${header.format}'`);
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const n = header.parameterCount;
  if (bytes.length < dataStart + n * 12) throw new Error('truncated checkpoint weights');
  // copy out: the input may be unaligned, or a Buffer viewing a larger pooled ArrayBuffer
  const copy = new Uint8Array(n * 12);
  copy.set(bytes.subarray(dataStart, dataStart + n * 12));
  const floats = new Float32Array(copy.buffer);
  return {
    config: header.config,
    vocabulary: header.vocabulary,
    step: header.step,
    rngState: header.rngState,
    params: floats.slice(0, n),
    adamM: floats.slice(n, 2 * n),
    adamV: floats.slice(2 * n, 3 * n),
  };
}
