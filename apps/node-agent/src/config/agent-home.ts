import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the agent keeps its files: `$ANNEAL_AGENT_HOME` when set (the one environment variable the
 * agent reads), else `~/.anneal-agent`.
 */
export function resolveAgentHome(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const fromEnv = env.ANNEAL_AGENT_HOME?.trim();
  return fromEnv ? fromEnv : join(home, '.anneal-agent');
}

export interface AgentPaths {
  home: string;
  /** node id, nkey seed, node token, NATS URL, API URL (mode 0600). */
  credentials: string;
  /** last heartbeat seq (so seq never goes backwards across restarts). */
  state: string;
  /** what the daemon last reported, for `anneal-agent status`. */
  status: string;
}

export function agentPaths(home: string): AgentPaths {
  return { home, credentials: join(home, 'credentials.json'), state: join(home, 'state.json'), status: join(home, 'status.json') };
}
