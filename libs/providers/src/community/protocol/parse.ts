import type { z } from 'zod';
import { assignmentSchema, type Assignment } from './assignment.schema.js';
import { attemptEventSchema, type AttemptEvent } from './attempt-event.schema.js';
import { benchmarkSampleSchema, type BenchmarkSample } from './benchmark-sample.schema.js';
import { controlMessageSchema, type ControlMessage } from './control.schema.js';
import type { Heartbeat } from './heartbeat.schema.js';
import { joinRequestSchema, joinResponseSchema, type JoinRequest, type JoinResponse } from './join.schema.js';
import { validateHeartbeat } from './heartbeat.validator.js';
import { invalidPayload, unsupportedSchemaVersion, type ParseResult } from './protocol-error.js';

export { decodeJson, protocolError, type ParseResult, type ProtocolError, type ProtocolErrorCode } from './protocol-error.js';

/** Validates a decoded JSON value against a protocol schema. */
export function parseMessage<S extends z.ZodType>(schema: S, input: unknown): ParseResult<z.infer<S>> {
  if (typeof input === 'object' && input !== null && 'schemaVersion' in input && (input as { schemaVersion: unknown }).schemaVersion !== 1) {
    return unsupportedSchemaVersion((input as { schemaVersion: unknown }).schemaVersion);
  }
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  return invalidPayload(issues);
}

/** Heartbeats: the hand-written validator (same rules as `heartbeatSchema`, a fraction of the cost: heartbeat.validator.ts). */
export const parseHeartbeat = (input: unknown): ParseResult<Heartbeat> => validateHeartbeat(input);
export const parseAssignment = (input: unknown): ParseResult<Assignment> => parseMessage(assignmentSchema, input);
export const parseControlMessage = (input: unknown): ParseResult<ControlMessage> => parseMessage(controlMessageSchema, input);
export const parseAttemptEvent = (input: unknown): ParseResult<AttemptEvent> => parseMessage(attemptEventSchema, input);
export const parseBenchmarkSample = (input: unknown): ParseResult<BenchmarkSample> => parseMessage(benchmarkSampleSchema, input);
export const parseJoinRequest = (input: unknown): ParseResult<JoinRequest> => parseMessage(joinRequestSchema, input);
export const parseJoinResponse = (input: unknown): ParseResult<JoinResponse> => parseMessage(joinResponseSchema, input);
