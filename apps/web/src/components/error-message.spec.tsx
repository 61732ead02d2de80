import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../lib/api-error.js';
import { ErrorMessage } from './error-message.js';

afterEach(cleanup);

describe('ErrorMessage', () => {
  it('shows the API sentence and its reference, never a stack', () => {
    const error = new ApiError(402, 'insufficient_credits', 'Your balance of $1.20 does not cover the $5.00 hold for this job.', 'req-42');
    render(<ErrorMessage error={error} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Your balance of $1.20 does not cover the $5.00 hold for this job.');
    expect(alert.textContent).toContain('req-42');
    expect(alert.textContent).not.toContain('at ');
  });

  it('lists every field when there are more than the sentence names', () => {
    const fields = ['a', 'b', 'c', 'd'].map((f) => ({ field: f, message: `${f} is required` }));
    render(<ErrorMessage error={new ApiError(400, 'validation_failed', 'Some fields are not valid: a is required; b is required; c is required; ….', 'r', { fields })} />);
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['a is required', 'b is required', 'c is required', 'd is required']);
  });

  it('turns a thrown Error into a plain sentence and renders nothing without an error', () => {
    const { container, rerender } = render(<ErrorMessage error={null} />);
    expect(container.textContent).toBe('');
    const bug = new Error('Cannot read properties of undefined');
    bug.stack = 'Error: x\n    at Foo (/src/foo.ts:1:1)';
    rerender(<ErrorMessage error={bug} />);
    expect(screen.getByRole('alert').textContent).toBe('Something went wrong. Try again in a moment.');
  });
});
