/**
 * The stdout contract of `process` and `container` trainers: one JSON object per line (anything
 * else is a log line). Documented in the agent README ("Trainer contract").
 *
 * ```
 * {"step": 12, "loss": 1.93, "stepTimeMs": 812, "tokensPerS": 10100, "totalSteps": 500, "gpuUtilizationPct": 97}
 * {"type": "validation", "step": 100, "promptCount": 4, "totalTimeMs": 3200}
 * {"type": "checkpoint", "step": 100, "path": "step-100"}
 * {"type": "log", "message": "loaded 12000 examples"}
 * ```
 *
 * `type` may be left out on step lines. Only `step` is required on a step line; the agent measures
 * the time between step lines when `stepTimeMs` is missing.
 */
export type TrainerMessage =
  | { kind: 'step'; step: number; loss: number | null; stepTimeMs: number | null; tokensPerS: number | null; totalSteps: number | null; gpuUtilizationPct: number | null }
  | { kind: 'validation'; step: number; promptCount: number; totalTimeMs: number }
  | { kind: 'checkpoint'; step: number; path: string }
  | { kind: 'log'; line: string }
  /** A JSON line that looks like a message but breaks the contract; logged with the reason. */
  | { kind: 'invalid'; line: string; reason: string };

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isNonNegative = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function optional(value: unknown, valid: (value: unknown) => boolean, field: string): { ok: true; value: number | null } | { ok: false; reason: string } {
  if (value === undefined || value === null) return { ok: true, value: null };
  return valid(value) ? { ok: true, value: value as number } : { ok: false, reason: `${field} must be a finite number ≥ 0` };
}

export function parseTrainerLine(rawLine: string): TrainerMessage {
  const line = rawLine.replace(/\r$/, '');
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return { kind: 'log', line };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { kind: 'log', line };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'log', line };
  const object = value as Record<string, unknown>;
  const type = object.type ?? (object.step !== undefined ? 'step' : undefined);
  switch (type) {
    case 'step': {
      if (!isCount(object.step)) return { kind: 'invalid', line, reason: 'step must be an integer ≥ 0' };
      if (object.loss !== undefined && object.loss !== null && !(typeof object.loss === 'number' && Number.isFinite(object.loss))) {
        return { kind: 'invalid', line, reason: 'loss must be a finite number' };
      }
      const stepTimeMs = optional(object.stepTimeMs, isNonNegative, 'stepTimeMs');
      const tokensPerS = optional(object.tokensPerS, isNonNegative, 'tokensPerS');
      const totalSteps = optional(object.totalSteps, (v) => isCount(v) && v > 0, 'totalSteps');
      const gpu = optional(object.gpuUtilizationPct, (v) => isNonNegative(v) && v <= 100, 'gpuUtilizationPct');
      for (const field of [stepTimeMs, tokensPerS, totalSteps, gpu]) if (!field.ok) return { kind: 'invalid', line, reason: field.reason };
      return {
        kind: 'step',
        step: object.step,
        loss: typeof object.loss === 'number' ? object.loss : null,
        stepTimeMs: (stepTimeMs as { value: number | null }).value,
        tokensPerS: (tokensPerS as { value: number | null }).value,
        totalSteps: (totalSteps as { value: number | null }).value,
        gpuUtilizationPct: (gpu as { value: number | null }).value,
      };
    }
    case 'validation':
      if (!isCount(object.step) || !isCount(object.promptCount) || object.promptCount === 0 || !isNonNegative(object.totalTimeMs)) {
        return { kind: 'invalid', line, reason: 'a validation line needs step, promptCount (≥ 1) and totalTimeMs' };
      }
      return { kind: 'validation', step: object.step, promptCount: object.promptCount, totalTimeMs: object.totalTimeMs };
    case 'checkpoint':
      if (!isCount(object.step) || typeof object.path !== 'string' || object.path.trim() === '') {
        return { kind: 'invalid', line, reason: 'a checkpoint line needs step and path' };
      }
      return { kind: 'checkpoint', step: object.step, path: object.path };
    case 'log':
      return typeof object.message === 'string' ? { kind: 'log', line: object.message } : { kind: 'invalid', line, reason: 'a log line needs a message string' };
    default:
      // JSON the contract does not know (a library's structured log, say): keep it as a log line.
      return { kind: 'log', line };
  }
}
