import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthInvalidationService } from './auth-invalidation.service.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthRepository } from './auth.repository.js';
import { AuthService } from './auth.service.js';

/** Global so that every module that revokes or changes access can announce it (AuthInvalidationService). */
@Global()
@Module({
  controllers: [AuthController],
  providers: [AuthService, AuthRepository, AuthInvalidationService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService, AuthInvalidationService],
})
export class AuthModule {}
