import { existsSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createNodeKeys, type GpuTelemetry, type RunnerKind } from '@anneal/providers';
import { AgentError } from '../agent.errors.js';
import { NodeAgent, type NodeAgentStatus } from '../agent/node-agent.js';
import { nvidiaGpuSource, simulatedGpuSource, type GpuSource } from '../agent/gpu-source.js';
import { agentPaths, resolveAgentHome, type AgentPaths } from '../config/agent-home.js';
import { readCredentials, writeCredentials, type Credentials } from '../config/credentials.js';
import { writePrivateFile } from '../config/private-file.js';
import { fileSeqStore, HeartbeatSequence } from '../config/seq-store.js';
import type { CommandRunner } from '../gpu/command-runner.js';
import { detectGpus } from '../gpu/gpu-detector.js';
import type { GpuLookupFn } from '../gpu/gpu-lookup.js';
import { parseSimulateSpec, simulatedTelemetry, type SimulatedGpuSpec } from '../gpu/simulated-gpus.js';
import { joinNode, type FetchFn } from '../join/join.client.js';
import { createLogger, type LogLevel } from '../logger.js';
import type { Runner } from '../runner/runner.js';
import { runnerConfigFor, selectRunner, type RunnerChoice } from '../runner/runner-selection.js';
import { SyntheticRunner } from '../runner/synthetic/synthetic.runner.js';
import { AGENT_VERSION } from '../version.js';
import { formatMicrosUsd, parseApiUrl, parsePositiveInt, parsePriceUsd, parseRegion } from './cli-values.js';

/** Everything the CLI touches outside itself, injectable for tests. */
export interface CliDeps {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  fetch: FetchFn;
  runCommand: CommandRunner;
  lookupGpu: GpuLookupFn;
  nowMs: () => number;
  hostname: () => string;
  /** Registers a handler for SIGTERM/SIGINT; returns a function that removes it. */
  onShutdownSignal: (handler: (signal: string) => void) => () => void;
  /** Runner for attempts of a kind; null rejects them. Default: `selectRunner` from the run flags (tests inject their own). */
  runnerFor?: (kind: RunnerKind, simulated: boolean) => Runner | null;
}

export const USAGE = `anneal-agent: run a community GPU node for Anneal

Usage:
  anneal-agent register --api URL --token TOKEN --price USD [--region R] [--simulate "2x RTX 4090"] [--force]
  anneal-agent run [--simulate "2x RTX 4090"] [--runner container|process|synthetic] [--command "python train.py"]
                   [--image IMAGE] [--heartbeat-interval-ms MS] [--log-level debug|info|warn|error]
  anneal-agent status [--json]
  anneal-agent help

Runners: simulated nodes run the built-in synthetic CPU trainer; real nodes use a container (docker
or podman) when one works, else --command when given; --runner forces one.

Files live in $ANNEAL_AGENT_HOME (default ~/.anneal-agent); credentials.json is readable only by you.
`;

const COMMANDS: Record<string, ParseArgsConfig['options']> = {
  register: {
    api: { type: 'string' },
    token: { type: 'string' },
    price: { type: 'string' },
    region: { type: 'string' },
    simulate: { type: 'string' },
    force: { type: 'boolean' },
  },
  run: {
    simulate: { type: 'string' },
    runner: { type: 'string' },
    command: { type: 'string' },
    image: { type: 'string' },
    'heartbeat-interval-ms': { type: 'string' },
    'log-level': { type: 'string' },
  },
  status: { json: { type: 'boolean' } },
};

/** Runs the CLI; resolves with the process exit code (0 ok, 1 failure, 2 bad usage). */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    deps.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === 'version') {
    deps.stdout(`${AGENT_VERSION}\n`);
    return 0;
  }
  const options = COMMANDS[command];
  if (!options) {
    deps.stderr(`error [unknown_command]: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...rest], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    deps.stderr(`error [invalid_arguments]: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const paths = agentPaths(resolveAgentHome(deps.env));
  try {
    if (command === 'register') return await register(values, paths, deps);
    if (command === 'run') return await run(values, paths, deps);
    return status(values, paths, deps);
  } catch (error) {
    if (error instanceof AgentError) {
      deps.stderr(`error [${error.code}]: ${error.message}\n`);
      return USAGE_ERRORS.has(error.code) ? 2 : 1;
    }
    deps.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const USAGE_ERRORS = new Set(['invalid_arguments', 'invalid_price', 'invalid_region', 'invalid_api_url', 'invalid_simulate', 'unknown_gpu']);

function requireString(values: Record<string, string | boolean | undefined>, flag: string, example: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AgentError('invalid_arguments', `--${flag} is required (e.g. --${flag} ${example})`);
  }
  return value;
}

function optionalString(values: Record<string, string | boolean | undefined>, flag: string): string | undefined {
  const value = values[flag];
  return typeof value === 'string' ? value : undefined;
}

// ---- register -------------------------------------------------------------------------------

async function register(values: Record<string, string | boolean | undefined>, paths: AgentPaths, deps: CliDeps): Promise<number> {
  const apiUrl = parseApiUrl(requireString(values, 'api', 'https://api.anneal.dev'));
  const joinToken = requireString(values, 'token', 'TOKEN');
  const priceMicros = parsePriceUsd(requireString(values, 'price', '0.45'));
  const regionText = optionalString(values, 'region');
  const region = regionText === undefined ? null : parseRegion(regionText);
  const simulateText = optionalString(values, 'simulate');
  const simulate = simulateText === undefined ? null : parseSimulateSpec(simulateText, deps.lookupGpu);
  if (existsSync(paths.credentials) && values.force !== true) {
    throw new AgentError('already_registered', `This host is already registered (${paths.credentials}). Pass --force to register it again as a new node.`);
  }
  const gpus = simulate ? simulatedTelemetry(simulate, false) : await detectRealGpus(deps);
  const keys = createNodeKeys();
  const joined = await joinNode(deps.fetch, apiUrl, {
    schemaVersion: 1,
    joinToken,
    publicKey: keys.publicKey,
    gpus,
    priceMicrosPerGpuHour: priceMicros.toString(),
    region,
    agentVersion: AGENT_VERSION,
    hostname: deps.hostname().slice(0, 255) || 'unknown-host',
    simulated: simulate !== null,
  });
  const credentials: Credentials = {
    version: 1,
    nodeId: joined.nodeId,
    nkeySeed: keys.seed,
    heartbeatKey: joined.heartbeatKey,
    nodeToken: joined.nodeToken,
    natsUrl: joined.natsUrl,
    natsAuth: joined.natsAuth,
    subjectPrefix: joined.subjectPrefix,
    apiUrl,
    apiPublicKey: joined.apiPublicKey,
    simulate: simulate?.source ?? null,
    registeredAt: new Date(deps.nowMs()).toISOString(),
  };
  writeCredentials(paths.credentials, credentials);
  deps.stdout(
    `Registered node ${joined.nodeId}: ${describeGpus(gpus)}${simulate ? ' (simulated)' : ''}, ` +
      `${formatMicrosUsd(priceMicros)} USD per GPU-hour${region ? `, region ${region}` : ''}.\n` +
      `Credentials saved to ${paths.credentials} (readable only by you). Start the node with: anneal-agent run\n`,
  );
  return 0;
}

async function detectRealGpus(deps: CliDeps): Promise<GpuTelemetry[]> {
  const detection = await detectGpus({ run: deps.runCommand, lookup: deps.lookupGpu });
  for (const warning of detection.warnings) deps.stderr(`warning: ${warning}\n`);
  if (detection.kind === 'none') {
    throw new AgentError('no_gpus', `No NVIDIA GPU found: ${detection.reason}. To try the agent without a GPU, pass --simulate "2x RTX 4090".`);
  }
  return detection.gpus;
}

function describeGpus(gpus: readonly GpuTelemetry[]): string {
  const counts = new Map<string, number>();
  for (const gpu of gpus) counts.set(gpu.name, (counts.get(gpu.name) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count}× ${name}`).join(', ') || 'no GPUs';
}

// ---- run ------------------------------------------------------------------------------------

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

async function run(values: Record<string, string | boolean | undefined>, paths: AgentPaths, deps: CliDeps): Promise<number> {
  const simulateText = optionalString(values, 'simulate');
  const intervalText = optionalString(values, 'heartbeat-interval-ms');
  const heartbeatIntervalMs = intervalText === undefined ? 2_000 : parsePositiveInt('--heartbeat-interval-ms', intervalText, 50, 60_000);
  const levelText = optionalString(values, 'log-level') ?? 'info';
  if (!LOG_LEVELS.includes(levelText as LogLevel)) {
    throw new AgentError('invalid_arguments', `--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${levelText}'`);
  }
  const simulateFlag = simulateText === undefined ? null : parseSimulateSpec(simulateText, deps.lookupGpu);
  const runnerOptions = parseRunnerFlags(values);
  const credentials = readCredentials(paths.credentials);
  const logger = createLogger(deps.stderr, levelText as LogLevel, () => new Date(deps.nowMs()));
  const gpus = await gpuSourceFor(credentials, simulateFlag, deps, (warning) => logger.warn(warning));
  let runnerFor: (kind: RunnerKind) => Runner | null;
  let noRunnerReason: string | undefined;
  if (deps.runnerFor) {
    const injected = deps.runnerFor;
    runnerFor = (kind) => injected(kind, gpus.simulated);
  } else {
    const selection = selectRunner(await runnerConfigFor({ simulated: gpus.simulated, ...runnerOptions }, deps.runCommand));
    if (selection.ok) logger.info('runner selected', { runner: selection.description });
    else logger.warn('no runner: assignments will be rejected', { reason: selection.reason });
    runnerFor = () => (selection.ok ? selection.runner : null);
    noRunnerReason = selection.ok ? undefined : selection.reason;
  }
  const agent = new NodeAgent({
    identity: credentials,
    gpus,
    sequence: new HeartbeatSequence(fileSeqStore(paths.state), deps.nowMs()),
    runnerFor,
    noRunnerReason,
    workRoot: join(paths.home, 'work'),
    agentVersion: AGENT_VERSION,
    logger,
    nowMs: deps.nowMs,
    heartbeatIntervalMs,
    onStatus: (snapshot) => writeStatus(paths, snapshot, heartbeatIntervalMs),
  });
  let removeSignalHandler = () => {};
  const stopped = new Promise<void>((resolve) => {
    removeSignalHandler = deps.onShutdownSignal((signal) => {
      logger.info('shutting down: draining', { signal });
      void agent.shutdown().then(resolve);
    });
  });
  logger.info('starting', { nodeId: credentials.nodeId, simulated: gpus.simulated, agentVersion: AGENT_VERSION });
  agent.start();
  await stopped;
  removeSignalHandler();
  return 0;
}

/** Without any run flags: simulated nodes run the synthetic trainer; a real node needs a container runtime or --command (see `selectRunner`). */
export function defaultRunnerFor(_kind: RunnerKind, simulated: boolean): Runner | null {
  return simulated ? new SyntheticRunner() : null;
}

const RUNNER_CHOICES: readonly RunnerChoice[] = ['container', 'process', 'synthetic'];
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

function parseRunnerFlags(values: Record<string, string | boolean | undefined>): { runner: RunnerChoice | null; command: string | null; image: string | null } {
  const runner = optionalString(values, 'runner') ?? null;
  if (runner !== null && !RUNNER_CHOICES.includes(runner as RunnerChoice)) {
    throw new AgentError('invalid_arguments', `--runner must be one of ${RUNNER_CHOICES.join(', ')}, got '${runner}'`);
  }
  const command = optionalString(values, 'command') ?? null;
  if (command !== null && command.trim() === '') throw new AgentError('invalid_arguments', '--command must not be empty (e.g. --command "python train.py")');
  if (command !== null && runner !== null && runner !== 'process') throw new AgentError('invalid_arguments', `--command is for the process runner; it cannot be combined with --runner ${runner}`);
  const image = optionalString(values, 'image') ?? null;
  if (image !== null && (image.length > 500 || !IMAGE_REF.test(image))) throw new AgentError('invalid_arguments', `--image must be an image reference such as ghcr.io/org/trainer:1.0, got '${image}'`);
  return { runner: runner as RunnerChoice | null, command, image };
}

async function gpuSourceFor(credentials: Credentials, simulateFlag: SimulatedGpuSpec | null, deps: CliDeps, onWarning: (warning: string) => void): Promise<GpuSource> {
  const registeredSimulated = credentials.simulate !== null;
  if (simulateFlag && !registeredSimulated) {
    throw new AgentError('simulate_mismatch', 'This node was registered with real GPUs; --simulate would report fake hardware for it. Register a separate simulated node instead.');
  }
  if (registeredSimulated) {
    const spec = simulateFlag ?? parseSimulateSpec(credentials.simulate ?? '', deps.lookupGpu);
    return simulatedGpuSource(spec);
  }
  await detectRealGpus(deps);
  return nvidiaGpuSource(deps.runCommand, deps.lookupGpu, onWarning);
}

interface StatusFile extends NodeAgentStatus {
  heartbeatIntervalMs: number;
}

function writeStatus(paths: AgentPaths, snapshot: NodeAgentStatus, heartbeatIntervalMs: number): void {
  const file: StatusFile = { ...snapshot, heartbeatIntervalMs };
  try {
    writePrivateFile(paths.status, `${JSON.stringify(file, null, 2)}\n`);
  } catch {
    // status.json is a convenience for `anneal-agent status`; never stop the daemon over it
  }
}

// ---- status ---------------------------------------------------------------------------------

function status(values: Record<string, string | boolean | undefined>, paths: AgentPaths, deps: CliDeps): number {
  const credentials = readCredentials(paths.credentials);
  let report: StatusFile | null = null;
  if (existsSync(paths.status)) {
    try {
      report = JSON.parse(readFileSync(paths.status, 'utf8')) as StatusFile;
    } catch {
      report = null;
    }
  }
  const staleAfterMs = (report?.heartbeatIntervalMs ?? 2_000) * 3 + 1_000;
  const ageMs = report ? deps.nowMs() - Date.parse(report.updatedAt) : null;
  const running = report !== null && ageMs !== null && ageMs <= staleAfterMs && report.state !== 'offline';
  const summary = {
    nodeId: credentials.nodeId,
    apiUrl: credentials.apiUrl,
    natsUrl: credentials.natsUrl,
    simulated: credentials.simulate !== null,
    daemon: running ? 'running' : 'not running',
    connected: running ? report!.connected : false,
    state: report?.state ?? null,
    lastReportAt: report?.updatedAt ?? null,
    lastHeartbeat: report?.lastHeartbeat ?? null,
    currentAttempt: running ? report!.currentAttempt : null,
  };
  if (values.json === true) {
    deps.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `node        ${summary.nodeId}${summary.simulated ? ' (simulated)' : ''}`,
    `api         ${summary.apiUrl}`,
    `daemon      ${summary.daemon}${summary.lastReportAt ? ` (last report ${summary.lastReportAt})` : ''}`,
    `nats        ${summary.connected ? 'connected' : 'not connected'} (${summary.natsUrl})`,
    `state       ${summary.state ?? 'unknown'}`,
  ];
  const heartbeat = summary.lastHeartbeat;
  if (heartbeat) {
    lines.push(`heartbeat   seq ${heartbeat.seq} at ${heartbeat.sentAt}, agent ${heartbeat.agentVersion}, up ${Math.round(heartbeat.uptimeS)} s`);
    lines.push('gpus');
    for (const gpu of heartbeat.gpus) {
      const vram = gpu.vramTotalMb === null ? 'VRAM n/a' : `${gpu.vramUsedMb ?? '?'}/${gpu.vramTotalMb} MiB`;
      lines.push(
        `  [${gpu.index}] ${gpu.name} (${gpu.gpuId ?? 'not in catalog'}) ${vram}, ${fmt(gpu.utilizationPct, '%')}, ${fmt(gpu.temperatureC, ' °C')}, ${fmt(gpu.powerW, ' W')}`,
      );
    }
  } else {
    lines.push('heartbeat   none yet (start the daemon with: anneal-agent run)');
  }
  const attempt = summary.currentAttempt;
  lines.push(attempt ? `attempt     ${attempt.attemptId} (job ${attempt.jobId}) ${attempt.phase}${attempt.step === null ? '' : `, step ${attempt.step}`}` : 'attempt     none');
  deps.stdout(`${lines.join('\n')}\n`);
  return 0;
}

function fmt(value: number | null, unit: string): string {
  return value === null ? `n/a${unit.trim() ? ` ${unit.trim()}` : ''}` : `${value}${unit}`;
}

/** The real dependencies of the CLI process. */
export function processDeps(run: CommandRunner, lookupGpu: GpuLookupFn): CliDeps {
  return {
    env: process.env,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    fetch: (url, init) => fetch(url, init),
    runCommand: run,
    lookupGpu,
    nowMs: Date.now,
    hostname: osHostname,
    onShutdownSignal: (handler) => {
      const onTerm = () => handler('SIGTERM');
      const onInt = () => handler('SIGINT');
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onInt);
      return () => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
      };
    },
  };
}
