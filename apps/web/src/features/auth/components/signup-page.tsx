import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { ApiError } from '../../../lib/api-error.js';
import { Link } from '../../../lib/router.js';
import { signup } from '../api/auth.api.js';
import { useApi } from '../hooks/use-session.js';

export function SignupPage({ onSignedIn }: { onSignedIn: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fieldError = (field: string) => (error instanceof ApiError ? error.fields.find((f) => f.field === field)?.message : undefined);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      api.setTokens(await signup(api, { name: name.trim(), email: email.trim(), password }));
      onSignedIn();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-card">
      <h1>Create your Anneal account</h1>
      <p className="muted">See the price and runtime of a fine-tuning job on every GPU before you submit it.</p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} error={fieldError('name')} autoFocus />
        <Field label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError('email')} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint="At least 10 characters."
          error={fieldError('password')}
        />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating account…' : 'Create account'}
        </button>
      </form>
      <p className="muted">
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </div>
  );
}
