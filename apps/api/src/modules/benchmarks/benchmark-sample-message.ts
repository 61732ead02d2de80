/**
 * The message on `<prefix>.anneal.benchmarks.samples`: `{ sampleId, sample, simulated? }`, or a
 * protocol sample carrying its own `sampleId` field.
 *
 * `sampleId` is a random UUID the finished attempt chose for its sample (never the attempt id): it
 * makes ingestion idempotent. `sample` is either the community protocol's `BenchmarkSample`
 * (`schemaVersion`, `baseModelId`, …, `simulated`) or `@anneal/benchmarks`' sample (`family`,
 * `paramsB`, …). Either way the sample is checked field by field: any field that is not allowed
 * (a `userId`, a `nodeId`) rejects the whole message with `unexpected_fields` — never stripped —
 * and every sample passes `validateSample` before it is merged. Samples from simulated nodes are
 * dropped: they must never feed real estimates.
 */
import { lookupModel, validateSample, type BenchmarkSample as LibSample, type Quantization } from '@anneal/benchmarks';
import { benchmarkSampleSchema, parseBenchmarkSample, type BenchmarkSample as ProtocolSample } from '@anneal/providers';

export type SampleRejectionCode = 'not_an_object' | 'unexpected_fields' | 'invalid_field' | 'invalid_payload' | 'unsupported_schema_version' | 'unknown_model' | 'malformed_json';

export type SampleMessage =
  | { kind: 'sample'; sampleId: string; sample: LibSample }
  | { kind: 'simulated'; sampleId: string }
  | { kind: 'rejected'; code: SampleRejectionCode; message: string; fields?: string[] };

const ENVELOPE_FIELDS = new Set(['sampleId', 'sample', 'simulated']);
const PROTOCOL_FIELDS = new Set(Object.keys(benchmarkSampleSchema.shape));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejected(code: SampleRejectionCode, message: string, fields?: string[]): SampleMessage {
  return fields ? { kind: 'rejected', code, message, fields } : { kind: 'rejected', code, message };
}

/** Parses a message body (already JSON-decoded). */
export function readSampleMessage(message: unknown): SampleMessage {
  if (!isRecord(message)) return rejected('not_an_object', 'a benchmark sample message must be a JSON object');
  // A bare protocol sample that carries its own sampleId (once the protocol has one) is read as
  // the envelope { sampleId, sample }.
  let input: Record<string, unknown> = message;
  if ('schemaVersion' in message && 'sampleId' in message) {
    const { sampleId, ...rest } = message;
    input = { sampleId, sample: PROTOCOL_FIELDS.has('sampleId') ? message : rest };
  }
  const extra = Object.keys(input).filter((field) => !ENVELOPE_FIELDS.has(field));
  if (extra.length > 0) return rejected('unexpected_fields', `the message carries fields that are not allowed: ${extra.join(', ')}`, extra);
  const { sampleId, sample } = input;
  if (typeof sampleId !== 'string' || !UUID.test(sampleId)) return rejected('invalid_field', 'sampleId must be a UUID');
  if (input.simulated !== undefined && typeof input.simulated !== 'boolean') return rejected('invalid_field', 'simulated must be true or false when present');
  if (!isRecord(sample)) return rejected('not_an_object', 'sample must be a JSON object');

  if ('schemaVersion' in sample) {
    const unexpected = Object.keys(sample).filter((field) => !PROTOCOL_FIELDS.has(field));
    if (unexpected.length > 0) return rejected('unexpected_fields', `sample carries fields that are not allowed: ${unexpected.join(', ')}`, unexpected);
    const parsed = parseBenchmarkSample(sample);
    if (!parsed.ok) return rejected(parsed.error.code === 'unsupported_schema_version' ? 'unsupported_schema_version' : 'invalid_payload', parsed.error.message);
    if (parsed.value.simulated || input.simulated === true) return { kind: 'simulated', sampleId: sampleId.toLowerCase() };
    const mapped = fromProtocolSample(parsed.value);
    if (!mapped.ok) return mapped.rejection;
    return validated(sampleId, mapped.value);
  }
  if (input.simulated === true) return { kind: 'simulated', sampleId: sampleId.toLowerCase() };
  return validated(sampleId, sample);
}

function validated(sampleId: string, candidate: unknown): SampleMessage {
  const result = validateSample(candidate);
  if (!result.ok) {
    const error = result.error;
    return rejected(error.code, error.message, error.code === 'unexpected_fields' ? error.fields : error.code === 'invalid_field' ? [error.field] : undefined);
  }
  return { kind: 'sample', sampleId: sampleId.toLowerCase(), sample: result.value };
}

/**
 * The protocol's sample as the benchmark library's: the model id becomes its family and size (the
 * id itself is dropped), the 0.5-megapixel resolution becomes a square of that area.
 */
export function fromProtocolSample(sample: ProtocolSample): { ok: true; value: Record<string, unknown> } | { ok: false; rejection: SampleMessage } {
  const model = lookupModel(sample.baseModelId);
  if (model.kind === 'unknown') return { ok: false, rejection: rejected('unknown_model', 'the sample names a model that is not in the registry and whose name does not say its size') };
  const quantization: Quantization = sample.quantization ?? 'none';
  const method = sample.method === 'lora' && (quantization === 'nf4' || quantization === 'int4') ? 'qlora' : sample.method;
  let shape: Record<string, unknown>;
  if (sample.sequenceLength !== null && sample.imageMegapixels === null) shape = { kind: 'seq', seqLen: sample.sequenceLength };
  else if (sample.imageMegapixels !== null && sample.sequenceLength === null) {
    const side = Math.round(Math.sqrt(sample.imageMegapixels * 1_000_000));
    shape = { kind: 'image', width: side, height: side, frames: 1 };
  } else return { ok: false, rejection: rejected('invalid_field', 'a sample has either a sequence length or an image resolution', ['sequenceLength', 'imageMegapixels']) };
  const out: Record<string, unknown> = {
    family: model.model.family,
    paramsB: model.model.paramsB,
    method,
    gpuId: sample.gpuId,
    gpuCount: sample.gpuCount,
    shape,
    batchSize: sample.batchSize,
    gradAccum: sample.gradientAccumulation,
    precision: sample.precision,
    quantization,
    stepTimeMs: sample.stepTimeMsMean,
    stepsObserved: sample.stepsObserved,
  };
  if (sample.validationTimePerPromptMsMean !== null && sample.validationPromptsObserved > 0 && sample.validationTimePerPromptMsMean > 0) {
    out.validationMsPerPrompt = sample.validationTimePerPromptMsMean;
  }
  return { ok: true, value: out };
}
