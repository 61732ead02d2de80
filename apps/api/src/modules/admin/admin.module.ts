import { Module } from '@nestjs/common';
import { DisputesModule } from '../disputes/disputes.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { ModerationModule } from '../moderation/moderation.module.js';
import { NodesModule } from '../nodes/nodes.module.js';
import { AdminAuditService } from './admin-audit.service.js';
import { AdminDisputesService } from './admin-disputes.service.js';
import { AdminModerationService } from './admin-moderation.service.js';
import { AdminNodesService } from './admin-nodes.service.js';
import { AdminUsersService } from './admin-users.service.js';
import { AdminController } from './admin.controller.js';

/** /v1/admin: disputes, moderation review, account review, nodes, the audit log. */
@Module({
  imports: [DisputesModule, JobsModule, ModerationModule, NodesModule],
  controllers: [AdminController],
  providers: [AdminDisputesService, AdminModerationService, AdminUsersService, AdminNodesService, AdminAuditService],
})
export class AdminModule {}
