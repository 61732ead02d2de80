import { ApiError, errorSentence } from '../lib/api-error.js';

/**
 * The sentence an error carries; never a stack. The API's validation sentence names the first three
 * fields, so the full list is shown only when there are more.
 */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (error === null || error === undefined) return null;
  const fields = error instanceof ApiError ? error.fields : [];
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  return (
    <div className="alert alert-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      <span>{errorSentence(error)}</span>
      {fields.length > 3 ? (
        <ul className="field-errors">
          {fields.map((f) => (
            <li key={`${f.field}:${f.message}`}>{f.message}</li>
          ))}
        </ul>
      ) : null}
      {requestId ? <small className="muted request-id">Reference {requestId}</small> : null}
    </div>
  );
}
