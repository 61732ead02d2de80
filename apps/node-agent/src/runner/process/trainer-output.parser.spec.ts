import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTrainerLine } from './trainer-output.parser.js';

describe('parseTrainerLine (the trainer stdout contract)', () => {
  it('reads step lines, with or without type, and leaves optional fields null', () => {
    expect(parseTrainerLine('{"step":12,"loss":1.93,"stepTimeMs":812,"tokensPerS":10100,"totalSteps":500,"gpuUtilizationPct":97}')).toEqual({
      kind: 'step',
      step: 12,
      loss: 1.93,
      stepTimeMs: 812,
      tokensPerS: 10100,
      totalSteps: 500,
      gpuUtilizationPct: 97,
    });
    expect(parseTrainerLine('  {"type":"step","step":3}\r')).toEqual({ kind: 'step', step: 3, loss: null, stepTimeMs: null, tokensPerS: null, totalSteps: null, gpuUtilizationPct: null });
  });

  it('reads validation, checkpoint and log messages', () => {
    expect(parseTrainerLine('{"type":"validation","step":100,"promptCount":4,"totalTimeMs":3200}')).toEqual({ kind: 'validation', step: 100, promptCount: 4, totalTimeMs: 3200 });
    expect(parseTrainerLine('{"type":"checkpoint","step":100,"path":"step-100"}')).toEqual({ kind: 'checkpoint', step: 100, path: 'step-100' });
    expect(parseTrainerLine('{"type":"log","message":"loaded 12000 examples"}')).toEqual({ kind: 'log', line: 'loaded 12000 examples' });
  });

  it('keeps plain text, non-object JSON, broken JSON and unknown JSON as log lines', () => {
    for (const line of ['Epoch 1/3', '[1,2,3]', '42', '{"step": 1', '{"level":"info","msg":"hello"}', '']) {
      expect(parseTrainerLine(line)).toEqual({ kind: 'log', line });
    }
  });

  it('flags lines that break the contract, with the reason', () => {
    expect(parseTrainerLine('{"step":-1}')).toMatchObject({ kind: 'invalid', reason: /step must be/ });
    expect(parseTrainerLine('{"step":1.5}')).toMatchObject({ kind: 'invalid' });
    expect(parseTrainerLine('{"step":1,"loss":"low"}')).toMatchObject({ kind: 'invalid', reason: /loss/ });
    expect(parseTrainerLine('{"step":1,"stepTimeMs":-3}')).toMatchObject({ kind: 'invalid', reason: /stepTimeMs/ });
    expect(parseTrainerLine('{"step":1,"gpuUtilizationPct":140}')).toMatchObject({ kind: 'invalid', reason: /gpuUtilizationPct/ });
    expect(parseTrainerLine('{"type":"validation","step":1,"promptCount":0,"totalTimeMs":5}')).toMatchObject({ kind: 'invalid' });
    expect(parseTrainerLine('{"type":"checkpoint","step":1,"path":""}')).toMatchObject({ kind: 'invalid' });
    expect(parseTrainerLine('{"type":"log","message":7}')).toMatchObject({ kind: 'invalid' });
  });

  it('never throws, and a step message always carries a valid step', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.record({ step: fc.anything(), loss: fc.anything(), stepTimeMs: fc.anything() }).map((v) => JSON.stringify(v) ?? '')), (line) => {
        const message = parseTrainerLine(line);
        if (message.kind === 'step') {
          expect(Number.isInteger(message.step) && message.step >= 0).toBe(true);
          if (message.loss !== null) expect(Number.isFinite(message.loss)).toBe(true);
        }
      }),
    );
  });
});
