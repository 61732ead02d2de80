import { OutboxMessage } from '../outbox/outbox-message.entity.js';
import { Attempt } from '../../modules/jobs/entities/attempt.entity.js';
import { JobEvent } from '../../modules/jobs/entities/job-event.entity.js';
import { JobLog } from '../../modules/jobs/entities/job-log.entity.js';
import { JobMetric } from '../../modules/jobs/entities/job-metric.entity.js';
import { Job } from '../../modules/jobs/entities/job.entity.js';
import { ApiKey } from '../../modules/api-keys/entities/api-key.entity.js';
import { AuditEntry } from '../../modules/audit/entities/audit-entry.entity.js';
import { RecoveryCode } from '../../modules/auth/entities/recovery-code.entity.js';
import { Session } from '../../modules/auth/entities/session.entity.js';
import { EmailOutbox } from '../../modules/notifications/entities/email-outbox.entity.js';
import { Invite } from '../../modules/orgs/entities/invite.entity.js';
import { Membership } from '../../modules/orgs/entities/membership.entity.js';
import { Organization } from '../../modules/orgs/entities/organization.entity.js';
import { User } from '../../modules/users/entities/user.entity.js';
import { Invoice } from '../../modules/billing/entities/invoice.entity.js';
import { TopUp } from '../../modules/billing/entities/top-up.entity.js';
import { NodeJoinToken } from '../../modules/nodes/entities/node-join-token.entity.js';
import { NodeStateEvent } from '../../modules/nodes/entities/node-state-event.entity.js';
import { NodeTelemetry } from '../../modules/nodes/entities/node-telemetry.entity.js';
import { Node } from '../../modules/nodes/entities/node.entity.js';
import { BenchmarkAggregateRow } from '../../modules/benchmarks/entities/benchmark-aggregate.entity.js';
import { BenchmarkSampleReceipt } from '../../modules/benchmarks/entities/benchmark-sample-receipt.entity.js';
import { ProvisioningAggregateRow } from '../../modules/benchmarks/entities/provisioning-aggregate.entity.js';
import { Quote } from '../../modules/estimates/entities/quote.entity.js';
import { ProviderCredential } from '../../modules/provider-accounts/entities/provider-credential.entity.js';

/** Every entity the API maps; the migrations must create exactly these (a test checks). */
export const ENTITIES = [User, Session, RecoveryCode, Organization, Membership, Invite, ApiKey, AuditEntry, EmailOutbox, TopUp, Invoice, Node, NodeJoinToken, NodeStateEvent, NodeTelemetry, ProviderCredential, BenchmarkAggregateRow, ProvisioningAggregateRow, BenchmarkSampleReceipt, Quote, OutboxMessage, Job, Attempt, JobEvent, JobLog, JobMetric] as const;
