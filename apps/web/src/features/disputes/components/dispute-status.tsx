export function DisputeStatusBadge({ status, resolution }: { status: string; resolution?: string | null }) {
  if (status === 'resolved') return <span className={`badge ${resolution === 'rejected' ? 'badge-off' : 'badge-ok'}`}>resolved: {(resolution ?? '').replace(/_/g, ' ')}</span>;
  return <span className={`badge ${status === 'open' ? 'badge-warn' : ''}`}>{status}</span>;
}
