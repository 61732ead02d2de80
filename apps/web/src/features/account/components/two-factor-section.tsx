import { useMutation, useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useEffect, useState, type FormEvent } from 'react';
import { CopyButton } from '../../../components/copy-button.js';
import { ErrorMessage } from '../../../components/error-message.js';
import { Field } from '../../../components/field.js';
import { Notice } from '../../../components/status.js';
import { disableTwoFactor, enrollTwoFactor, verifyTwoFactor, type Me } from '../../auth/api/auth.api.js';
import { useApi } from '../../auth/hooks/use-session.js';

/** The otpauth URI as a QR code image (a data URL), drawn in the browser. */
export function QrCode({ value, label }: { value: string; label: string }) {
  const [dataUrl, setDataUrl] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(value, { errorCorrectionLevel: 'M', margin: 2, width: 220 })
      .then((url) => live && setDataUrl(url))
      .catch(() => live && setDataUrl(null));
    return () => {
      live = false;
    };
  }, [value]);
  return dataUrl ? <img className="qr" src={dataUrl} alt={label} width={220} height={220} /> : <div className="qr qr-placeholder" aria-hidden="true" />;
}

/** Turn two-factor authentication on (QR, code, recovery codes shown once) or off. */
export function TwoFactorSection({ me }: { me: Me }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const enroll = useMutation({ mutationFn: () => enrollTwoFactor(api) });
  const verify = useMutation({
    mutationFn: (value: string) => verifyTwoFactor(api, value),
    onSuccess: (result) => {
      setRecoveryCodes(result.recoveryCodes);
      enroll.reset();
      setCode('');
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const [disableCode, setDisableCode] = useState('');
  const disable = useMutation({
    mutationFn: (value: string) => disableTwoFactor(api, /^\d{6}$/.test(value) ? { totpCode: value } : { recoveryCode: value }),
    onSuccess: () => {
      setDisableCode('');
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });

  if (recoveryCodes) {
    return (
      <section className="card" aria-labelledby="twofa-heading">
        <h2 id="twofa-heading">Two-factor authentication is on</h2>
        <Notice tone="warning">
          Save these recovery codes now: this is the only time they are shown. Each one signs you in once if you lose your authenticator.
        </Notice>
        <ul className="recovery-codes" aria-label="Recovery codes">
          {recoveryCodes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <div className="row">
          <CopyButton text={recoveryCodes.join('\n')} label="Copy all codes" />
          <button type="button" onClick={() => setRecoveryCodes(null)}>
            I have saved them
          </button>
        </div>
      </section>
    );
  }

  if (me.twoFactorEnabled) {
    return (
      <section className="card" aria-labelledby="twofa-heading">
        <h2 id="twofa-heading">Two-factor authentication</h2>
        <p>
          <span className="badge badge-ok">On</span> Signing in asks for a code from your authenticator app.
        </p>
        <form
          className="inline-form"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            disable.mutate(disableCode.trim());
          }}
        >
          <Field label="Code to turn it off" hint="A current 6-digit code, or a recovery code." autoComplete="one-time-code" value={disableCode} onChange={(e) => setDisableCode(e.target.value)} required />
          <button type="submit" className="danger" disabled={disable.isPending || disableCode.trim() === ''}>
            {disable.isPending ? 'Turning off…' : 'Turn off two-factor'}
          </button>
        </form>
        <ErrorMessage error={disable.error} />
      </section>
    );
  }

  return (
    <section className="card" aria-labelledby="twofa-heading">
      <h2 id="twofa-heading">Two-factor authentication</h2>
      {!enroll.data ? (
        <>
          <p>
            <span className="badge badge-off">Off</span> Protect your account with a code from an authenticator app. Administrators must have it on.
          </p>
          <button type="button" onClick={() => enroll.mutate()} disabled={enroll.isPending}>
            {enroll.isPending ? 'Starting…' : 'Set up two-factor authentication'}
          </button>
          <ErrorMessage error={enroll.error} />
        </>
      ) : (
        <div className="enrol">
          <ol className="steps">
            <li>Scan this QR code with your authenticator app.</li>
            <li>Or enter the key by hand.</li>
            <li>Type the 6-digit code the app shows.</li>
          </ol>
          <div className="enrol-grid">
            <QrCode value={enroll.data.otpauthUri} label="QR code for your authenticator app" />
            <div>
              <p className="muted">Key for manual entry</p>
              <p>
                <code className="secret" data-testid="totp-secret">
                  {enroll.data.secret}
                </code>
              </p>
              <form
                onSubmit={(e: FormEvent) => {
                  e.preventDefault();
                  verify.mutate(code.replace(/\s/g, ''));
                }}
              >
                <Field label="6-digit code" inputMode="numeric" autoComplete="one-time-code" maxLength={7} required value={code} onChange={(e) => setCode(e.target.value)} />
                <ErrorMessage error={verify.error} />
                <div className="row">
                  <button type="submit" disabled={verify.isPending}>
                    {verify.isPending ? 'Checking…' : 'Verify and turn on'}
                  </button>
                  <button type="button" className="secondary" onClick={() => enroll.reset()}>
                    Cancel
                  </button>
                </div>
              </form>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
