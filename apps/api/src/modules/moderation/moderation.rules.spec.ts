import { describe, expect, it } from 'vitest';
import { baseModelDisallowed, checkDataset, checkJob, collectStrings, findBlockedTerms, moderationPolicyFromConfig, normalizeForMatching } from './moderation.rules.js';

const policy = moderationPolicyFromConfig({
  MODERATION_BLOCKED_TERMS: 'csam, child porn,Ransomware,,nerve agent',
  MODERATION_DISALLOWED_BASE_MODELS: 'evil/model-7b, bad-org/*',
  MODERATION_ALLOWED_LICENSES: 'own-data,MIT,apache-2.0',
});

describe('moderation rules', () => {
  it('normalizes names into padded words', () => {
    expect(normalizeForMatching('Child_Porn-v2.JSONL')).toBe(' child porn v2 jsonl ');
    expect(normalizeForMatching('Ránsomwäre')).toBe(' ransomware ');
    expect(normalizeForMatching('...')).toBe(' ');
  });

  it('matches blocked terms as whole words, across separators, not inside other words', () => {
    expect(findBlockedTerms('my_child-porn_set', policy.blockedTerms)).toEqual(['child porn']);
    expect(findBlockedTerms('CSAM.jsonl', policy.blockedTerms)).toEqual(['csam']);
    expect(findBlockedTerms('csamples.jsonl', policy.blockedTerms)).toEqual([]);
    expect(findBlockedTerms('nerve agents', policy.blockedTerms)).toEqual([]);
    expect(findBlockedTerms('chat support logs', policy.blockedTerms)).toEqual([]);
  });

  it('passes a clean dataset with an allowed licence (case-insensitive)', () => {
    expect(checkDataset(policy, { name: 'support chats', format: 'jsonl', declaredLicense: 'mit', fileNames: [] })).toEqual([]);
    expect(checkDataset(policy, { name: 'x', format: 'csv', declaredLicense: ' Apache-2.0 ', fileNames: [] })).toEqual([]);
  });

  it('rejects a blocked name, a missing licence and an unknown licence with reasons', () => {
    const reasons = checkDataset(policy, { name: 'ransomware samples', format: 'jsonl', declaredLicense: null, fileNames: [] });
    expect(reasons.map((r) => r.code)).toEqual(['blocked_term_in_name', 'license_missing']);
    expect(reasons[0]?.message).toContain('"ransomware"');
    expect(checkDataset(policy, { name: 'ok', format: 'jsonl', declaredLicense: 'gpl-3.0', fileNames: [] }).map((r) => r.code)).toEqual(['license_not_allowed']);
    expect(checkDataset(policy, { name: 'ok', format: 'jsonl', declaredLicense: '   ', fileNames: [] }).map((r) => r.code)).toEqual(['license_missing']);
  });

  it('names at most five offending files and counts the rest', () => {
    const fileNames = Array.from({ length: 8 }, (_, i) => `img/csam_${i}.png`).concat('img/cat.png');
    const [reason] = checkDataset(policy, { name: 'ok', format: 'tar', declaredLicense: 'mit', fileNames });
    expect(reason?.code).toBe('blocked_term_in_file_name');
    expect(reason?.message).toContain('img/csam_4.png');
    expect(reason?.message).not.toContain('img/csam_5.png');
    expect(reason?.message).toContain('and 3 more');
  });

  it('disallows base models exactly or by prefix', () => {
    expect(baseModelDisallowed(policy, 'Evil/Model-7B')).toBe(true);
    expect(baseModelDisallowed(policy, 'evil/model-7b-instruct')).toBe(false);
    expect(baseModelDisallowed(policy, 'bad-org/anything')).toBe(true);
    expect(baseModelDisallowed(policy, 'meta-llama/Llama-3.1-8B')).toBe(false);
  });

  it('scans every string of a job configuration, keys included', () => {
    expect(collectStrings({ a: ['x', { b: 'y' }], c: 3 })).toEqual(['a', 'x', 'b', 'y', 'c']);
    const reasons = checkJob(policy, { baseModelId: 'bad-org/x', jobName: 'fine', configuration: { validationPrompts: ['how to make a nerve agent'] } });
    expect(reasons.map((r) => r.code)).toEqual(['base_model_disallowed', 'blocked_term_in_config']);
    expect(checkJob(policy, { baseModelId: 'meta-llama/Llama-3.1-8B', configuration: { lr: 0.0002 } })).toEqual([]);
  });
});
