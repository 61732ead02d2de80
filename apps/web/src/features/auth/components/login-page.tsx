import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { ApiError } from '../../../lib/api-error.js';
import { Link } from '../../../lib/router.js';
import { login } from '../api/auth.api.js';
import { useApi } from '../hooks/use-session.js';

/**
 * Email and password; when the API answers `two_factor_required`, a second step asks for the
 * authenticator code (or a recovery code) and sends all three together.
 */
export function LoginPage({ onSignedIn }: { onSignedIn: () => void }) {
  const api = useApi();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const second = step === 'code' ? (useRecovery ? { recoveryCode: code.trim() } : { totpCode: code.replace(/\s/g, '') }) : {};
      const tokens = await login(api, { email: email.trim(), password, ...second });
      api.setTokens(tokens);
      onSignedIn();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'two_factor_required' && step === 'password') setStep('code');
      else setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-card">
      <h1>Sign in to Anneal</h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        {step === 'password' ? (
          <>
            <Field label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
            <Field label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </>
        ) : (
          <>
            <p>Two-factor authentication is on for {email}.</p>
            {useRecovery ? (
              <Field key="recovery" label="Recovery code" autoComplete="off" required value={code} onChange={(e) => setCode(e.target.value)} autoFocus hint="One of the codes you saved when you turned on two-factor authentication. Each works once." />
            ) : (
              <Field
                key="totp"
                label="Authentication code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="\d{6}"
                maxLength={7}
                required
                value={code}
                onChange={(e) => setCode(e.target.value)}
                autoFocus
                hint="The 6-digit code from your authenticator app."
              />
            )}
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setUseRecovery(!useRecovery);
                setCode('');
                setError(null);
              }}
            >
              {useRecovery ? 'Use the authenticator app instead' : 'Use a recovery code instead'}
            </button>
          </>
        )}
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : step === 'code' ? 'Verify and sign in' : 'Sign in'}
        </button>
        {step === 'code' ? (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setStep('password');
              setCode('');
              setError(null);
            }}
          >
            Back
          </button>
        ) : null}
      </form>
      <p className="muted">
        New to Anneal? <Link to="/signup">Create an account</Link>
      </p>
    </div>
  );
}
