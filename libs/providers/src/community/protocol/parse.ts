import type { z } from 'zod';
import { assignmentSchema, type Assignment } from './assignment.schema.js';
import { attemptEventSchema, type AttemptEvent } from './attempt-event.schema.js';
import { benchmarkSampleSchema, type BenchmarkSample } from './benchmark-sample.schema.js';
import { controlMessageSchema, type ControlMessage } from './control.schema.js';
import { heartbeatSchema, type Heartbeat } from './heartbeat.schema.js';
import { joinRequestSchema, joinResponseSchema, type JoinRequest, type JoinResponse } from './join.schema.js';

/** Why a message was refused. Stable codes: the API counts them per node. */
export type ProtocolErrorCode =
  | 'malformed_json'
  | 'malformed_envelope'
  | 'unsupported_schema_version'
  | 'invalid_payload'
  | 'wrong_signer'
  | 'bad_signature'
  | 'subject_mismatch';

export interface ProtocolError {
  code: ProtocolErrorCode;
  message: string;
  /** Field-level problems ('gpus.0.index: expected number'), for invalid_payload. */
  issues: string[];
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export function protocolError(code: ProtocolErrorCode, message: string, issues: string[] = []): { ok: false; error: ProtocolError } {
  return { ok: false, error: { code, message, issues } };
}

/** Validates a decoded JSON value against a protocol schema. */
export function parseMessage<S extends z.ZodType>(schema: S, input: unknown): ParseResult<z.infer<S>> {
  if (typeof input === 'object' && input !== null && 'schemaVersion' in input && (input as { schemaVersion: unknown }).schemaVersion !== 1) {
    return protocolError('unsupported_schema_version', `schemaVersion ${String((input as { schemaVersion: unknown }).schemaVersion)} is not supported (expected 1)`);
  }
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  return protocolError('invalid_payload', `the message does not match the protocol: ${issues.slice(0, 3).join('; ')}`, issues);
}

export const parseHeartbeat = (input: unknown): ParseResult<Heartbeat> => parseMessage(heartbeatSchema, input);
export const parseAssignment = (input: unknown): ParseResult<Assignment> => parseMessage(assignmentSchema, input);
export const parseControlMessage = (input: unknown): ParseResult<ControlMessage> => parseMessage(controlMessageSchema, input);
export const parseAttemptEvent = (input: unknown): ParseResult<AttemptEvent> => parseMessage(attemptEventSchema, input);
export const parseBenchmarkSample = (input: unknown): ParseResult<BenchmarkSample> => parseMessage(benchmarkSampleSchema, input);
export const parseJoinRequest = (input: unknown): ParseResult<JoinRequest> => parseMessage(joinRequestSchema, input);
export const parseJoinResponse = (input: unknown): ParseResult<JoinResponse> => parseMessage(joinResponseSchema, input);

/** Decodes UTF-8 JSON bytes (a NATS message body). */
export function decodeJson(data: Uint8Array): ParseResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)) as unknown };
  } catch {
    return protocolError('malformed_json', 'the message body is not UTF-8 JSON');
  }
}
