import { Accounts1795300000000 } from './1795300000000-accounts.js';
import { LedgerCore1795320000000 } from './1795320000000-ledger-core.js';
import { Billing1795320000001 } from './1795320000001-billing.js';
import { TopUpIdempotency1795320000002 } from './1795320000002-top-up-idempotency.js';
import { Nodes1795310000000 } from './1795310000000-nodes.js';
import { BenchmarksAndQuotes1795330000000 } from './1795330000000-benchmarks-and-quotes.js';
import { DatasetsAndModeration1795340000000 } from './1795340000000-datasets-and-moderation.js';
import { DatasetVerifiedEtag1795340000001 } from './1795340000001-dataset-verified-etag.js';
import { DatasetIdempotency1795340000002 } from './1795340000002-dataset-idempotency.js';

import { Jobs1795350000000 } from './1795350000000-jobs.js';
import { Privacy1795370000000 } from './1795370000000-privacy.js';
import { DisputesAndAdmin1795360000000 } from './1795360000000-disputes-and-admin.js';
import { NodeHeartbeatKeys1795400000000 } from './1795400000000-node-heartbeat-keys.js';
import { QuoteContents1795390000000 } from './1795390000000-quote-contents.js';
import { SchedulerIndexes1795410000000 } from './1795410000000-scheduler-indexes.js';
import { CloudAttemptNodes1795425000000 } from './1795425000000-cloud-attempt-nodes.js';

/** Every migration, in order. Once landed, a migration is never edited: changes are new ones. */
export const MIGRATIONS = [Accounts1795300000000, Nodes1795310000000, LedgerCore1795320000000, Billing1795320000001, TopUpIdempotency1795320000002, BenchmarksAndQuotes1795330000000, DatasetsAndModeration1795340000000, DatasetVerifiedEtag1795340000001, DatasetIdempotency1795340000002, Jobs1795350000000, DisputesAndAdmin1795360000000, Privacy1795370000000, QuoteContents1795390000000, NodeHeartbeatKeys1795400000000, SchedulerIndexes1795410000000, CloudAttemptNodes1795425000000] as const;
