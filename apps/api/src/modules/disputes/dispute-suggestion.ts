/**
 * What the evidence suggests an admin should decide about a disputed attempt. Pure: the same
 * evidence always gives the same suggestion, so the admin sees why and a test can pin it down.
 * An admin decides; this only proposes.
 */

export type SuggestedOutcome = 'full_refund' | 'partial_refund' | 'no_refund';

/** The part of the frozen evidence bundle the rules read. */
export interface SuggestionInput {
  /** What the customer was charged for the attempt (micro-dollars). */
  chargedMicros: bigint;
  /** The GPU model the offer promised (catalog id or name) and what the node reported; null when unknown. */
  offeredGpu: string;
  reportedGpu: string | null;
  /** Whether the reported GPU is the offered one; null when the node reported nothing to compare. */
  gpuMatches: boolean | null;
  /** How long before the attempt ended the node had stopped sending heartbeats (seconds); null when it never went quiet. */
  offlineBeforeEndSeconds: number | null;
  /** Measured step time (mean of the attempt's steps) against the benchmark for the job's key; null when either is missing. */
  stepTime: { measuredMeanMs: number; benchmarkP50Ms: number; benchmarkP90Ms: number } | null;
}

export interface SuggestionRules {
  /** A node quiet at least this long before the end counts as offline (default 120 s). */
  offlineThresholdSeconds: number;
  /** Measured step time at least this multiple of the benchmark p90 counts as slower than offered (default 2). */
  slowFactor: number;
}

export const DEFAULT_SUGGESTION_RULES: SuggestionRules = { offlineThresholdSeconds: 120, slowFactor: 2 };

export interface DisputeSuggestion {
  outcome: SuggestedOutcome;
  /** The refund suggested (micro-dollars), 0 for no refund; never more than was charged. */
  refundMicros: bigint;
  /** The sentence the admin reads first. */
  reason: string;
  /** Every anomaly found, most serious first (the reason names the first). */
  findings: string[];
}

/** "11 min", "45 s", "2 h 5 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

function usd(micros: bigint): string {
  const cents = (micros + 5_000n) / 10_000n;
  return `$${(cents / 100n).toString()}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/**
 * The rules, most serious first: a GPU other than the one offered → full refund; the node offline
 * for a while before the attempt ended → full refund; steps at least `slowFactor` × the benchmark
 * p90 → a partial refund of the time beyond the p90 (charged × (1 − p90 / measured)); otherwise
 * "no anomaly found". Nothing charged → nothing to refund, whatever the findings.
 */
export function suggestDisputeOutcome(input: SuggestionInput, rules: SuggestionRules = DEFAULT_SUGGESTION_RULES): DisputeSuggestion {
  const findings: { outcome: SuggestedOutcome; refundMicros: bigint; text: string }[] = [];
  const charged = input.chargedMicros > 0n ? input.chargedMicros : 0n;

  if (input.gpuMatches === false) {
    findings.push({ outcome: 'full_refund', refundMicros: charged, text: `the node reported ${input.reportedGpu ?? 'another GPU'} but the offer was for ${input.offeredGpu}` });
  }
  if (input.offlineBeforeEndSeconds !== null && input.offlineBeforeEndSeconds >= rules.offlineThresholdSeconds) {
    findings.push({ outcome: 'full_refund', refundMicros: charged, text: `node offline ${formatDuration(input.offlineBeforeEndSeconds)} before completion` });
  }
  const step = input.stepTime;
  if (step && step.benchmarkP90Ms > 0 && step.measuredMeanMs >= rules.slowFactor * step.benchmarkP90Ms) {
    const ratio = step.measuredMeanMs / step.benchmarkP90Ms;
    // Refund the share of the time spent beyond the benchmark's p90, in whole micro-dollars (rounded down).
    const keepPpm = BigInt(Math.ceil((step.benchmarkP90Ms / step.measuredMeanMs) * 1_000_000));
    const refund = charged - (charged * keepPpm + 999_999n) / 1_000_000n;
    findings.push({
      outcome: 'partial_refund',
      refundMicros: refund > 0n ? refund : 0n,
      text: `step time ${ratio.toFixed(1)}× the benchmark p90 (${Math.round(step.measuredMeanMs)} ms measured, p90 ${Math.round(step.benchmarkP90Ms)} ms)`,
    });
  }

  const texts = findings.map((f) => f.text);
  const first = findings[0];
  if (!first) return { outcome: 'no_refund', refundMicros: 0n, reason: 'No anomaly found in the evidence: no refund suggested.', findings: [] };
  if (charged === 0n) return { outcome: 'no_refund', refundMicros: 0n, reason: `${capitalize(first.text)}, but nothing was charged for this attempt: no refund needed.`, findings: texts };
  if (first.outcome === 'full_refund') {
    return { outcome: 'full_refund', refundMicros: charged, reason: `${capitalize(first.text)}: full refund of this attempt (${usd(charged)}) suggested.`, findings: texts };
  }
  if (first.refundMicros === 0n) return { outcome: 'no_refund', refundMicros: 0n, reason: `${capitalize(first.text)}, but the refund would round to nothing: no refund suggested.`, findings: texts };
  const pct = Number((first.refundMicros * 1000n) / charged) / 10;
  return {
    outcome: 'partial_refund',
    refundMicros: first.refundMicros,
    reason: `${capitalize(first.text)}: partial refund of ${usd(first.refundMicros)} (${pct}% of ${usd(charged)}) suggested.`,
    findings: texts,
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
