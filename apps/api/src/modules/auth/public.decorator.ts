import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'anneal:isPublic';

/** The route needs no token (sign-up, login, health, payment webhooks). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
