import { ID_MESSAGE, ID_PATTERN, INSTANT_PATTERN, PROTOCOL_SCHEMA_VERSION } from './common.schema.js';
import { GPU_TELEMETRY_LIMITS, gpuTelemetrySchema } from './gpu-telemetry.schema.js';
import { HEARTBEAT_LIMITS, heartbeatSchema, nodeStateSchema, runningAttemptSchema, type Heartbeat } from './heartbeat.schema.js';
import { invalidPayload, unsupportedSchemaVersion, type ParseResult } from './protocol-error.js';

/**
 * `heartbeatSchema`'s rules, hand-written. The API checks every heartbeat of every node (tens of
 * thousands a second); zod builds a result object, a context and an issue list per call and costs
 * several times this. Same outcome for every input as `parseMessage(heartbeatSchema, …)` (accepted
 * or not, and which fields are wrong: heartbeat.validator.spec.ts compares them on generated
 * inputs), with the same codes: `unsupported_schema_version` for another schemaVersion,
 * `invalid_payload` with 'path: problem' issues otherwise. An accepted heartbeat is returned as is
 * (not copied).
 */
export function validateHeartbeat(input: unknown): ParseResult<Heartbeat> {
  if (isObject(input) && 'schemaVersion' in input && input.schemaVersion !== PROTOCOL_SCHEMA_VERSION) return unsupportedSchemaVersion(input.schemaVersion);
  const issues: string[] = [];
  if (!isObject(input)) {
    issues.push(`(root): expected an object, received ${kindOf(input)}`);
    return invalidPayload(issues);
  }
  const hb = input;
  if (hb.schemaVersion !== PROTOCOL_SCHEMA_VERSION) issues.push(`schemaVersion: expected ${PROTOCOL_SCHEMA_VERSION}`);
  if (hb.type !== 'heartbeat') issues.push(`type: expected "heartbeat"`);
  id(hb.nodeId, 'nodeId', issues);
  count(hb.seq, 'seq', issues);
  instant(hb.sentAt, 'sentAt', issues);
  string(hb.agentVersion, 'agentVersion', 1, HEARTBEAT_LIMITS.agentVersionMaxLength, issues);
  number(hb.uptimeS, 'uptimeS', 0, Number.POSITIVE_INFINITY, issues);
  if (typeof hb.simulated !== 'boolean') issues.push(`simulated: expected a boolean, received ${kindOf(hb.simulated)}`);
  if (!NODE_STATES.has(hb.state as string)) issues.push(`state: expected one of ${nodeStateSchema.options.join('|')}`);
  gpus(hb.gpus, issues);
  if (hb.runningAttempt !== null) runningAttempt(hb.runningAttempt, issues);
  strict(hb, HEARTBEAT_KEYS, '', issues);
  return issues.length === 0 ? { ok: true, value: input as unknown as Heartbeat } : invalidPayload(issues);
}

const HEARTBEAT_KEYS = new Set(Object.keys(heartbeatSchema.shape));
const GPU_KEYS = new Set(Object.keys(gpuTelemetrySchema.shape));
const RUNNING_ATTEMPT_KEYS = new Set(Object.keys(runningAttemptSchema.shape));
const NODE_STATES = new Set<string>(nodeStateSchema.options);
const PHASES = new Set<string>(runningAttemptSchema.shape.phase.options);

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

function at(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/** A strict object: every key must be one of the schema's. */
function strict(value: Fields, keys: Set<string>, path: string, issues: string[]): void {
  const own = Object.keys(value);
  if (own.length <= keys.size && own.every((key) => keys.has(key))) return;
  const unknown = own.filter((key) => !keys.has(key));
  if (unknown.length > 0) issues.push(`${path || '(root)'}: unrecognized key${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
}

function number(value: unknown, path: string, min: number, max: number, issues: string[]): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    issues.push(`${path}: expected a number, received ${kindOf(value)}`);
    return false;
  }
  if (value < min) issues.push(`${path}: expected a number >= ${min}`);
  else if (value > max) issues.push(`${path}: expected a number <= ${max}`);
  else return true;
  return false;
}

function count(value: unknown, path: string, issues: string[]): void {
  if (typeof value === 'number' && Number.isFinite(value) && !Number.isSafeInteger(value)) issues.push(`${path}: expected an integer`);
  else number(value, path, 0, Number.POSITIVE_INFINITY, issues);
}

function string(value: unknown, path: string, min: number, max: number, issues: string[]): void {
  if (typeof value !== 'string') issues.push(`${path}: expected a string, received ${kindOf(value)}`);
  else if (value.length < min) issues.push(`${path}: expected at least ${min} character${min === 1 ? '' : 's'}`);
  else if (value.length > max) issues.push(`${path}: expected at most ${max} characters`);
}

function id(value: unknown, path: string, issues: string[]): void {
  if (typeof value !== 'string') issues.push(`${path}: expected a string, received ${kindOf(value)}`);
  else if (!ID_PATTERN.test(value)) issues.push(`${path}: ${ID_MESSAGE}`);
}

function instant(value: unknown, path: string, issues: string[]): void {
  if (typeof value !== 'string') issues.push(`${path}: expected a string, received ${kindOf(value)}`);
  else if (!INSTANT_PATTERN.test(value)) issues.push(`${path}: expected an ISO-8601 UTC instant (…Z)`);
}

function gpus(value: unknown, issues: string[]): void {
  if (!Array.isArray(value)) {
    issues.push(`gpus: expected an array, received ${kindOf(value)}`);
    return;
  }
  // Too many GPUs: the schema reports only that (its length check comes first), and an oversized
  // array is not walked.
  if (value.length > HEARTBEAT_LIMITS.maxGpus) {
    issues.push(`gpus: expected at most ${HEARTBEAT_LIMITS.maxGpus} items`);
    return;
  }
  const limits = GPU_TELEMETRY_LIMITS;
  for (let i = 0; i < value.length; i += 1) {
    const gpu: unknown = value[i];
    const path = `gpus.${i}`;
    if (!isObject(gpu)) {
      issues.push(`${path}: expected an object, received ${kindOf(gpu)}`);
      continue;
    }
    count(gpu.index, `${path}.index`, issues);
    string(gpu.name, `${path}.name`, 1, limits.nameMaxLength, issues);
    if (gpu.gpuId !== null) string(gpu.gpuId, `${path}.gpuId`, 1, limits.gpuIdMaxLength, issues);
    if (gpu.vramTotalMb !== null) count(gpu.vramTotalMb, `${path}.vramTotalMb`, issues);
    if (gpu.vramUsedMb !== null) count(gpu.vramUsedMb, `${path}.vramUsedMb`, issues);
    if (gpu.utilizationPct !== null) number(gpu.utilizationPct, `${path}.utilizationPct`, limits.utilizationPct.min, limits.utilizationPct.max, issues);
    if (gpu.temperatureC !== null) number(gpu.temperatureC, `${path}.temperatureC`, limits.temperatureC.min, limits.temperatureC.max, issues);
    if (gpu.powerW !== null) number(gpu.powerW, `${path}.powerW`, limits.powerW.min, limits.powerW.max, issues);
    strict(gpu, GPU_KEYS, path, issues);
  }
}

function runningAttempt(value: unknown, issues: string[]): void {
  const path = 'runningAttempt';
  if (!isObject(value)) {
    issues.push(`${path}: expected an object or null, received ${kindOf(value)}`);
    return;
  }
  id(value.attemptId, at(path, 'attemptId'), issues);
  id(value.jobId, at(path, 'jobId'), issues);
  if (!PHASES.has(value.phase as string)) issues.push(`${path}.phase: expected one of ${runningAttemptSchema.shape.phase.options.join('|')}`);
  if (value.startedAt !== null) instant(value.startedAt, at(path, 'startedAt'), issues);
  if (value.step !== null) count(value.step, at(path, 'step'), issues);
  strict(value, RUNNING_ATTEMPT_KEYS, path, issues);
}
