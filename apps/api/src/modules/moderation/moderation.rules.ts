import type { ModerationReason } from './entities/moderation-result.entity.js';

/** What moderation checks against; built once from configuration. */
export interface ModerationPolicy {
  blockedTerms: readonly string[];
  /** Lower-case base model ids; an entry ending in `*` matches every id with that prefix. */
  disallowedBaseModels: readonly string[];
  /** Lower-case licence ids (SPDX, plus `own-data`). */
  allowedLicenses: readonly string[];
}

export interface ModerationSettings {
  MODERATION_BLOCKED_TERMS: string;
  MODERATION_DISALLOWED_BASE_MODELS: string;
  MODERATION_ALLOWED_LICENSES: string;
}

function list(value: string): string[] {
  return [...new Set(value.split(',').map((item) => item.trim().toLowerCase()).filter(Boolean))];
}

export function moderationPolicyFromConfig(config: ModerationSettings): ModerationPolicy {
  return {
    blockedTerms: list(config.MODERATION_BLOCKED_TERMS).map(normalizeForMatching).filter((term) => term.trim().length > 0),
    disallowedBaseModels: list(config.MODERATION_DISALLOWED_BASE_MODELS),
    allowedLicenses: list(config.MODERATION_ALLOWED_LICENSES),
  };
}

/**
 * Lower case, accents folded, every run of non-letters/digits one space, padded with spaces:
 * "Child_Porn-v2.jsonl" → " child porn v2 jsonl ". Terms match whole words only.
 */
export function normalizeForMatching(text: string): string {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  const words = folded.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
  return words ? ` ${words} ` : ' ';
}

/** Blocked terms that occur in the text as whole words, in policy order. */
export function findBlockedTerms(text: string, blockedTerms: readonly string[]): string[] {
  const haystack = normalizeForMatching(text);
  return blockedTerms.filter((term) => haystack.includes(term)).map((term) => term.trim());
}

export interface DatasetModerationInput {
  name: string;
  format: string;
  declaredLicense: string | null;
  /** File names inside an archive (tar/zip), where they could be read. */
  fileNames: readonly string[];
}

/** At most this many offending file names are named in a reason; the rest are counted. */
const MAX_NAMED_FILES = 5;

export function checkDataset(policy: ModerationPolicy, input: DatasetModerationInput): ModerationReason[] {
  const reasons: ModerationReason[] = [];
  const inName = findBlockedTerms(input.name, policy.blockedTerms);
  if (inName.length > 0) {
    reasons.push({ code: 'blocked_term_in_name', message: `The dataset name contains blocked terms: ${inName.map((t) => `"${t}"`).join(', ')}.` });
  }
  const offending: { fileName: string; terms: string[] }[] = [];
  for (const fileName of input.fileNames) {
    const terms = findBlockedTerms(fileName, policy.blockedTerms);
    if (terms.length > 0) offending.push({ fileName, terms });
  }
  if (offending.length > 0) {
    const named = offending.slice(0, MAX_NAMED_FILES).map((o) => `"${o.fileName}" (${o.terms.map((t) => `"${t}"`).join(', ')})`);
    const more = offending.length > MAX_NAMED_FILES ? ` and ${offending.length - MAX_NAMED_FILES} more` : '';
    reasons.push({ code: 'blocked_term_in_file_name', message: `Files in the dataset have blocked terms in their names: ${named.join(', ')}${more}.` });
  }
  const license = input.declaredLicense?.trim().toLowerCase() ?? '';
  if (!license) {
    reasons.push({ code: 'license_missing', message: `The dataset declares no licence; declare one of: ${policy.allowedLicenses.join(', ')}.` });
  } else if (!policy.allowedLicenses.includes(license)) {
    reasons.push({ code: 'license_not_allowed', message: `The licence "${input.declaredLicense}" is not one we can train on; allowed: ${policy.allowedLicenses.join(', ')}.` });
  }
  return reasons;
}

export function baseModelDisallowed(policy: ModerationPolicy, baseModelId: string): boolean {
  const id = baseModelId.trim().toLowerCase();
  return policy.disallowedBaseModels.some((entry) => (entry.endsWith('*') ? id.startsWith(entry.slice(0, -1)) : id === entry));
}

/** Every string inside a JSON-like value (keys included), depth-first; for scanning configuration. */
export function collectStrings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 20) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out, depth + 1);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      collectStrings(item, out, depth + 1);
    }
  }
  return out;
}

export interface JobModerationInput {
  baseModelId: string;
  jobName?: string | null;
  /** The recipe, hyperparameters, validation prompts: every string in it is scanned. */
  configuration?: unknown;
}

export function checkJob(policy: ModerationPolicy, input: JobModerationInput): ModerationReason[] {
  const reasons: ModerationReason[] = [];
  if (baseModelDisallowed(policy, input.baseModelId)) {
    reasons.push({ code: 'base_model_disallowed', message: `The base model "${input.baseModelId}" may not be fine-tuned on Anneal.` });
  }
  const inName = input.jobName ? findBlockedTerms(input.jobName, policy.blockedTerms) : [];
  if (inName.length > 0) reasons.push({ code: 'blocked_term_in_name', message: `The job name contains blocked terms: ${inName.map((t) => `"${t}"`).join(', ')}.` });
  const inConfig = new Set<string>();
  for (const text of collectStrings(input.configuration)) for (const term of findBlockedTerms(text, policy.blockedTerms)) inConfig.add(term);
  if (inConfig.size > 0) {
    reasons.push({ code: 'blocked_term_in_config', message: `The job configuration contains blocked terms: ${[...inConfig].map((t) => `"${t}"`).join(', ')}.` });
  }
  return reasons;
}
