import { useMutation } from '@tanstack/react-query';
import { CopyButton } from '../../../components/copy-button.js';
import { ErrorMessage } from '../../../components/error-message.js';
import { Notice } from '../../../components/status.js';
import { formatDate } from '../../../lib/duration.js';
import { useApi } from '../../auth/hooks/use-session.js';
import { createJoinToken } from '../api/nodes.api.js';

/** A one-time join token and the exact `anneal-agent register` command that uses it. */
export function AddNode() {
  const api = useApi();
  const token = useMutation({ mutationFn: () => createJoinToken(api) });
  return (
    <section className="card" aria-labelledby="add-node-heading">
      <h2 id="add-node-heading">Add a node</h2>
      <p>
        Install <code>anneal-agent</code> on the GPU host, then run the command below there. It registers the host with its GPUs; the node appears in the
        list once its first heartbeat arrives.
      </p>
      {token.data ? (
        <>
          <code className="command" data-testid="join-command">
            {token.data.command}
          </code>
          <div className="row">
            <CopyButton text={token.data.command} label="Copy command" />
            <span className="muted">The token works once, until {formatDate(token.data.expiresAt)}.</span>
          </div>
          <Notice tone="warning">This token is shown only now. Change --price to the price per GPU-hour you want.</Notice>
        </>
      ) : null}
      <div className="row">
        <button type="button" onClick={() => token.mutate()} disabled={token.isPending}>
          {token.isPending ? 'Creating…' : token.data ? 'New join token' : 'Create join token'}
        </button>
      </div>
      <ErrorMessage error={token.error} />
    </section>
  );
}
