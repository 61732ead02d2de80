import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { UsersService } from './users.service.js';

@ApiTags('me')
@ApiBearerAuth()
@Controller('v1/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** The signed-in user, their organizations and roles, and the organization this request acts for. */
  @Get()
  me(@CurrentPrincipal() principal: Principal) {
    return this.users.describe(principal);
  }
}
