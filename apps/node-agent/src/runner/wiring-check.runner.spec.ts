import { describe, expect, it } from 'vitest';
import { buildAssignment } from '../testing/agent-fixtures.js';
import { runnerContext } from '../testing/runner-context.js';
import type { RunnerContext, RunnerEvent } from './runner.js';
import { WiringCheckRunner } from './wiring-check.runner.js';

function context(steps: number, controller = new AbortController()): { ctx: RunnerContext; events: RunnerEvent[] } {
  return runnerContext(buildAssignment('n1', 'a1', { steps }), { controller });
}

describe('WiringCheckRunner', () => {
  it('reports each step with a falling loss, then completes without claiming training', async () => {
    const { ctx, events } = context(3);
    const outcome = await new WiringCheckRunner({ stepDelayMs: 1 }).run(ctx);
    expect(events[0]).toMatchObject({ type: 'log', stream: 'agent', line: expect.stringMatching(/no training/) });
    const steps = events.filter((event) => event.type === 'step');
    expect(steps.map((event) => event.step)).toEqual([1, 2, 3]);
    const losses = steps.map((event) => event.loss!);
    expect(losses[0]).toBeGreaterThan(losses[2]!);
    expect(outcome).toMatchObject({ exitReason: 'completed', steps: 3, artifactKeys: [], message: expect.stringMatching(/no training was performed/) });
  });

  it('caps the steps it reports', async () => {
    const { ctx, events } = context(1000);
    await new WiringCheckRunner({ stepDelayMs: 1, maxSteps: 2 }).run(ctx);
    expect(events.filter((event) => event.type === 'step')).toHaveLength(2);
  });

  it('stops when asked, with the exit reason of the stop', async () => {
    const controller = new AbortController();
    const { ctx } = context(1000, controller);
    const running = new WiringCheckRunner({ stepDelayMs: 60_000, maxSteps: 1000 }).run(ctx);
    controller.abort({ kind: 'cancel', reason: 'user_canceled' });
    expect(await running).toMatchObject({ exitReason: 'canceled', steps: 0 });
  });
});
