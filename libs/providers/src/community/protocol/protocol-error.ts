/** Why a message was refused. Stable codes: the API counts them per node. */
export type ProtocolErrorCode =
  | 'malformed_json'
  | 'malformed_envelope'
  | 'unsupported_schema_version'
  | 'invalid_payload'
  | 'wrong_signer'
  | 'bad_signature'
  | 'bad_mac'
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

/** `invalid_payload` from field-level issues ('path: problem'). */
export function invalidPayload(issues: string[]): { ok: false; error: ProtocolError } {
  return protocolError('invalid_payload', `the message does not match the protocol: ${issues.slice(0, 3).join('; ')}`, issues);
}

/** `unsupported_schema_version`, when a message carries a schemaVersion other than 1. */
export function unsupportedSchemaVersion(version: unknown): { ok: false; error: ProtocolError } {
  return protocolError('unsupported_schema_version', `schemaVersion ${String(version)} is not supported (expected 1)`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 JSON bytes (a NATS message body). */
export function decodeJson(data: Uint8Array): ParseResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(data)) as unknown };
  } catch {
    return protocolError('malformed_json', 'the message body is not UTF-8 JSON');
  }
}
