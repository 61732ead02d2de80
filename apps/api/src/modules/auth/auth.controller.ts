import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { AuthService } from './auth.service.js';
import { DisableTwoFactorDto, LoginDto, RecoveryCodesDto, RefreshDto, SignupDto, TokenPairDto, TwoFactorCodeDto, TwoFactorEnrolmentDto } from './dto/auth.dto.js';
import { ClientMeta, CurrentPrincipal, type Principal, type RequestMeta } from './principal.js';
import { Public } from './public.decorator.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { SessionOnly } from './scopes.js';

@ApiTags('auth')
@Controller('v1/auth')
@UseGuards(RateLimitGuard)
@SkipThrottle({ keys: true })
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('signup')
  @ApiOkResponse({ type: TokenPairDto })
  signup(@Body() body: SignupDto, @ClientMeta() meta: RequestMeta) {
    return this.auth.signup(body, meta);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  login(@Body() body: LoginDto, @ClientMeta() meta: RequestMeta) {
    return this.auth.login(body, meta);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  refresh(@Body() body: RefreshDto) {
    return this.auth.refresh(body.refreshToken);
  }

  @ApiBearerAuth()
  @SkipThrottle({ auth: true })
  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentPrincipal() principal: Principal, @ClientMeta() meta: RequestMeta) {
    await this.auth.logout(principal, meta);
  }

  @ApiBearerAuth()
  @SessionOnly()
  @Post('2fa/enroll')
  @HttpCode(200)
  @ApiOkResponse({ type: TwoFactorEnrolmentDto })
  enroll(@CurrentPrincipal() principal: Principal, @ClientMeta() meta: RequestMeta) {
    return this.auth.enrollTwoFactor(principal, meta);
  }

  @ApiBearerAuth()
  @SessionOnly()
  @Post('2fa/verify')
  @HttpCode(200)
  @ApiOkResponse({ type: RecoveryCodesDto })
  verify(@CurrentPrincipal() principal: Principal, @Body() body: TwoFactorCodeDto, @ClientMeta() meta: RequestMeta) {
    return this.auth.verifyTwoFactor(principal, body.code, meta);
  }

  @ApiBearerAuth()
  @SessionOnly()
  @Post('2fa/disable')
  @HttpCode(204)
  async disable(@CurrentPrincipal() principal: Principal, @Body() body: DisableTwoFactorDto, @ClientMeta() meta: RequestMeta) {
    await this.auth.disableTwoFactor(principal, body, meta);
  }
}
