/** Errors a provider can cause (bad flags, missing registration…): a stable code and a sentence. */
export type AgentErrorCode =
  | 'invalid_arguments'
  | 'unknown_command'
  | 'invalid_price'
  | 'invalid_region'
  | 'invalid_api_url'
  | 'invalid_simulate'
  | 'unknown_gpu'
  | 'no_gpus'
  | 'not_registered'
  | 'already_registered'
  | 'credentials_insecure'
  | 'credentials_invalid'
  | 'simulate_mismatch'
  | 'join_failed';

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}
