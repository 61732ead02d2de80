import { ApiKey } from '../../modules/api-keys/entities/api-key.entity.js';
import { AuditEntry } from '../../modules/audit/entities/audit-entry.entity.js';
import { RecoveryCode } from '../../modules/auth/entities/recovery-code.entity.js';
import { Session } from '../../modules/auth/entities/session.entity.js';
import { EmailOutbox } from '../../modules/notifications/entities/email-outbox.entity.js';
import { Invite } from '../../modules/orgs/entities/invite.entity.js';
import { Membership } from '../../modules/orgs/entities/membership.entity.js';
import { Organization } from '../../modules/orgs/entities/organization.entity.js';
import { User } from '../../modules/users/entities/user.entity.js';

/** Every entity the API maps; the migrations must create exactly these (a test checks). */
export const ENTITIES = [User, Session, RecoveryCode, Organization, Membership, Invite, ApiKey, AuditEntry, EmailOutbox] as const;
