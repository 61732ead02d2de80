import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import { LoginPage } from './login-page.js';

const tokens = { tokenType: 'Bearer', accessToken: 'acc', refreshToken: 'ref', expiresInSeconds: 900, userId: 'u1' };

afterEach(cleanup);

function signIn(email: string, password: string) {
  fireEvent.change(screen.getByLabelText('Email'), { target: { value: email } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('LoginPage', () => {
  it('asks for the authenticator code when the API says two_factor_required, then sends all three', async () => {
    const onSignedIn = vi.fn();
    const { requests, api } = renderWithApi(<LoginPage onSignedIn={onSignedIn} />, (url, init) => {
      const body = JSON.parse(String(init.body));
      if (!body.totpCode) return json(401, { code: 'two_factor_required', message: 'Enter the 6-digit code from your authenticator app (or a recovery code).', requestId: 'r' });
      return body.totpCode === '123456' ? json(200, tokens) : json(401, { code: 'two_factor_invalid', message: 'That code is not valid.', requestId: 'r' });
    });
    signIn('ada@example.com', 'correct horse battery');

    const codeInput = await screen.findByLabelText('Authentication code');
    expect(screen.queryByRole('alert')).toBeNull(); // the step change is not an error
    fireEvent.change(codeInput, { target: { value: '000000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify and sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('That code is not valid.');
    expect(onSignedIn).not.toHaveBeenCalled();

    fireEvent.change(codeInput, { target: { value: '123 456' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify and sign in' }));
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalledOnce());
    expect(requests.at(-1)?.body).toEqual({ email: 'ada@example.com', password: 'correct horse battery', totpCode: '123456' });
    expect(api.hasAccessToken).toBe(true);
  });

  it('can use a recovery code instead', async () => {
    const onSignedIn = vi.fn();
    const { requests } = renderWithApi(<LoginPage onSignedIn={onSignedIn} />, (_url, init) =>
      JSON.parse(String(init.body)).recoveryCode ? json(200, tokens) : json(401, { code: 'two_factor_required', message: 'Enter the code.' }),
    );
    signIn('ada@example.com', 'pw-123456789');
    await screen.findByLabelText('Authentication code');
    fireEvent.click(screen.getByRole('button', { name: 'Use a recovery code instead' }));
    fireEvent.change(screen.getByLabelText('Recovery code'), { target: { value: ' abcd-efgh ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify and sign in' }));
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalledOnce());
    expect(requests.at(-1)?.body).toEqual({ email: 'ada@example.com', password: 'pw-123456789', recoveryCode: 'abcd-efgh' });
  });

  it('shows the sentence of a wrong password and stays on the first step', async () => {
    renderWithApi(<LoginPage onSignedIn={() => undefined} />, () =>
      json(401, { code: 'invalid_credentials', message: 'The email or password is not correct.', requestId: 'req-1' }),
    );
    signIn('ada@example.com', 'wrong');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The email or password is not correct.');
    expect(alert.textContent).toContain('req-1');
    expect(screen.getByLabelText('Password')).toBeTruthy();
    expect(screen.queryByLabelText('Authentication code')).toBeNull();
  });
});
