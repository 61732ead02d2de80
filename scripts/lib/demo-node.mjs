// The local demo node of `npm start`: a community node with a simulated RTX 4090, run by the real
// anneal-agent under the demo provider (provider@anneal.local). It registers through the same join
// endpoint a real provider uses (once: the credentials under .anneal/agent are reused while the node
// still exists, the NATS URL is unchanged and they hold a heartbeat key), then runs `anneal-agent run`
// as a child process.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const DEMO_PROVIDER_EMAIL = 'provider@anneal.local';
const SIMULATE = '1x RTX 4090';
const PRICE_USD = '0.45';

/** A fresh nkey user seed ('SU…') for PLATFORM_NKEY_SEED (the platform's signing key). A secret. */
export function platformNkeySeed() {
  const { createUser } = createRequire(import.meta.url)('@nats-io/nkeys');
  return new TextDecoder().decode(createUser().getSeed());
}

async function api(baseUrl, method, path, { token, body } = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function runAgent(root, args, env, stdio) {
  return spawn(process.execPath, [join(root, 'apps', 'node-agent', 'dist', 'main.js'), ...args], { cwd: root, env, stdio });
}

/**
 * @param {{ root: string, baseUrl: string, dataDir: string, customerPassword?: string, natsUrl: string, log: (m: string) => void }} options
 * @returns {Promise<import('node:child_process').ChildProcess | undefined>}
 */
export async function startDemoNode({ root, baseUrl, dataDir, natsUrl, log }) {
  const secrets = readJson(join(dataDir, 'secrets.json')) ?? {};
  const password = secrets.DEMO_PROVIDER_PASSWORD;
  if (!password) {
    log('demo node: no DEMO_PROVIDER_PASSWORD in .anneal/secrets.json; no demo node started');
    return undefined;
  }
  const login = await api(baseUrl, 'POST', '/v1/auth/login', { body: { email: DEMO_PROVIDER_EMAIL, password } });
  if (login.status !== 200) {
    log(`demo node: could not sign in as ${DEMO_PROVIDER_EMAIL} (HTTP ${login.status} ${login.body?.code ?? ''}); no demo node started`);
    return undefined;
  }
  const token = login.body.accessToken;
  const home = join(dataDir, 'agent');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ANNEAL_AGENT_HOME: home };

  const credentials = readJson(join(home, 'credentials.json'));
  let registered = false;
  if (credentials?.nodeId) {
    const existing = await api(baseUrl, 'GET', `/v1/provider/nodes/${credentials.nodeId}`, { token });
    registered = existing.status === 200 && credentials.natsUrl === natsUrl && typeof credentials.heartbeatKey === 'string';
    // The local NATS moved (a new port), or the node predates heartbeat keys (it signs its heartbeats
    // with its nkey): register afresh and remove the old node.
    if (existing.status === 200 && !registered) await api(baseUrl, 'DELETE', `/v1/provider/nodes/${credentials.nodeId}`, { token });
  }
  if (!registered) {
    const created = await api(baseUrl, 'POST', '/v1/provider/nodes/join-tokens', { token });
    if (created.status !== 201) {
      log(`demo node: could not create a join token (HTTP ${created.status} ${created.body?.code ?? ''}); no demo node started`);
      return undefined;
    }
    const args = ['register', '--api', baseUrl, '--token', created.body.token, '--price', PRICE_USD, '--simulate', SIMULATE, '--region', 'local'];
    if (existsSync(join(home, 'credentials.json'))) args.push('--force');
    const register = runAgent(root, args, env, ['ignore', 'pipe', 'pipe']);
    let output = '';
    register.stdout.on('data', (chunk) => (output += chunk));
    register.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolveExit) => register.once('exit', resolveExit));
    if (code !== 0) {
      log(`demo node: anneal-agent register failed (exit ${code}): ${output.trim().split('\n').pop() ?? ''}`);
      return undefined;
    }
    log(`demo node: registered a simulated ${SIMULATE} for ${DEMO_PROVIDER_EMAIL} at $${PRICE_USD}/GPU-hour`);
  }
  const daemon = runAgent(root, ['run', '--log-level', 'warn'], env, ['ignore', 'inherit', 'inherit']);
  log(`demo node: anneal-agent running (pid ${daemon.pid}, home .anneal/agent); provider console: ${DEMO_PROVIDER_EMAIL}, password in .anneal/secrets.json`);
  return daemon;
}
