// The local demo node of `npm start`: a community node with a simulated GPU, run by anneal-agent.
// It needs the provider node endpoints; until the API offers them, start says so and goes on.

/**
 * @param {{ root: string, baseUrl: string, dataDir: string, customerPassword: string, natsUrl: string, log: (m: string) => void }} options
 * @returns {Promise<import('node:child_process').ChildProcess | undefined>}
 */
export async function startDemoNode({ baseUrl, log }) {
  const probe = await fetch(`${baseUrl}/v1/provider/nodes/join-tokens`, { method: 'POST' }).catch(() => undefined);
  if (!probe || probe.status === 404) {
    log('demo node: this API has no provider node endpoints yet; no demo node started');
    return undefined;
  }
  return undefined;
}
