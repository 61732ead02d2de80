import type { PipeTransform } from '@nestjs/common';
import { createValidationPipe } from '../../../core/http/validation.js';
import { CreateEstimateDto } from './create-estimate.dto.js';

/** Distinct request bodies remembered (oldest dropped first), and the longest one kept. */
const MEMO_MAX_ENTRIES = 1_024;
const MEMO_MAX_KEY_LENGTH = 4_096;

/**
 * A JSON value's identity: `JSON.stringify`, except that the few values it would conflate with
 * others (non-finite numbers print as null, -0 as 0) get a mark of their own.
 */
function identity(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `\u0000number:${Object.is(v, -0) ? '-0' : String(v)}` : v));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The body of POST /v1/estimates, validated exactly as the global validation pipe would (the same
 * pipe, the same rules and errors), and remembered per distinct body: the estimates UI and API
 * clients send the same request again and again, and class-validator was the largest cost of an
 * answer served from the estimate cache. Only accepted bodies are kept, frozen (shared between
 * requests, so nothing may change one).
 *
 * The controller declares the parameter with a non-class type so the global pipe passes it through
 * untouched: validation happens here, once.
 */
export class EstimateRequestPipe implements PipeTransform<unknown, Promise<CreateEstimateDto>> {
  private readonly validation = createValidationPipe();
  private readonly memo = new Map<string, CreateEstimateDto>();

  async transform(value: unknown): Promise<CreateEstimateDto> {
    const key = value !== null && typeof value === 'object' ? identity(value) : undefined;
    const known = key === undefined ? undefined : this.memo.get(key);
    if (known) return known;
    const dto = (await this.validation.transform(value, { type: 'body', metatype: CreateEstimateDto, data: undefined })) as CreateEstimateDto;
    if (key !== undefined && key.length <= MEMO_MAX_KEY_LENGTH) {
      this.memo.set(key, deepFreeze(dto));
      if (this.memo.size > MEMO_MAX_ENTRIES) {
        const oldest = this.memo.keys().next();
        if (!oldest.done) this.memo.delete(oldest.value);
      }
    }
    return dto;
  }
}
